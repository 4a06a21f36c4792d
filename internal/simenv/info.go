package simenv

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sort"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector/google/googlesim"
)

// Info is what `offboard sim` prints: where the simulators are, how to sign in, who works
// there, and a configuration pointing offboard at them.
type Info struct {
	BaseURLs    map[string]string `json:"base_urls"`
	Credentials map[string]string `json:"credentials"`
	People      []Person          `json:"people"`
	Config      string            `json:"config"`
}

// Info describes the environment served at base (e.g. http://127.0.0.1:8089).
func (e *Env) Info(base string) Info {
	base = strings.TrimSuffix(base, "/")
	urls := map[string]string{"jira": base + "/jira", "workday": base + "/workday"}
	for _, s := range e.systems {
		urls[s.name] = base + s.prefix
	}
	report := urls["workday"] + e.Workday.ReportPath() + "?format=json"
	people := e.People()
	sort.Slice(people, func(i, j int) bool { return people[i].WorkerID < people[j].WorkerID })
	return Info{
		BaseURLs: urls,
		Credentials: map[string]string{
			"okta_token":        OktaToken,
			"jira_email":        JiraEmail,
			"jira_token":        JiraToken,
			"jira_basic_auth":   JiraEmail + ":" + JiraToken,
			"workday_username":  WorkdayUser,
			"workday_password":  WorkdayPassword,
			"workday_report":    report,
			"webhook_secret":    WebhookSecret,
			"aws_access_key_id": AWSAccessKeyID,
			"aws_secret_key":    AWSSecretKey,
			"dockerhub_org":     DockerHubOrg,
			"dockerhub_token":   DockerHubToken,
			"jenkins_user":      JenkinsUser,
			"jenkins_token":     JenkinsToken,
			"google_admin":      GoogleAdmin,
			"entra_tenant_id":   EntraTenant,
			"entra_client_id":   EntraClientID,
			"entra_secret":      EntraSecret,
			"slack_token":       SlackToken,
			"admin_tool_secret": ToolSecret,
		},
		People: people,
		Config: e.config(urls, report),
	}
}

// config is an offboard configuration for the simulated company.
func (e *Env) config(urls map[string]string, report string) string {
	var b strings.Builder
	b.WriteString("store: sqlite://offboard.db\nconnectors:\n")
	fmt.Fprintf(&b, "  okta:\n    base_url: %s\n    token: %s\n", urls["okta"], OktaToken)
	fmt.Fprintf(&b, "  github:\n    base_url: %s\n    org: %s\n    token: %s\n", urls["github"], GitHubOrg, GitHubToken)
	fmt.Fprintf(&b, "  aws:\n    endpoint: %s\n    access_key_id: %s\n    secret_access_key: %s\n    match_tag: email\n", urls["aws"], AWSAccessKeyID, AWSSecretKey)
	fmt.Fprintf(&b, "  dockerhub:\n    base_url: %s\n    org: %s\n    token: %s\n", urls["dockerhub"], DockerHubOrg, DockerHubToken)
	fmt.Fprintf(&b, "  jenkins:\n    base_url: %s\n    username: %s\n    api_token: %s\n    mode: delete\n", urls["jenkins"], JenkinsUser, JenkinsToken)
	b.WriteString("  scim:\n")
	for _, app := range scimApps {
		fmt.Fprintf(&b, "    - name: %s\n      base_url: %s\n      token: %s\n", app.name, urls[app.name], SCIMTokenPrefix+app.name)
	}
	// Compacted, the key JSON is one line (its PEM newlines are escaped), which YAML takes
	// single-quoted.
	var key bytes.Buffer
	must(json.Compact(&key, e.googleSA.KeyJSON(googlesim.TokenURL(urls["google"]))))
	fmt.Fprintf(&b, "  google:\n    credentials_json: '%s'\n    admin_email: %s\n    base_url: %s\n    token_url: %s\n",
		key.String(), GoogleAdmin, urls["google"], googlesim.TokenURL(urls["google"]))
	fmt.Fprintf(&b, "  entra:\n    tenant_id: %s\n    client_id: %s\n    client_secret: %s\n    base_url: %s/v1.0\n    token_url: %s/%s/oauth2/v2.0/token\n",
		EntraTenant, EntraClientID, EntraSecret, urls["entra"], urls["entra"], EntraTenant)
	fmt.Fprintf(&b, "  webhook:\n    - name: admin-tool\n      url: %s/\n      secret: %s\n", urls["admin-tool"], ToolSecret)
	fmt.Fprintf(&b, "  slack:\n    base_url: %s/api\n    scim_url: %s/scim/v2\n    token: %s\n    enterprise_grid: true\n", urls["slack"], urls["slack"], SlackToken)
	fmt.Fprintf(&b, `ticket:
  jira:
    base_url: %s
    email: %s
    token: %s
    project: %s
    issue_type: Task
    done_transition: Done
hr:
  workday:
    report_url: %s
    username: %s
    password: %s
    poll_interval: 10s
    fields:
      worker_id: Employee_ID
      email: Work_Email
      name: Worker
      manager_email: Manager_Email
      termination_date: Termination_Date
      involuntary: Involuntary
      handles:
`, urls["jira"], JiraEmail, JiraToken, JiraProject, report, WorkdayUser, WorkdayPassword)
	for _, system := range []string{"dockerhub", "jenkins"} {
		fmt.Fprintf(&b, "        %s: %s\n", system, HandleColumn(system))
	}
	fmt.Fprintf(&b, "  webhook:\n    secret: %s\nserver:\n  listen: 127.0.0.1:8080\n", WebhookSecret)
	return b.String()
}

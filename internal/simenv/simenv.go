// Package simenv is the demo company: every simulator mounted under one server (Okta under
// /okta, GitHub under /github, Jira under /jira, Workday under /workday, and so on) and seeded
// with the same people, for `offboard sim`, `offboard demo`, end-to-end tests and benchmarks.
package simenv

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector/aws/awssim"
	"github.com/offboard-dev/offboard/internal/connector/dockerhub/dockerhubsim"
	"github.com/offboard-dev/offboard/internal/connector/entra/entrasim"
	"github.com/offboard-dev/offboard/internal/connector/github/githubsim"
	"github.com/offboard-dev/offboard/internal/connector/google/googlesim"
	"github.com/offboard-dev/offboard/internal/connector/jenkins/jenkinssim"
	"github.com/offboard-dev/offboard/internal/connector/okta/oktasim"
	"github.com/offboard-dev/offboard/internal/connector/scim/scimsim"
	"github.com/offboard-dev/offboard/internal/connector/slack/slacksim"
	"github.com/offboard-dev/offboard/internal/connector/webhook/webhooksim"
	"github.com/offboard-dev/offboard/internal/hr/workdaysim"
	"github.com/offboard-dev/offboard/internal/sim"
	"github.com/offboard-dev/offboard/internal/ticket/jira/jirasim"
)

// Well-known demo credentials. The simulators only listen on loopback.
const (
	OktaToken       = "okta-sim-token-7f3c9a2e51d4"
	JiraEmail       = "secops-bot@acme.example"
	JiraToken       = "jira-sim-token-4b8e1d6c03a9"
	JiraProject     = "SEC"
	WorkdayUser     = "ISU_offboard"
	WorkdayPassword = "workday-sim-password-2c7d"
	WebhookSecret   = "demo-webhook-secret-5e0f9b13c8a7"
	DockerHubOrg    = "acme"
	DockerHubToken  = "dckr_oat_sim-5a1e93c07b2d"
	JenkinsUser     = "offboard-admin"
	JenkinsToken    = "jenkins-sim-token-11f3c8d2e7a5"
	GoogleAdmin     = "it-admin@acme.example"
	GoogleSAEmail   = "offboard@acme-it.iam.gserviceaccount.com"
	EntraTenant     = "5e6f7a80-0000-4000-8000-00000000a0c0"
	EntraClientID   = "7c3b2d4e-0000-4000-8000-0000000000b1"
	EntraSecret     = "entra-sim-secret-3d9a61f0c2b4"
	SlackToken      = "xoxp-sim-7e41c0d29b3a"
	SCIMTokenPrefix = "scim-sim-token-"
	ToolSecret      = "admin-tool-sim-secret-48c1e2b7"
	GitHubOrg       = "acme"
	GitHubToken     = "ghp_simToken4d2f8a1c6e3b9d7f5a2c"
	AWSAccessKeyID  = "AKIASIMOFFBOARD7Q2Z4"
	AWSSecretKey    = "aws-sim-secret-0b6e2f9c41d8a73e5f10"
)

// Options tune the simulated company.
type Options struct {
	// Latency is added to every simulated API call.
	Latency time.Duration
	// OktaPerMinute is Okta's per-minute budget; 0 means 600 (a typical org's per-endpoint
	// limit).
	OktaPerMinute int
}

// Env is the running simulated company.
type Env struct {
	Okta      *oktasim.Server
	GitHub    *githubsim.Server
	AWS       *awssim.Server
	Jira      *jirasim.Server
	Workday   *workdaysim.Server
	DockerHub *dockerhubsim.Server
	Jenkins   *jenkinssim.Server
	Google    *googlesim.Server
	Entra     *entrasim.Server
	Slack     *slacksim.Server
	// SCIM holds one simulated SCIM app per name (zoom, figma).
	SCIM map[string]*scimsim.Server
	// Tool is the company's own admin tool, reached over offboard's webhook protocol: the
	// example server from examples/webhook-tool.
	Tool *webhooksim.Server

	// googleSA is the service account the Google simulator trusts; Info writes its key file
	// with the simulator's token URL.
	googleSA *googlesim.ServiceAccount

	// systems lists the mounted connector simulators in the order plans show them.
	systems []system
	people  []Person
	handler http.Handler
}

// system is one simulated system the demo company's people hold access in.
type system struct {
	// name is the system's name in plans, and prefix where its simulator is mounted.
	name, prefix string
	handler      http.Handler
	faults       *sim.Faults
	// holdings lists what a person still holds there, read from the simulator's state.
	holdings func(p Person) []string
}

// New builds and seeds every simulator.
func New(o Options) *Env {
	if o.OktaPerMinute == 0 {
		o.OktaPerMinute = 600
	}
	sa, err := googlesim.NewServiceAccount(GoogleSAEmail)
	must(err)
	e := &Env{
		googleSA:  sa,
		Google:    googlesim.New(googlesim.Options{ServiceAccount: sa}),
		Entra:     entrasim.New(entrasim.Options{TenantID: EntraTenant, ClientID: EntraClientID, ClientSecret: EntraSecret}),
		Slack:     slacksim.New(slacksim.Options{Token: SlackToken, EnterpriseGrid: true}),
		SCIM:      map[string]*scimsim.Server{},
		Tool:      webhooksim.New(webhooksim.Options{Secret: ToolSecret}),
		Okta:      oktasim.New(oktasim.Options{Token: OktaToken, PerMinute: o.OktaPerMinute}),
		GitHub:    githubsim.New(githubsim.Options{Org: GitHubOrg, Token: GitHubToken, SAML: true}),
		AWS:       awssim.New(awssim.Options{AccessKeyID: AWSAccessKeyID, SecretAccessKey: AWSSecretKey}),
		Jira:      jirasim.New(jirasim.Options{Email: JiraEmail, Token: JiraToken, Projects: []string{JiraProject}}),
		Workday:   workdaysim.New(workdaysim.Options{Username: WorkdayUser, Password: WorkdayPassword}),
		DockerHub: dockerhubsim.New(dockerhubsim.Options{Org: DockerHubOrg, Token: DockerHubToken}),
		Jenkins:   jenkinssim.New(jenkinssim.Options{AdminUser: JenkinsUser, AdminToken: JenkinsToken}),
	}
	e.systems = []system{
		{name: "okta", prefix: "/okta", handler: e.Okta, faults: e.Okta.Faults, holdings: e.oktaHoldings},
		{name: "github", prefix: "/github", handler: e.GitHub, faults: e.GitHub.Faults,
			holdings: func(p Person) []string { return e.GitHub.Holdings(p.Identities["github"]) }},
		{name: "aws", prefix: "/aws", handler: e.AWS, faults: e.AWS.Faults,
			holdings: func(p Person) []string { return e.AWS.Holdings(p.Identities["aws"]) }},
		{name: "dockerhub", prefix: "/dockerhub", handler: e.DockerHub, faults: e.DockerHub.Faults,
			holdings: func(p Person) []string { return e.DockerHub.Holdings(p.Identities["dockerhub"]) }},
		{name: "jenkins", prefix: "/jenkins", handler: e.Jenkins, faults: e.Jenkins.Faults,
			holdings: func(p Person) []string { return e.Jenkins.Holdings(p.Identities["jenkins"]) }},
		{name: "google", prefix: "/google", handler: e.Google, faults: e.Google.Faults,
			holdings: func(p Person) []string { return e.Google.Holdings(p.Email) }},
		{name: "entra", prefix: "/graph", handler: e.Entra, faults: e.Entra.Faults,
			holdings: func(p Person) []string { return e.Entra.Holdings(p.Email) }},
		{name: "slack", prefix: "/slack", handler: e.Slack, faults: e.Slack.Faults,
			holdings: func(p Person) []string { return e.Slack.Holdings(p.Email) }},
		{name: "admin-tool", prefix: "/webhook-example", handler: e.Tool, faults: e.Tool.Faults,
			holdings: func(p Person) []string { return e.Tool.Holdings(p.Email) }},
	}
	for _, app := range scimApps {
		s := scimsim.New(scimsim.Options{Name: app.name, Token: SCIMTokenPrefix + app.name})
		e.SCIM[app.name] = s
		e.systems = append(e.systems, system{name: app.name, prefix: "/scim/" + app.name, handler: s, faults: s.Faults,
			holdings: func(p Person) []string { return s.Holdings(p.Email) }})
	}
	mux := http.NewServeMux()
	for _, s := range e.systems {
		s.faults.SetLatency(o.Latency)
		mux.Handle(s.prefix+"/", http.StripPrefix(s.prefix, s.handler))
	}
	e.Jira.Faults.SetLatency(o.Latency)
	e.Workday.Faults.SetLatency(o.Latency)
	mux.Handle("/jira/", http.StripPrefix("/jira", e.Jira))
	mux.Handle("/workday/", http.StripPrefix("/workday", e.Workday))
	e.seed()
	e.handler = mux
	return e
}

// Handler serves every simulator under its prefix.
func (e *Env) Handler() http.Handler { return e.handler }

// Systems lists the simulated systems people hold access in, in the order plans show them.
func (e *Env) Systems() []string {
	out := make([]string, len(e.systems))
	for i, s := range e.systems {
		out[i] = s.name
	}
	return out
}

// People returns the seeded people.
func (e *Env) People() []Person { return append([]Person(nil), e.people...) }

// Person returns the seeded person with the worker ID, or a zero Person.
func (e *Env) Person(workerID string) Person {
	for _, p := range e.people {
		if p.WorkerID == workerID {
			return p
		}
	}
	return Person{}
}

// Holdings reads every simulator's own state and lists, per system, what the worker still
// holds there; a fully offboarded person has an empty list everywhere.
func (e *Env) Holdings(workerID string) map[string][]string {
	p := e.Person(workerID)
	out := make(map[string][]string, len(e.systems))
	for _, s := range e.systems {
		out[s.name] = s.holdings(p)
	}
	return out
}

// Terminate adds a termination row for the worker to the Workday report: an involuntary
// termination effective on the day of at, so it takes effect at once. The row carries the
// person's handles in systems where they are not the email.
func (e *Env) Terminate(workerID string, at time.Time) {
	p := e.Person(workerID)
	row := map[string]any{
		"Employee_ID":      p.WorkerID,
		"Worker":           p.Name,
		"Work_Email":       p.Email,
		"Manager_Email":    p.Manager,
		"Termination_Date": at.UTC().Format("2006-01-02"),
		"Involuntary":      "1",
	}
	for system, v := range p.Identities {
		if system != "okta" {
			row[HandleColumn(system)] = v
		}
	}
	e.Workday.AddRow(row)
}

// HandleColumn is the Workday report's column holding people's handles in system.
func HandleColumn(system string) string { return "Handle_" + system }

// SetHandle gives a worker a handle in a system, carried by the Workday report; the demo uses
// it for logins it creates on real database servers.
func (e *Env) SetHandle(workerID, system, handle string) {
	for _, p := range e.people {
		if p.WorkerID == workerID {
			p.Identities[system] = handle
		}
	}
}

// TicketText returns a ticket's summary, status, labels and comments as plain text.
func (e *Env) TicketText(key string) string {
	is, ok := e.Jira.Issue(key)
	if !ok {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q — %s, labels %s, %d comments, %d attachments\n", key, is.Summary, is.Status, strings.Join(is.Labels, ","), len(is.Comments), len(is.Attachments))
	return b.String()
}

// Package simenv is the demo company: every simulator mounted under one server (Okta under
// /okta, Jira under /jira, Workday under /workday) and seeded with the same people, for
// `offboard sim`, `offboard demo`, end-to-end tests and benchmarks.
package simenv

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector/okta/oktasim"
	"github.com/offboard-dev/offboard/internal/hr/workdaysim"
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
	Okta    *oktasim.Server
	Jira    *jirasim.Server
	Workday *workdaysim.Server

	people  []Person
	handler http.Handler
}

// New builds and seeds every simulator.
func New(o Options) *Env {
	if o.OktaPerMinute == 0 {
		o.OktaPerMinute = 600
	}
	e := &Env{
		Okta:    oktasim.New(oktasim.Options{Token: OktaToken, PerMinute: o.OktaPerMinute}),
		Jira:    jirasim.New(jirasim.Options{Email: JiraEmail, Token: JiraToken, Projects: []string{JiraProject}}),
		Workday: workdaysim.New(workdaysim.Options{Username: WorkdayUser, Password: WorkdayPassword}),
	}
	for _, f := range []interface{ SetLatency(time.Duration) }{e.Okta.Faults, e.Jira.Faults, e.Workday.Faults} {
		f.SetLatency(o.Latency)
	}
	e.seed()
	mux := http.NewServeMux()
	mux.Handle("/okta/", http.StripPrefix("/okta", e.Okta))
	mux.Handle("/jira/", http.StripPrefix("/jira", e.Jira))
	mux.Handle("/workday/", http.StripPrefix("/workday", e.Workday))
	e.handler = mux
	return e
}

// Handler serves every simulator under its prefix.
func (e *Env) Handler() http.Handler { return e.handler }

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

// Terminate adds a termination row for the worker to the Workday report: an involuntary
// termination effective on the day of at, so it takes effect at once.
func (e *Env) Terminate(workerID string, at time.Time) {
	p := e.Person(workerID)
	e.Workday.AddRow(map[string]any{
		"Employee_ID":      p.WorkerID,
		"Worker":           p.Name,
		"Work_Email":       p.Email,
		"Manager_Email":    p.Manager,
		"Termination_Date": at.UTC().Format("2006-01-02"),
		"Involuntary":      "1",
	})
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
	urls := map[string]string{"okta": base + "/okta", "jira": base + "/jira", "workday": base + "/workday"}
	report := urls["workday"] + e.Workday.ReportPath() + "?format=json"
	people := e.People()
	sort.Slice(people, func(i, j int) bool { return people[i].WorkerID < people[j].WorkerID })
	return Info{
		BaseURLs: urls,
		Credentials: map[string]string{
			"okta_token":       OktaToken,
			"jira_email":       JiraEmail,
			"jira_token":       JiraToken,
			"jira_basic_auth":  JiraEmail + ":" + JiraToken,
			"workday_username": WorkdayUser,
			"workday_password": WorkdayPassword,
			"workday_report":   report,
			"webhook_secret":   WebhookSecret,
		},
		People: people,
		Config: fmt.Sprintf(configTemplate, urls["okta"], OktaToken, urls["jira"], JiraEmail, JiraToken, JiraProject, report, WorkdayUser, WorkdayPassword, WebhookSecret),
	}
}

const configTemplate = `store: sqlite://offboard.db
connectors:
  okta:
    base_url: %s
    token: %s
ticket:
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
    fields: {worker_id: Employee_ID, email: Work_Email, name: Worker, manager_email: Manager_Email, termination_date: Termination_Date, involuntary: Involuntary}
  webhook:
    secret: %s
server:
  listen: 127.0.0.1:8080
`

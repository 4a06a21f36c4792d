// Package config loads offboard's configuration: strict YAML in which unknown keys and wrong
// types are errors, every problem is reported at once with its path, any string may refer to
// the environment as ${NAME}, and every secret may instead be read from a file.
//
// Secrets are held as secret.Value, so a configuration printed or logged by mistake shows
// "[redacted]" in their place, and no problem message ever contains a secret's value.
//
// URLs may use http, which the simulators need; production systems should be reached over
// https, and every vendor offboard talks to requires it.
package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	// The binary must load IANA zones on machines without zoneinfo (distroless and scratch
	// images), or a Workday time zone that validated on one host would fail on another.
	_ "time/tzdata"

	"github.com/offboard-dev/offboard/internal/secret"
)

// Defaults for settings that may be omitted.
const (
	DefaultStore          = "sqlite://offboard.db"
	DefaultListen         = "127.0.0.1:8080"
	DefaultPollInterval   = 5 * time.Minute
	DefaultJiraIssueType  = "Task"
	DefaultDoneTransition = "Done"
)

// MinPollInterval is the shortest Workday poll interval accepted. Every poll reads the whole
// report, which Workday builds afresh and which can take tens of seconds on a large tenant;
// polling faster would overlap polls and load a tenant that publishes no rate limit, for
// latency nobody needs: terminations are effective-dated, usually days ahead, and a walk-out
// comes through the webhook, the CLI or the API.
const MinPollInterval = 10 * time.Second

// Config is offboard's whole configuration. Sections that are pointers are optional; nil means
// the section is absent and that part of offboard is off.
type Config struct {
	// Store is where cases, steps, HR events and the audit log live: sqlite://<path> (the
	// default, sqlite://offboard.db; a relative path is relative to the working directory) or
	// postgres://user@host:5432/db for several replicas.
	Store      string     `yaml:"store"`
	Connectors Connectors `yaml:"connectors"`
	Ticket     Ticket     `yaml:"ticket"`
	HR         HR         `yaml:"hr"`
	Server     Server     `yaml:"server"`
}

// Ticket configures the deprovisioning ticket.
type Ticket struct {
	Jira *Jira `yaml:"jira"`
}

// Jira configures Jira Cloud tickets.
type Jira struct {
	BaseURL string `yaml:"base_url"`
	// Email and Token are the bot account's address and API token (HTTP Basic).
	Email string       `yaml:"email"`
	Token secret.Value `yaml:"token"`
	// Project is the project key, e.g. SEC.
	Project string `yaml:"project"`
	// IssueType defaults to Task.
	IssueType string `yaml:"issue_type"`
	// DoneTransition is the transition (by name) taken when every step is verified, and only
	// then; it defaults to Done.
	DoneTransition string `yaml:"done_transition"`
}

// HR configures where terminations come from.
type HR struct {
	Workday *Workday `yaml:"workday"`
	Webhook *Webhook `yaml:"webhook"`
}

// Workday configures the Workday RaaS poller.
type Workday struct {
	// ReportURL is the report's RaaS URL, prompts included.
	ReportURL string `yaml:"report_url"`
	// Username and Password are the Integration System User's (HTTP Basic).
	Username string       `yaml:"username"`
	Password secret.Value `yaml:"password"`
	// PollInterval defaults to 5m and is at least MinPollInterval.
	PollInterval time.Duration `yaml:"poll_interval"`
	// TimeZone (IANA) is the zone of report dates that carry no offset; it defaults to UTC.
	TimeZone string        `yaml:"time_zone"`
	Fields   WorkdayFields `yaml:"fields"`

	loc *time.Location // set by Parse
}

// Location returns TimeZone loaded, or UTC when it is empty. Parse has checked that it loads;
// for a Workday built in code with a bad zone it returns UTC.
func (w *Workday) Location() *time.Location {
	if w.loc != nil {
		return w.loc
	}
	if loc, err := time.LoadLocation(w.TimeZone); err == nil && w.TimeZone != "Local" {
		return loc
	}
	return time.UTC
}

// WorkdayFields names the report's columns (their aliases, which are the JSON keys). WorkerID
// and TerminationDate are required, because a guessed column would misread every row; the
// others, when empty, take the poller's defaults.
type WorkdayFields struct {
	WorkerID        string `yaml:"worker_id"`
	Email           string `yaml:"email"`
	Name            string `yaml:"name"`
	ManagerEmail    string `yaml:"manager_email"`
	TerminationDate string `yaml:"termination_date"`
	Involuntary     string `yaml:"involuntary"`
	Rescinded       string `yaml:"rescinded"`
	// Reason is the column with the termination reason, copied into the case and the ticket.
	Reason string `yaml:"reason"`
	// Handles maps a system name to the column holding the person's identity in it, for
	// systems where that is not the work email, e.g. {github: GitHub_Username}.
	Handles map[string]string `yaml:"handles"`
}

// Webhook configures the signed HR webhook (POST /v1/hr/events).
type Webhook struct {
	// Secret is the HMAC key requests are signed with.
	Secret secret.Value `yaml:"secret"`
	// PreviousSecret is also accepted while senders move to a new Secret.
	PreviousSecret secret.Value `yaml:"previous_secret"`
}

// Server configures the HTTP API.
type Server struct {
	// Listen is host:port; it defaults to 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// APIToken, when set, is required as "Authorization: Bearer <token>" on /v1/cases*.
	APIToken secret.Value `yaml:"api_token"`
}

// Options adjust Parse.
type Options struct {
	// LookupEnv resolves ${NAME}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// BaseDir is the directory relative *_file paths are resolved against (Load uses the
	// configuration file's directory); empty means the working directory.
	BaseDir string
}

// Load reads and parses the configuration file at path, resolving ${NAME} from the process
// environment and relative *_file paths from the file's directory. When the configuration is
// invalid the error wraps Problems (use errors.As) listing every problem.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	cfg, err := Parse(data, Options{LookupEnv: os.LookupEnv, BaseDir: filepath.Dir(path)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Secrets returns the plain value of every secret in the configuration (including a password
// in a PostgreSQL store URL), for a secret.Redactor.
func (c *Config) Secrets() []string {
	var out []string
	collectSecrets(reflect.ValueOf(c).Elem(), &out)
	out = append(out, dsnPasswords(c.Store)...)
	for _, db := range append(append([]DatabaseRole(nil), c.Connectors.Postgres...), c.Connectors.MySQL...) {
		out = append(out, dsnPasswords(db.DSN.Reveal())...)
	}
	return out
}

// dsnPasswords returns the passwords in a database connection string: a URL's user password
// or password= parameter, or a MySQL DSN's user:password@ prefix.
func dsnPasswords(dsn string) []string {
	var out []string
	if u, err := url.Parse(dsn); err == nil && strings.Contains(dsn, "://") {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
		if p := u.Query().Get("password"); p != "" {
			out = append(out, p)
		}
		return out
	}
	if userinfo, _, ok := strings.Cut(dsn, "@"); ok {
		if _, p, ok := strings.Cut(userinfo, ":"); ok && p != "" {
			out = append(out, p)
		}
	}
	return out
}

// collectSecrets walks the configuration's structs, so a section added later has its secrets
// collected without anyone remembering to list them.
func collectSecrets(v reflect.Value, out *[]string) {
	switch {
	case v.Type() == secretType:
		if s := v.Interface().(secret.Value); !s.IsZero() {
			*out = append(*out, s.Reveal())
		}
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			collectSecrets(v.Elem(), out)
		}
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			collectSecrets(v.Index(i), out)
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				collectSecrets(v.Field(i), out)
			}
		}
	}
}

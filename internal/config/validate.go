package config

import (
	"net"
	"net/mail"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/secret"
)

// minChosenSecret is the shortest webhook secret or API token accepted. These are secrets the
// operator picks (unlike vendor-issued tokens), and a short one can be guessed offline from a
// single signed request.
const minChosenSecret = 16

// oktaMaxConcurrency is Okta's limit on concurrent requests per org.
const oktaMaxConcurrency = 75

// validate checks the decoded configuration, skipping settings that already have a problem.
func (d *decoder) validate(c *Config) {
	d.checkStore("store", c.Store)

	if !anySection(reflect.ValueOf(c.Connectors)) && !d.badUnder("connectors") {
		d.problem("connectors", d.lineOf("connectors"), "no system is configured; add at least one (%s)", strings.Join(sectionNames(reflect.TypeOf(c.Connectors)), ", "))
	}
	d.validateConnectors(&c.Connectors)

	if j := c.Ticket.Jira; j != nil {
		d.checkURL("ticket.jira.base_url", j.BaseURL)
		d.checkEmail("ticket.jira.email", j.Email)
		d.requireSecret("ticket.jira.token", j.Token)
		if strings.TrimSpace(j.Project) == "" {
			d.invalid("ticket.jira.project", "required (the project key, e.g. SEC)")
		} else if strings.ContainsAny(j.Project, " \t") {
			d.invalid("ticket.jira.project", "must be a project key such as SEC, without spaces")
		}
	}

	if w := c.HR.Workday; w != nil {
		d.checkURL("hr.workday.report_url", w.ReportURL)
		if strings.TrimSpace(w.Username) == "" {
			d.invalid("hr.workday.username", "required (the Integration System User)")
		}
		d.requireSecret("hr.workday.password", w.Password)
		if _, present := d.lines["hr.workday.poll_interval"]; present && w.PollInterval < MinPollInterval {
			d.invalid("hr.workday.poll_interval", "must be at least %s: every poll reads the whole report", MinPollInterval)
		}
		d.checkZone(w)
		if w.Fields.WorkerID == "" {
			d.invalid("hr.workday.fields.worker_id", "required (the report column with the worker ID, e.g. Employee_ID)")
		}
		if w.Fields.TerminationDate == "" {
			d.invalid("hr.workday.fields.termination_date", "required (the report column with the termination date, e.g. Termination_Date)")
		}
	}

	if h := c.HR.Webhook; h != nil {
		d.requireSecret("hr.webhook.secret", h.Secret)
		d.checkChosenSecret("hr.webhook.secret", h.Secret)
		d.checkChosenSecret("hr.webhook.previous_secret", h.PreviousSecret)
	}

	if c.Server.Listen != "" {
		d.checkListen("server.listen", c.Server.Listen)
		// The API names who is being offboarded and opens cases; reachable from other
		// machines, it must not be open to anyone who can connect.
		if host, _, err := net.SplitHostPort(c.Server.Listen); err == nil && !loopback(host) && c.Server.APIToken.IsZero() {
			d.invalid("server.api_token", "required when server.listen (%s) is reachable from other machines (set api_token or api_token_file, or listen on 127.0.0.1)", quote(c.Server.Listen))
		}
	}
	d.checkChosenSecret("server.api_token", c.Server.APIToken)
}

// badUnder reports whether path or a setting under it already has a problem, so a section
// that failed to decode is not also reported as missing.
func (d *decoder) badUnder(path string) bool {
	for p := range d.bad {
		if p == path || strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

// loopback reports whether a host (to listen on, or to reach) is this machine only.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// applyDefaults fills what was omitted. It runs after validation, so the defaults themselves
// are never reported as problems.
func (c *Config) applyDefaults() {
	if c.Store == "" {
		c.Store = DefaultStore
	}
	if j := c.Ticket.Jira; j != nil {
		if j.IssueType == "" {
			j.IssueType = DefaultJiraIssueType
		}
		if j.DoneTransition == "" {
			j.DoneTransition = DefaultDoneTransition
		}
	}
	if w := c.HR.Workday; w != nil {
		if w.PollInterval == 0 {
			w.PollInterval = DefaultPollInterval
		}
		if w.TimeZone == "" {
			w.TimeZone = "UTC"
			w.loc = time.UTC
		}
	}
	if c.Server.Listen == "" {
		c.Server.Listen = DefaultListen
	}
}

// invalid reports a problem with a setting unless it already has one.
func (d *decoder) invalid(path, format string, args ...any) {
	if d.bad[path] {
		return
	}
	d.problem(path, d.lineOf(path), format, args...)
}

// lineOf returns the line of path, or of its nearest parent present in the file.
func (d *decoder) lineOf(path string) int {
	for path != "" {
		if line, ok := d.lines[path]; ok {
			return line
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func (d *decoder) requireSecret(path string, v secret.Value) {
	if v.IsZero() && !d.bad[path+fileSuffix] {
		key := path[strings.LastIndexByte(path, '.')+1:]
		d.invalid(path, "required (set %s or %s)", key, key+fileSuffix)
	}
}

func (d *decoder) checkChosenSecret(path string, v secret.Value) {
	if !v.IsZero() && len(v.Reveal()) < minChosenSecret {
		d.invalid(path, "is shorter than %d characters; generate one with: openssl rand -hex 32", minChosenSecret)
	}
}

// checkURL requires an absolute http or https URL. The value is not quoted back: a report
// URL's query can carry prompts an operator considers private.
func (d *decoder) checkURL(path, s string) {
	if s == "" {
		d.invalid(path, "required")
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		d.invalid(path, "is not a valid URL")
	case u.Scheme == "":
		d.invalid(path, "must be an absolute URL, starting with https://")
	case u.Scheme != "http" && u.Scheme != "https":
		d.invalid(path, "must use https (or http, for a simulator), not %s", quote(u.Scheme))
	case u.Host == "":
		d.invalid(path, "must name a host")
	case u.Scheme == "http" && !loopback(u.Hostname()):
		// Credentials would cross the network in clear, and answers could be altered on
		// the way (a webhook tool's plan names the accounts offboard then disables).
		d.invalid(path, "must use https; http is accepted only for a loopback address (a simulator, or a local TLS-terminating proxy)")
	case u.User != nil:
		d.invalid(path, "must not carry a user name or password; use the credential settings")
	}
}

func (d *decoder) checkEmail(path, s string) {
	if s == "" {
		d.invalid(path, "required")
		return
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
		d.invalid(path, "%s is not an email address", quote(s))
	}
}

func (d *decoder) checkListen(path, s string) {
	_, port, err := net.SplitHostPort(s)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		d.invalid(path, "%s is not host:port (e.g. 127.0.0.1:8080, or :8080 for every interface)", quote(s))
	}
}

func (d *decoder) checkZone(w *Workday) {
	const path = "hr.workday.time_zone"
	switch w.TimeZone {
	case "":
		return
	case "Local":
		d.invalid(path, "Local depends on the machine; name an IANA zone such as America/New_York or UTC")
		return
	}
	loc, err := time.LoadLocation(w.TimeZone)
	if err != nil {
		d.invalid(path, "%s is not an IANA time zone (e.g. America/New_York, Europe/Berlin, UTC)", quote(w.TimeZone))
		return
	}
	w.loc = loc
}

// checkStore accepts sqlite:<path>, sqlite://<path> and postgres:// or postgresql:// URLs. A
// PostgreSQL URL is never quoted back: it may hold a password.
func (d *decoder) checkStore(path, s string) {
	switch {
	case s == "":
		// Omitted: the default applies.
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			d.invalid(path, "is not a valid PostgreSQL URL (postgres://user@host:5432/db)")
		}
	case strings.HasPrefix(s, "sqlite:"):
		rest := strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "//")
		file, query, _ := strings.Cut(rest, "?")
		switch {
		case file == "":
			d.invalid(path, "names no database file; write e.g. sqlite://offboard.db or sqlite:///var/lib/offboard/offboard.db")
		case file == ":memory:" || strings.Contains(query, "mode=memory"):
			d.invalid(path, "an in-memory database loses every case, step, HR event and the audit log when offboard stops; name a file")
		}
	default:
		if scheme, _, ok := strings.Cut(s, "://"); ok {
			d.invalid(path, "%s is not a supported store; use sqlite://<path> or postgres://user@host:5432/db", quote(scheme))
		} else {
			d.invalid(path, "must be sqlite://<path> or postgres://user@host:5432/db")
		}
	}
}

// anySection reports whether any pointer field of a section struct is set.
func anySection(v reflect.Value) bool {
	for i := range v.NumField() {
		f := v.Field(i)
		if (f.Kind() == reflect.Pointer && !f.IsNil()) || (f.Kind() == reflect.Slice && f.Len() > 0) {
			return true
		}
	}
	return false
}

func sectionNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("yaml"); name != "" {
			names = append(names, name)
		}
	}
	return names
}

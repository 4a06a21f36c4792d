// Package workday polls a Workday custom report through Report-as-a-Service (RaaS) and turns
// each row into a termination (or rescission) event.
//
// RaaS has no change feed and no pagination: every poll reads the whole report and hands every
// row to the intake. That is safe because each row's event ID is derived from the worker and the
// termination date, so the intake recognises a row it has already seen and opens nothing new.
// Keep the report small with prompts (e.g. terminations effective from 30 days ago onwards).
package workday

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/hr"
)

// Fields names the report columns (their XML aliases, which are also the JSON keys) that
// carry each value. Empty names take DefaultFields' names; Rescinded and Reason may stay empty
// when the report has no such column.
type Fields struct {
	WorkerID, Email, Name, ManagerEmail, TerminationDate, Involuntary, Rescinded string
	// Reason is the column with the termination reason, copied into the event and the ticket.
	Reason string
	// Handles maps a system name to the column holding the person's identity there, e.g.
	// {"github": "GitHub_Username"}; empty cells are skipped.
	Handles map[string]string
}

// DefaultFields are the column aliases assumed when a name is not configured.
func DefaultFields() Fields {
	return Fields{
		WorkerID:        "Employee_ID",
		Email:           "Work_Email",
		Name:            "Worker",
		ManagerEmail:    "Manager_Email",
		TerminationDate: "Termination_Date",
		Involuntary:     "Involuntary",
	}
}

// Config says which report to read and how.
type Config struct {
	// ReportURL is the report's RaaS URL as Workday shows it under Actions → Web Service →
	// View URLs, including its prompts. format=json is added when absent.
	ReportURL string
	// Username and Password are the Integration System User's credentials (HTTP Basic).
	Username, Password string
	Fields             Fields
	// Location is the time zone of report dates that carry no UTC offset; nil means UTC.
	Location *time.Location
	// HTTP is the transport; nil means a client with a 2 minute timeout, as large reports are slow.
	HTTP *http.Client
}

// Validate lists every problem with the configuration at once. The report URL is described
// without its query string, which may carry prompts the operator considers private.
func (c Config) Validate() error {
	var problems []string
	if _, _, err := splitReportURL(c.ReportURL); err != nil {
		problems = append(problems, err.Error())
	}
	if c.Username == "" {
		problems = append(problems, "username is required")
	}
	if c.Password == "" {
		problems = append(problems, "password is required")
	}
	if len(problems) > 0 {
		return errors.New("workday: " + strings.Join(problems, "; "))
	}
	return nil
}

// Poller reads the termination report. It is safe for concurrent use.
type Poller struct {
	fields Fields
	loc    *time.Location
	client *connector.Client
	// target is the full report URL, query included, passed to connector.Client as an
	// absolute link on its base (scheme and host) so the query is sent exactly as configured
	// while errors show only the path.
	target string
	// path is the report URL's path, the only part of it shown in errors.
	path string
	// err is a configuration problem found by New, returned by every Fetch.
	err error
}

// New returns a Poller for cfg. A bad configuration is reported by Fetch (and by
// cfg.Validate, which the configuration loader calls at start).
func New(cfg Config) *Poller {
	p := &Poller{fields: withDefaults(cfg.Fields), loc: cfg.Location}
	if p.loc == nil {
		p.loc = time.UTC
	}
	httpClient := cfg.HTTP
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 2 * time.Minute}
	}
	base, target, err := splitReportURL(cfg.ReportURL)
	if err != nil {
		p.err = connector.Permanent(fmt.Errorf("workday: %w", err))
	}
	p.target = target
	if u, err := url.Parse(target); err == nil {
		p.path = u.Path
	}
	p.client = &connector.Client{
		System:  "workday",
		BaseURL: base,
		HTTP:    httpClient,
		Authorize: func(r *http.Request) error {
			r.SetBasicAuth(cfg.Username, cfg.Password)
			return nil
		},
		Retries: 2,
		Pacer:   connector.NewPacer(1),
	}
	return p
}

func withDefaults(f Fields) Fields {
	d := DefaultFields()
	f.WorkerID = cmp.Or(f.WorkerID, d.WorkerID)
	f.Email = cmp.Or(f.Email, d.Email)
	f.Name = cmp.Or(f.Name, d.Name)
	f.ManagerEmail = cmp.Or(f.ManagerEmail, d.ManagerEmail)
	f.TerminationDate = cmp.Or(f.TerminationDate, d.TerminationDate)
	f.Involuntary = cmp.Or(f.Involuntary, d.Involuntary)
	return f
}

// splitReportURL checks the report URL and returns its scheme and host (the client's base)
// and the URL to request, with format=json added when no format was given. The query string is
// otherwise kept byte for byte, because prompts such as Worker_Type!WID are easy to mangle.
// Errors describe the URL without its query.
func splitReportURL(raw string) (base, target string, err error) {
	if strings.TrimSpace(raw) == "" {
		return "", "", errors.New("report_url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", errors.New("report_url is not a URL")
	}
	shown := u.Scheme + "://" + u.Host + u.Path
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "", "", fmt.Errorf("report_url %s must be an https URL", shown)
	case u.Host == "":
		return "", "", errors.New("report_url has no host")
	case u.User != nil:
		return "", "", fmt.Errorf("report_url %s must not carry credentials; set username and password instead", shown)
	case !strings.Contains(u.Path, "/ccx/service/customreport2/"):
		return "", "", fmt.Errorf("report_url %s is not a RaaS URL (…/ccx/service/customreport2/{tenant}/{owner}/{report})", shown)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", "", fmt.Errorf("report_url %s has a malformed query string", shown)
	}
	switch f := q.Get("format"); {
	case f == "":
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "format=json"
	case f != "json":
		return "", "", fmt.Errorf("report_url %s asks for format=%s; offboard reads format=json", shown, f)
	}
	u.Fragment = ""
	return u.Scheme + "://" + u.Host, u.String(), nil
}

// hints say what an operator should check when Workday refuses the report.
var hints = map[int]string{
	http.StatusUnauthorized: "check the Integration System User's username and password, and that its security policy allows User Name Password",
	http.StatusForbidden:    "the Integration System User's security group needs Get access to the report and its data sources; activate pending security policy changes",
	http.StatusNotFound:     "check the tenant, owner and report name in report_url, and that the report is enabled as a web service",
}

// Fetch reads the report and returns one event per good row. A row that cannot become an event
// (no worker ID, no date, an unreadable date) does not stop the others: the good events are
// returned together with an error joining one *RowError per bad row. A failure to read the
// report at all returns no events; it is connector.Permanent when retrying cannot help (bad
// credentials, a missing permission, a bad URL).
func (p *Poller) Fetch(ctx context.Context) ([]hr.Event, error) {
	events, bad, err := p.fetch(ctx)
	if err != nil {
		return nil, err
	}
	return events, errors.Join(bad...)
}

func (p *Poller) fetch(ctx context.Context) ([]hr.Event, []error, error) {
	if p.err != nil {
		return nil, nil, p.err
	}
	resp, err := p.client.Do(ctx, connector.Request{Method: http.MethodGet, Path: p.target})
	if err != nil {
		if hint := hints[connector.StatusOf(err)]; hint != "" {
			err = fmt.Errorf("%w (%s)", err, hint)
		}
		return nil, nil, err
	}
	rows, err := decodeReport(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("workday: read report %s: %w", p.path, err)
	}
	var events []hr.Event
	var bad []error
	for i, row := range rows {
		ev, err := p.event(row)
		if err != nil {
			bad = append(bad, &RowError{Row: i + 1, WorkerID: ev.WorkerID, Err: err})
			continue
		}
		events = append(events, ev)
	}
	return events, bad, nil
}

// RowError is a report row that could not become an event. Row counts from 1 in report order.
type RowError struct {
	Row      int
	WorkerID string
	Err      error
}

func (e *RowError) Error() string {
	if e.WorkerID != "" {
		return fmt.Sprintf("workday: report row %d (worker %s): %v", e.Row, e.WorkerID, e.Err)
	}
	return fmt.Sprintf("workday: report row %d: %v", e.Row, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

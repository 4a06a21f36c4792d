package workday_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/hr/workday"
	"github.com/offboard-dev/offboard/internal/hr/workdaysim"
)

const password = "Pa55-isu-9d1e7c"

// dedupingIntake behaves like the engine's intake where the poller can see it: the same event
// ID with the same content is a duplicate, with other content a conflict; a termination is
// scheduled when it is in the future and opened otherwise; a rescission cancels a scheduled
// case of the same worker.
type dedupingIntake struct {
	mu        sync.Mutex
	now       time.Time
	digests   map[string]string
	scheduled map[string]bool // worker → a case is scheduled
	received  []hr.Event
}

func newIntake(now time.Time) *dedupingIntake {
	return &dedupingIntake{now: now, digests: map[string]string{}, scheduled: map[string]bool{}}
}

func (d *dedupingIntake) Receive(_ context.Context, e hr.Event) (hr.Receipt, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := e.Validate(); err != nil {
		return hr.Receipt{}, err
	}
	if dg, ok := d.digests[e.ID]; ok {
		if dg != e.Digest() {
			return hr.Receipt{}, hr.ErrConflict
		}
		return hr.Receipt{Outcome: hr.Duplicate}, nil
	}
	d.digests[e.ID] = e.Digest()
	d.received = append(d.received, e)
	switch {
	case e.Type == hr.Rescission && d.scheduled[e.WorkerID]:
		delete(d.scheduled, e.WorkerID)
		return hr.Receipt{Outcome: hr.Cancelled}, nil
	case e.Type == hr.Rescission:
		return hr.Receipt{Outcome: hr.Ignored}, nil
	case e.EffectiveAt.After(d.now):
		d.scheduled[e.WorkerID] = true
		return hr.Receipt{Outcome: hr.Scheduled}, nil
	default:
		return hr.Receipt{Outcome: hr.Opened}, nil
	}
}

// env is a simulator on a test server, mounted under a prefix as `offboard sim` does.
type env struct {
	sim *workdaysim.Server
	url string // the report URL, without a query
}

func newEnv(t *testing.T, opts workdaysim.Options) env {
	t.Helper()
	if opts.Password == "" {
		opts.Password = password
	}
	if opts.RetryAfter == 0 {
		opts.RetryAfter = 10 * time.Millisecond
	}
	s := workdaysim.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/workday/", http.StripPrefix("/workday", s))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return env{sim: s, url: srv.URL + "/workday" + s.ReportPath()}
}

func (e env) poller(query string, f workday.Fields) *workday.Poller {
	return workday.New(workday.Config{ReportURL: e.url + query, Username: "ISU_offboard", Password: password, Fields: f})
}

var fields = workday.Fields{WorkerID: "Employee_ID", Email: "Work_Email", Name: "Worker", TerminationDate: "Termination_Date",
	Involuntary: "Termination_Category", Rescinded: "Is_Rescinded"}

func TestSyncTwiceOpensNothingNew(t *testing.T) {
	t.Parallel()
	e := newEnv(t, workdaysim.Options{})
	e.sim.SetRows([]map[string]any{
		{"Employee_ID": "1001", "Work_Email": "ann@acme.test", "Worker": "Ann", "Termination_Date": "2026-12-15-08:00", "Termination_Category": "Voluntary"},
		{"Employee_ID": "1002", "Work_Email": "bo@acme.test", "Worker": "Bo", "Termination_Date": "2026-11-20", "Termination_Category": "Involuntary"},
		{"Work_Email": "nobody@acme.test", "Termination_Date": "2026-11-20"},
	})
	intake := newIntake(time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC))
	p := e.poller("?format=json", fields)

	first, err := p.Sync(t.Context(), intake)
	if first.Rows != 3 || first.Events != 2 || first.Opened != 1 || first.Scheduled != 1 || len(first.Errors) != 1 {
		t.Fatalf("first poll = %+v", first)
	}
	var rowErr *workday.RowError
	if !errors.As(err, &rowErr) || rowErr.Row != 3 || !strings.Contains(err.Error(), "no worker ID") {
		t.Fatalf("bad row not reported: %v", err)
	}

	second, _ := p.Sync(t.Context(), intake)
	if second.Opened != 0 || second.Scheduled != 0 || second.Duplicates != 2 {
		t.Fatalf("second poll of the same rows = %+v, want only duplicates", second)
	}
	if n := len(intake.received); n != 2 {
		t.Fatalf("intake stored %d events, want 2", n)
	}

	// HR rescinds Ann's future termination: the next poll cancels her scheduled case.
	rows := e.sim.Rows()
	rows[0]["Is_Rescinded"] = "Yes"
	e.sim.SetRows(rows[:2])
	third, err := p.Sync(t.Context(), intake)
	if err != nil || third.Cancelled != 1 || third.Duplicates != 1 {
		t.Fatalf("poll after rescission = %+v, %v", third, err)
	}
}

func TestSyncReportsConflictsAndContinues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, workdaysim.Options{})
	e.sim.SetRows([]map[string]any{
		{"Employee_ID": "1001", "Termination_Date": "2026-11-20", "Worker": "Ann"},
		{"Employee_ID": "1002", "Termination_Date": "2026-11-20"},
	})
	intake := newIntake(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	p := e.poller("", fields)
	if _, err := p.Sync(t.Context(), intake); err != nil {
		t.Fatal(err)
	}
	// HR corrects Ann's name after the first poll; the second row still goes through.
	e.sim.SetRows([]map[string]any{
		{"Employee_ID": "1001", "Termination_Date": "2026-11-20", "Worker": "Ann Lee"},
		{"Employee_ID": "1002", "Termination_Date": "2026-11-20"},
		{"Employee_ID": "1003", "Termination_Date": "2026-11-20"},
	})
	res, err := p.Sync(t.Context(), intake)
	if !errors.Is(err, hr.ErrConflict) || !strings.Contains(err.Error(), "workday:1001:2026-11-20") {
		t.Fatalf("conflict not reported: %v", err)
	}
	if res.Opened != 1 || res.Duplicates != 1 || len(res.Errors) != 1 {
		t.Fatalf("result = %+v", res)
	}
}

func TestFetchKeepsPromptsAndAddsFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, workdaysim.Options{Tenant: "globex", Owner: "lmcneil", Report: "Offboard_Terminations"})
	const prompts = "Effective_From=2026-11-01-08:00&Worker_Type!WID=d588e5f0"
	if _, err := e.poller("?"+prompts, fields).Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	calls := e.sim.Recorder.Calls()
	if len(calls) != 1 || calls[0].Status != 200 {
		t.Fatalf("calls = %+v", calls)
	}
	if want := prompts + "&format=json"; calls[0].Query != want {
		t.Errorf("query sent = %q, want %q", calls[0].Query, want)
	}
	if calls[0].Path != "/ccx/service/customreport2/globex/lmcneil/Offboard_Terminations" {
		t.Errorf("path = %q", calls[0].Path)
	}
}

func TestFetchAuthFailureIsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, workdaysim.Options{Password: "the-real-one"})
	e.sim.AddRow(map[string]any{"Employee_ID": "1", "Termination_Date": "2026-11-30"})
	p := e.poller("?format=json&Secret_Prompt=s3cr3t-prompt", fields)
	_, err := p.Fetch(t.Context())
	if !connector.IsPermanent(err) || connector.StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a permanent 401", err)
	}
	if _, serr := p.Sync(t.Context(), newIntake(time.Now())); !connector.IsPermanent(serr) {
		t.Fatalf("Sync err = %v, want permanent", serr)
	}
	if got := e.sim.Recorder.Count(http.MethodGet, "", ""); got != 2 {
		t.Errorf("%d requests; an auth failure must not be retried", got)
	}
	for _, secret := range []string{password, "s3cr3t-prompt"} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error leaks %q: %v", secret, err)
		}
	}
}

func TestFetchThrottleStormCompletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, workdaysim.Options{})
	e.sim.AddRow(map[string]any{"Employee_ID": "1", "Termination_Date": "2026-11-30"})
	e.sim.Faults.ThrottleNext(5)
	evs, err := e.poller("", fields).Fetch(t.Context())
	if err != nil || len(evs) != 1 {
		t.Fatalf("Fetch = %d events, %v; a 429 storm must be waited out", len(evs), err)
	}
	if got := e.sim.Recorder.Count(http.MethodGet, "", ""); got != 6 {
		t.Errorf("%d requests, want 5 throttled + 1", got)
	}
}

// TestErrorsNeverCarryThePassword walks every way a fetch can fail.
func TestErrorsNeverCarryThePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, workdaysim.Options{})
	e.sim.Faults.FailNext(10, http.StatusServiceUnavailable)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>Sign in</html>"))
	}))
	t.Cleanup(html.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	const path = "/ccx/service/customreport2/acme/ISU_offboard/Terminations?format=json&Prompt=private-prompt"
	for name, url := range map[string]string{
		"5xx":               e.url + "?format=json&Prompt=private-prompt",
		"not JSON":          html.URL + path,
		"connection failed": closed.URL + path,
		"bad scheme":        "ftp://wd.test" + path,
		"wrong format":      "https://wd.test/ccx/service/customreport2/a/b/c?format=csv&Prompt=private-prompt",
	} {
		p := workday.New(workday.Config{ReportURL: url, Username: "ISU_offboard", Password: password})
		_, err := p.Fetch(t.Context())
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, secret := range []string{password, "private-prompt"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error leaks %q: %v", name, secret, err)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	err := workday.Config{ReportURL: "https://user:pw@wd.test/ccx/service/customreport2/a/b/c"}.Validate()
	if err == nil {
		t.Fatal("accepted a config with credentials in the URL and none configured")
	}
	for _, want := range []string{"must not carry credentials", "username is required", "password is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "pw@") {
		t.Errorf("error shows the URL's credentials: %v", err)
	}
	for _, bad := range []string{"", "https://wd.test/some/other/path", "https://wd.test/ccx/service/customreport2/a/b/c?format=simplexml"} {
		if (workday.Config{ReportURL: bad, Username: "u", Password: "p"}).Validate() == nil {
			t.Errorf("accepted report_url %q", bad)
		}
	}
	good := workday.Config{ReportURL: "https://wd2-impl-services1.workday.com/ccx/service/customreport2/acme/ISU/Terms?format=json", Username: "u", Password: "p"}
	if err := good.Validate(); err != nil {
		t.Errorf("rejected a good config: %v", err)
	}
}

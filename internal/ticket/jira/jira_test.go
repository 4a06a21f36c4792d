package jira_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/ticket"
	"github.com/offboard-dev/offboard/internal/ticket/jira"
	"github.com/offboard-dev/offboard/internal/ticket/jira/jirasim"
)

const (
	email = "secops-bot@acme.example"
	token = "jira-test-token-d41d8cd98f00"
)

// env is a tracker wired to a simulated site through an optional middleware.
type env struct {
	tr  *jira.Tracker
	sim *jirasim.Server
	url string
}

func newEnv(t *testing.T, opts jirasim.Options, cfg jira.Config, wrap func(http.Handler) http.Handler) env {
	t.Helper()
	opts.Email, opts.Token = email, token
	s := jirasim.New(opts)
	var h http.Handler = s
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if cfg.Email == "" {
		cfg.Email = email
	}
	if cfg.Token == "" {
		cfg.Token = token
	}
	if cfg.Project == "" {
		cfg.Project = "SEC"
	}
	cfg.BaseURL = srv.URL
	return env{tr: jira.New(cfg), sim: s, url: srv.URL}
}

// virtualClock lets the tracker wait out rate limits instantly while keeping count of how
// long it waited. The simulator can share it, so its budget windows pass as the tracker waits.
type virtualClock struct {
	mu     sync.Mutex
	now    time.Time
	waited time.Duration
}

func newClock() *virtualClock {
	return &virtualClock{now: time.Date(2026, 11, 22, 18, 0, 10, 0, time.UTC)}
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) Wait(ctx context.Context, d time.Duration) error {
	if d > 0 {
		c.mu.Lock()
		c.now = c.now.Add(d)
		c.waited += d
		c.mu.Unlock()
	}
	return ctx.Err()
}

func (c *virtualClock) Waited() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waited
}

var doc = ticket.Doc{Blocks: []ticket.Block{
	{Heading: "Plan"},
	{Paragraph: "3 actions in 1 system."},
	{Bullets: []string{"Revoke sessions", ""}},
	{Table: &ticket.Table{Header: []string{"System", "Result"}, Rows: [][]string{{"okta", "verified"}, {"okta", ""}}}},
}}

var opened = ticket.NewTicket{Summary: "Deprovisioning: Jane Doe <jane@acme.com>", Description: doc, Labels: []string{"offboarding"}, Ref: "offboard-case-1"}

// life writes a whole ticket's life: open, comment, attach, label, unlabel, close.
func life(ctx context.Context, tr *jira.Tracker) (string, error) {
	key, err := tr.Create(ctx, opened)
	if err != nil {
		return "", err
	}
	for _, step := range []func() error{
		func() error { return tr.Comment(ctx, key, doc) },
		func() error { return tr.Attach(ctx, key, "offboard-case-1-evidence.json", []byte(`{"ok":true}`)) },
		func() error { return tr.Label(ctx, key, []string{"offboarding-partial"}, nil) },
		func() error { return tr.Label(ctx, key, nil, []string{"offboarding-partial"}) },
		func() error { return tr.Transition(ctx, key, "done") },
	} {
		if err := step(); err != nil {
			return key, err
		}
	}
	return key, nil
}

func TestTrackerWritesTheWholeTicketLife(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jirasim.Options{}, jira.Config{}, nil)
	ctx := t.Context()
	key, err := life(ctx, e.tr)
	if err != nil {
		t.Fatal(err)
	}
	// Already done: Done is no longer offered, and that is success.
	if err := e.tr.Transition(ctx, key, "Done"); err != nil {
		t.Fatalf("transition of a done issue: %v", err)
	}
	is, ok := e.sim.Issue(key)
	if !ok {
		t.Fatalf("no issue %s", key)
	}
	if is.Summary != opened.Summary || is.Status != "Done" || is.IssueType != "Task" || !slices.Equal(is.Labels, []string{"offboarding", "offboard-case-1"}) {
		t.Fatalf("issue %+v", is)
	}
	if !strings.Contains(is.Description, "Revoke sessions") || !strings.Contains(is.Description, "| okta | verified |") {
		t.Errorf("description %q", is.Description)
	}
	if len(is.Comments) != 1 || !strings.Contains(is.Comments[0], "- Revoke sessions") || !strings.Contains(is.Comments[0], "| okta | - |") {
		t.Fatalf("comments %q", is.Comments)
	}
	if len(is.Attachments) != 1 || is.Attachments[0].Filename != "offboard-case-1-evidence.json" || is.Attachments[0].MimeType != "application/json" || string(is.Attachments[0].Data) != `{"ok":true}` {
		t.Fatalf("attachments %+v", is.Attachments)
	}
}

func TestCreateFindsTheTicketItAlreadyOpened(t *testing.T) {
	t.Parallel()
	// The first create reaches Jira, which opens the issue, but its reply is lost.
	var once sync.Once
	lose := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			lost := false
			if r.Method == http.MethodPost && r.URL.Path == "/rest/api/3/issue" {
				once.Do(func() { lost = true })
			}
			if !lost {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(httptest.NewRecorder(), r)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		})
	}
	e := newEnv(t, jirasim.Options{}, jira.Config{}, lose)
	ctx := t.Context()
	if _, err := e.tr.Create(ctx, opened); err == nil {
		t.Fatal("a create whose reply was lost reported success")
	}
	if n := len(e.sim.Issues()); n != 1 {
		t.Fatalf("%d issues after the lost reply; the tracker retried the create itself", n)
	}
	key, err := e.tr.Create(ctx, opened)
	if err != nil {
		t.Fatal(err)
	}
	if all := e.sim.Issues(); len(all) != 1 || key != all[0].Key {
		t.Fatalf("the retried create opened a second issue: %s, %+v", key, all)
	}
	// The same reference on someone else's ticket (another installation's case 1) is not it.
	other := opened
	other.Summary = "Deprovisioning: Bo <bo@acme.com>"
	if key2, err := e.tr.Create(ctx, other); err != nil || key2 == key {
		t.Fatalf("create for another person: %s, %v", key2, err)
	}
}

func TestCreateWhenTheLookupFails(t *testing.T) {
	t.Parallel()
	search := func(status int) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/rest/api/3/search/jql" {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(status)
					_, _ = w.Write([]byte(`{"errorMessages":["no"],"errors":{}}`))
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	tests := []struct {
		name   string
		status int
		opened bool
	}{
		{"search refused: open the ticket anyway", http.StatusForbidden, true},
		{"search missing: open the ticket anyway", http.StatusGone, true},
		{"search down: fail and retry later", http.StatusInternalServerError, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, jirasim.Options{}, jira.Config{}, search(tc.status))
			_, err := e.tr.Create(t.Context(), opened)
			if (err == nil) != tc.opened || len(e.sim.Issues()) != map[bool]int{true: 1, false: 0}[tc.opened] {
				t.Fatalf("err %v, %d issues", err, len(e.sim.Issues()))
			}
		})
	}
}

func TestTransitionByName(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	t.Run("by the status it leads to", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, jirasim.Options{}, jira.Config{}, nil)
		key, _ := e.tr.Create(ctx, opened)
		if err := e.tr.Transition(ctx, key, "in progress"); err != nil {
			t.Fatal(err)
		}
		if is, _ := e.sim.Issue(key); is.Status != "In Progress" {
			t.Fatalf("status %s", is.Status)
		}
		// An empty name means the configured done transition.
		if err := e.tr.Transition(ctx, key, ""); err != nil {
			t.Fatal(err)
		}
		if is, _ := e.sim.Issue(key); is.Status != "Done" {
			t.Fatalf("status %s", is.Status)
		}
	})
	t.Run("a transition not offered is permanent and lists those that are", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, jirasim.Options{}, jira.Config{}, nil)
		key, _ := e.tr.Create(ctx, opened)
		err := e.tr.Transition(ctx, key, "Closed")
		if !connector.IsPermanent(err) || !strings.Contains(err.Error(), `"Start Progress" (to In Progress)`) || !strings.Contains(err.Error(), `status "To Do"`) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("without the permission it says so", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, jirasim.Options{Denied: []string{jirasim.PermTransition}}, jira.Config{}, nil)
		key, _ := e.tr.Create(ctx, opened)
		if err := e.tr.Transition(ctx, key, "Done"); !connector.IsPermanent(err) || !strings.Contains(err.Error(), "Transition issues permission") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestTrackerRefusals(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	t.Run("bad credentials are permanent and never echo the token", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, jirasim.Options{}, jira.Config{Token: "wrong-token-value-0000"}, nil)
		_, err := e.tr.Create(ctx, opened)
		if !connector.IsPermanent(err) || connector.StatusOf(err) != http.StatusUnauthorized {
			t.Fatalf("want a permanent 401, got %v", err)
		}
		if strings.Contains(err.Error(), "wrong-token-value-0000") || strings.Contains(err.Error(), token) {
			t.Fatalf("error leaks a token: %v", err)
		}
	})
	t.Run("a token echoed in an error body is scrubbed", func(t *testing.T) {
		t.Parallel()
		echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, pass, _ := r.BasicAuth()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"errorMessages":["token %s is not valid here; header %s"],"errors":{"summary":"%s"}}`, pass, r.Header.Get("Authorization"), pass)
		})
		srv := httptest.NewServer(echo)
		t.Cleanup(srv.Close)
		tr := jira.New(jira.Config{BaseURL: srv.URL, Email: email, Token: token, Project: "SEC"})
		for name, err := range map[string]error{
			"comment": tr.Comment(ctx, "SEC-1", doc), "label": tr.Label(ctx, "SEC-1", []string{"x"}, nil), "check": tr.Check(ctx),
		} {
			if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "[REDACTED]") {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
	t.Run("an unknown project is a permanent 400 naming the field", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, jirasim.Options{Projects: []string{"OPS"}}, jira.Config{}, nil)
		_, err := e.tr.Create(ctx, opened)
		if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "project: valid project is required") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a missing issue is permanent and not found", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, jirasim.Options{}, jira.Config{}, nil)
		err := e.tr.Comment(ctx, "SEC-999", doc)
		if !errors.Is(err, connector.ErrNotFound) || !connector.IsPermanent(err) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an attachment over the limit is permanent", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, jirasim.Options{MaxAttachment: 16}, jira.Config{}, nil)
		key, _ := e.tr.Create(ctx, opened)
		err := e.tr.Attach(ctx, key, "big.json", []byte(strings.Repeat("x", 64)))
		if !connector.IsPermanent(err) || connector.StatusOf(err) != http.StatusRequestEntityTooLarge {
			t.Fatalf("got %v", err)
		}
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tests := []struct {
		name  string
		opts  jirasim.Options
		cfg   jira.Config
		wants []string
	}{
		{"all in order", jirasim.Options{}, jira.Config{}, nil},
		{"missing permissions", jirasim.Options{Denied: []string{jirasim.PermAttach, jirasim.PermTransition}}, jira.Config{},
			[]string{"lacks these permissions in project SEC: Create attachments, Transition issues"}},
		{"no such issue type", jirasim.Options{IssueTypes: []string{"Task", "Offboarding"}}, jira.Config{IssueType: "Story"},
			[]string{`project SEC has no issue type "Story"; it has Task, Offboarding`}},
		{"no such project", jirasim.Options{Projects: []string{"OPS"}}, jira.Config{}, []string{"project SEC", "HTTP 404"}},
		{"bad token", jirasim.Options{}, jira.Config{Token: "not-the-token-1234"}, []string{"sign in as " + email, "HTTP 401"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.opts, tc.cfg, nil)
			err := e.tr.Check(ctx)
			if len(tc.wants) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("check passed")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "not-the-token-1234") {
				t.Errorf("error leaks a token: %v", err)
			}
		})
	}
	if err := jira.New(jira.Config{BaseURL: "https://acme.atlassian.net"}).Check(ctx); err == nil || !strings.Contains(err.Error(), "email, token, project must be set") {
		t.Errorf("unconfigured check: %v", err)
	}
}

// TestA429StormCompletesByWaitingOutRetryAfter throttles the first requests and checks the
// whole life still completes, with no request sent before the Retry-After it followed.
func TestA429StormCompletesByWaitingOutRetryAfter(t *testing.T) {
	t.Parallel()
	clock := newClock()
	type sent struct {
		at     time.Time
		status int
	}
	var mu sync.Mutex
	var log []sent
	stamp := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			mu.Lock()
			log = append(log, sent{clock.Now(), rec.Code})
			mu.Unlock()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
	e := newEnv(t, jirasim.Options{}, jira.Config{}, stamp)
	e.tr.SetClock(clock.Now, clock.Wait)
	e.sim.Faults.ThrottleNext(8)
	if _, err := life(t.Context(), e.tr); err != nil {
		t.Fatalf("a 429 storm must be waited out, got %v", err)
	}
	throttled := 0
	for i, s := range log {
		if s.status != http.StatusTooManyRequests {
			continue
		}
		throttled++
		if i+1 < len(log) && log[i+1].at.Sub(s.at) < time.Second {
			t.Errorf("request %d went %s after a 429 that asked for 1s", i+1, log[i+1].at.Sub(s.at))
		}
	}
	if throttled != 8 || clock.Waited() < 8*time.Second {
		t.Fatalf("%d throttled responses, waited %s; want 8 and at least 8s", throttled, clock.Waited())
	}
}

// TestTrackerPacesToTheBudget gives the site a budget of 3 requests a minute on a clock the
// tracker shares: the tracker waits for each new window instead of hammering the limit.
func TestTrackerPacesToTheBudget(t *testing.T) {
	t.Parallel()
	clock := newClock()
	e := newEnv(t, jirasim.Options{PerMinute: 3}, jira.Config{}, nil)
	e.sim.SetClock(clock.Now)
	e.tr.SetClock(clock.Now, clock.Wait)
	if _, err := life(t.Context(), e.tr); err != nil {
		t.Fatal(err)
	}
	calls := e.sim.Recorder.Calls()
	n429 := 0
	for _, c := range calls {
		if c.Status == http.StatusTooManyRequests {
			n429++
		}
	}
	// 8 requests at 3 a minute span three windows. Jira sends X-RateLimit-Reset only with a
	// 429, so the tracker may meet one 429 per window, never two: it waits until the window
	// Retry-After names.
	if len(calls)-n429 != 8 || n429 > 2 || clock.Waited() < 100*time.Second {
		t.Fatalf("%d calls, %d throttled, waited %s", len(calls), n429, clock.Waited())
	}
	for i := 1; i < len(calls); i++ {
		if calls[i].Status == http.StatusTooManyRequests && calls[i-1].Status == http.StatusTooManyRequests {
			t.Fatalf("two 429s in a row at call %d: the tracker did not wait out Retry-After", i)
		}
	}
}

func TestA503WithRetryAfterIsWaitedOut(t *testing.T) {
	t.Parallel()
	clock := newClock()
	first := true
	var mu sync.Mutex
	busy := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			was := first
			first = false
			mu.Unlock()
			if was {
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, jirasim.Options{}, jira.Config{}, busy)
	e.tr.SetClock(clock.Now, clock.Wait)
	if err := e.tr.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	if clock.Waited() < 30*time.Second {
		t.Fatalf("waited %s, want the 30s Jira asked for", clock.Waited())
	}
}

// TestLongCommentsAreSplitIntoParts posts a final table too long for one Jira comment: it
// arrives as several comments, each within Jira's limit, marked, with every row.
func TestLongCommentsAreSplitIntoParts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jirasim.Options{}, jira.Config{}, nil)
	ctx := t.Context()
	key, err := e.tr.Create(ctx, opened)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([][]string, 600)
	for i := range rows {
		rows[i] = []string{"okta", fmt.Sprintf("Remove from group engineering-%04d (00g%04d)", i, i), "verified", "2026-11-22T18:00:00Z", "2026-11-22T18:00:01Z", "not a member"}
	}
	long := ticket.Doc{Blocks: []ticket.Block{{Heading: "Offboarding complete"}, {Table: &ticket.Table{Header: []string{"System", "Action", "State", "Applied", "Verified", "Read-back"}, Rows: rows}}, {Paragraph: "The end."}}}
	if err := e.tr.Comment(ctx, key, long); err != nil {
		t.Fatal(err)
	}
	is, _ := e.sim.Issue(key)
	if len(is.Comments) < 2 {
		t.Fatalf("%d comments; the table should not fit in one", len(is.Comments))
	}
	all := strings.Join(is.Comments, "")
	for i, c := range is.Comments {
		if !strings.HasPrefix(c, fmt.Sprintf("(part %d of %d)", i+1, len(is.Comments))) || !strings.Contains(c, "| System | Action |") {
			t.Errorf("comment %d is not a marked part with the header: %.80q", i, c)
		}
	}
	for i := range rows {
		if !strings.Contains(all, fmt.Sprintf("engineering-%04d", i)) {
			t.Fatalf("row %d is missing", i)
		}
	}
	if !strings.HasSuffix(all, "The end.\n") {
		t.Error("the doc's last block is missing or out of order")
	}

	// A description too long for Jira is shortened, and says so, rather than refused.
	big := opened
	big.Ref, big.Description = "", long
	key2, err := e.tr.Create(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	if is, _ := e.sim.Issue(key2); !strings.Contains(is.Description, "Shortened to fit Jira's size limit") {
		t.Fatalf("description of %d bytes does not say it was shortened", len(is.Description))
	}
}

package jira_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/ticket"
	"github.com/offboard-dev/offboard/internal/ticket/jira"
	"github.com/offboard-dev/offboard/internal/ticket/jira/jirasim"
)

const (
	email = "secops-bot@acme.example"
	token = "jira-test-token-d41d8cd98f00"
)

func newTracker(t *testing.T, opts jirasim.Options, cfgToken string) (*jira.Tracker, *jirasim.Server) {
	t.Helper()
	opts.Email, opts.Token = email, token
	sim := jirasim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return jira.New(jira.Config{BaseURL: srv.URL, Email: email, Token: cfgToken, Project: "SEC"}), sim
}

var doc = ticket.Doc{Blocks: []ticket.Block{
	{Heading: "Plan"},
	{Paragraph: "3 actions in 1 system."},
	{Bullets: []string{"Revoke sessions", ""}},
	{Table: &ticket.Table{Header: []string{"System", "Result"}, Rows: [][]string{{"okta", "verified"}, {"okta", ""}}}},
}}

func TestTrackerWritesTheWholeTicketLife(t *testing.T) {
	t.Parallel()
	tr, sim := newTracker(t, jirasim.Options{}, token)
	ctx := context.Background()
	key, err := tr.Create(ctx, ticket.NewTicket{Summary: "Deprovisioning: Jane Doe <jane@acme.com>", Description: doc, Labels: []string{"offboarding"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Comment(ctx, key, doc); err != nil {
		t.Fatal(err)
	}
	if err := tr.Attach(ctx, key, "evidence.json", []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	if err := tr.Label(ctx, key, []string{"offboarding-partial"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.Label(ctx, key, nil, []string{"offboarding-partial"}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Transition(ctx, key, "done"); err != nil {
		t.Fatal(err)
	}
	// Already done: the transition is no longer offered, and that is success.
	if err := tr.Transition(ctx, key, "Done"); err != nil {
		t.Fatalf("transition of a done issue: %v", err)
	}
	is, ok := sim.Issue(key)
	if !ok {
		t.Fatalf("no issue %s", key)
	}
	if is.Summary != "Deprovisioning: Jane Doe <jane@acme.com>" || is.Status != "Done" || !slices.Equal(is.Labels, []string{"offboarding"}) {
		t.Fatalf("issue %+v", is)
	}
	if len(is.Comments) != 1 || !strings.Contains(is.Comments[0], "Revoke sessions") || !strings.Contains(is.Comments[0], "verified") {
		t.Fatalf("comments %q", is.Comments)
	}
	if len(is.Attachments) != 1 || is.Attachments[0].Filename != "evidence.json" || string(is.Attachments[0].Data) != `{"ok":true}` {
		t.Fatalf("attachments %+v", is.Attachments)
	}
	if err := tr.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
}

func TestTrackerRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("bad credentials are permanent and never echo the token", func(t *testing.T) {
		t.Parallel()
		tr, _ := newTracker(t, jirasim.Options{}, "wrong-token-value-0000")
		_, err := tr.Create(ctx, ticket.NewTicket{Summary: "x", Description: doc})
		if !connector.IsPermanent(err) || connector.StatusOf(err) != http.StatusUnauthorized {
			t.Fatalf("want a permanent 401, got %v", err)
		}
		if strings.Contains(err.Error(), "wrong-token-value-0000") || strings.Contains(err.Error(), token) {
			t.Fatalf("error leaks a token: %v", err)
		}
	})
	t.Run("an unknown project is a permanent 400 naming the field", func(t *testing.T) {
		t.Parallel()
		tr, _ := newTracker(t, jirasim.Options{Projects: []string{"OPS"}}, token)
		_, err := tr.Create(ctx, ticket.NewTicket{Summary: "x", Description: doc})
		if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "project") {
			t.Fatalf("got %v", err)
		}
		if err := tr.Check(ctx); err == nil || !strings.Contains(err.Error(), "SEC") {
			t.Fatalf("check of a missing project: %v", err)
		}
	})
	t.Run("a missing transition lists the ones offered", func(t *testing.T) {
		t.Parallel()
		tr, _ := newTracker(t, jirasim.Options{}, token)
		key, err := tr.Create(ctx, ticket.NewTicket{Summary: "x", Description: doc})
		if err != nil {
			t.Fatal(err)
		}
		err = tr.Transition(ctx, key, "Closed")
		if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "Start Progress") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a missing issue is not found", func(t *testing.T) {
		t.Parallel()
		tr, _ := newTracker(t, jirasim.Options{}, token)
		if err := tr.Comment(ctx, "SEC-999", doc); !errors.Is(err, connector.ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestTrackerWaitsOutRateLimits(t *testing.T) {
	t.Parallel()
	tr, sim := newTracker(t, jirasim.Options{}, token)
	sim.Faults.ThrottleNext(2)
	key, err := tr.Create(context.Background(), ticket.NewTicket{Summary: "x", Description: doc})
	if err != nil {
		t.Fatalf("a 429 with Retry-After must be waited out, got %v", err)
	}
	if n := countStatus(sim, http.StatusTooManyRequests); n != 2 {
		t.Fatalf("want 2 throttled calls, saw %d", n)
	}
	if _, ok := sim.Issue(key); !ok {
		t.Fatal("issue not created after the throttling")
	}
}

func countStatus(sim *jirasim.Server, status int) int {
	n := 0
	for _, c := range sim.Recorder.Calls() {
		if c.Status == status {
			n++
		}
	}
	return n
}

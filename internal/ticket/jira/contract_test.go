package jira_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/ticket"
	"github.com/offboard-dev/offboard/internal/ticket/jira/jirasim"
)

// specPath finds ../shared/specs/jira/platform-swagger.v3.json beside the repository (or under
// OFFBOARD_SPECS_DIR).
func specPath(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("OFFBOARD_SPECS_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for root := wd; ; root = filepath.Dir(root) {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				dir = filepath.Join(root, "..", "shared", "specs")
				break
			}
			if filepath.Dir(root) == root {
				t.Fatal("no go.mod above the test")
			}
		}
	}
	p := filepath.Join(dir, "jira", "platform-swagger.v3.json")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("Jira OpenAPI description not found at %s (set OFFBOARD_SPECS_DIR): %v", p, err)
	}
	return p
}

type operation struct {
	method    string
	pattern   *regexp.Regexp
	template  string
	responses map[string]bool
}

func loadSpec(t *testing.T) []operation {
	t.Helper()
	b, err := os.ReadFile(specPath(t))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	var ops []operation
	for tmpl, methods := range doc.Paths {
		// QuoteMeta escapes the braces; undo that so parameters can be replaced.
		re := regexp.MustCompile("^" + param.ReplaceAllString(strings.ReplaceAll(strings.ReplaceAll(regexp.QuoteMeta(tmpl), `\{`, "{"), `\}`, "}"), `[^/]+`) + "$")
		for method, raw := range methods {
			var op struct {
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if json.Unmarshal(raw, &op) != nil || op.Responses == nil {
				continue
			}
			rs := map[string]bool{}
			for code := range op.Responses {
				rs[code] = true
			}
			ops = append(ops, operation{method: strings.ToUpper(method), pattern: re, template: tmpl, responses: rs})
		}
	}
	return ops
}

// TestTrackerAndSimulatorFollowTheJiraDescription drives a ticket's whole life and checks that
// every request the tracker made is an operation in Atlassian's description, and that every
// status the simulator answered is one the description documents for it.
func TestTrackerAndSimulatorFollowTheJiraDescription(t *testing.T) {
	t.Parallel()
	ops := loadSpec(t)
	tr, sim := newTracker(t, jirasim.Options{}, token)
	ctx := context.Background()
	key, err := tr.Create(ctx, ticket.NewTicket{Summary: "S", Description: doc, Labels: []string{"offboarding"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { return tr.Comment(ctx, key, doc) },
		func() error { return tr.Attach(ctx, key, "e.json", []byte("{}")) },
		func() error { return tr.Label(ctx, key, []string{"a"}, []string{"b"}) },
		func() error { return tr.Transition(ctx, key, "Done") },
		func() error { return tr.Transition(ctx, key, "Done") },
		func() error { return tr.Check(ctx) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	_ = tr.Comment(ctx, "SEC-404", doc) // a documented 404
	calls := sim.Recorder.Calls()
	if len(calls) < 9 {
		t.Fatalf("too few calls recorded: %d", len(calls))
	}
	for _, c := range calls {
		var match *operation
		for i := range ops {
			if ops[i].method == c.Method && ops[i].pattern.MatchString(c.Path) {
				// Prefer the most specific template (fewest parameters).
				if match == nil || strings.Count(ops[i].template, "{") < strings.Count(match.template, "{") {
					match = &ops[i]
				}
			}
		}
		if match == nil {
			t.Errorf("%s %s is not an operation in the Jira description", c.Method, c.Path)
			continue
		}
		if !match.responses[strconv.Itoa(c.Status)] {
			t.Errorf("%s %s answered %d, not documented for %s %s", c.Method, c.Path, c.Status, match.method, match.template)
		}
	}
}

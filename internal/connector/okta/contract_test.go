package okta

import (
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/offboard-dev/offboard/internal/apispec"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/okta/oktasim"
)

// The contract tests check the connector's requests and the simulator's answers against
// Okta's own OpenAPI description, so neither can drift into an API Okta does not have.

const specFile = "okta/management-minimal.yaml"

// undeclaredQuery lists query parameters Okta accepts although the current spec omits them,
// each with the source that says so.
var undeclaredQuery = map[string][]string{
	// apis.md §1.1: the current spec declares no query parameters for listUserGroups; older
	// docs had after/limit, and Okta still pages this list with Link headers.
	"GET /api/v1/users/{id}/groups": {"after", "limit"},
}

// TestContract checks the connector and the simulator against Okta's OpenAPI description. The
// checks share one test so that loading the description (seconds under -race) holds one of
// the few parallel test slots, not one per check.
func TestContract(t *testing.T) {
	t.Parallel()
	s := apispec.Load(t, specFile)
	t.Run("ConnectorCallsOnlyDocumentedOperations", func(t *testing.T) { connectorCallsOnlyDocumentedOperations(t, s) })
	t.Run("SimulatorServesOnlyDocumentedOperations", func(t *testing.T) { simulatorServesOnlyDocumentedOperations(t, s) })
	t.Run("SimulatorErrorsAreDocumented", func(t *testing.T) { simulatorErrorsAreDocumented(t, s) })
}

// connectorCallsOnlyDocumentedOperations runs a whole offboarding (check, plan, apply,
// verify, a second apply) and checks every request the connector sent: the operation exists,
// its query parameters are declared, and the status the simulator answered is documented.
func connectorCallsOnlyDocumentedOperations(t *testing.T, s *apispec.Spec) {
	e := newEnv(t, oktasim.Options{PageSize: 1}, nil)
	ctx := t.Context()
	must(t, e.conn.Check(ctx))
	p, err := e.conn.Plan(ctx, jane)
	must(t, err)
	applyAll(t, e.conn, p.Actions)
	for _, a := range p.Actions {
		must(t, e.conn.Apply(ctx, a))
	}
	if _, err := e.conn.Plan(ctx, jane); err != nil {
		t.Fatal(err)
	}

	calls := e.sim.Recorder.Calls()
	if len(calls) < 20 {
		t.Fatalf("only %d calls recorded; the run did not exercise the connector", len(calls))
	}
	used := map[string]bool{}
	for _, c := range calls {
		key, op, ok := s.Operation(c.Method, c.Path)
		if !ok {
			t.Errorf("the connector called %s %s, which is not in Okta's API", c.Method, c.Path)
			continue
		}
		used[key] = true
		if c.Status != http.StatusUnauthorized && c.Status < 500 && !apispec.Documented(op, c.Status) {
			t.Errorf("%s %s answered %d, which %s does not document", c.Method, c.Path, c.Status, op.OperationID)
		}
		q, _ := url.ParseQuery(c.Query)
		allowed := append(s.Query(key), undeclaredQuery[key]...)
		for name := range q {
			if !slices.Contains(allowed, name) {
				t.Errorf("%s %s sends query parameter %q, which %s does not declare", c.Method, c.Path, name, op.OperationID)
			}
		}
	}
	for _, want := range []string{
		"GET /api/v1/users/{id}", "GET /api/v1/users/{id}/groups", "GET /api/v1/groups/rules",
		"DELETE /api/v1/users/{userId}/sessions", "DELETE /api/v1/groups/{groupId}/users/{userId}",
		"POST /api/v1/users/{id}/lifecycle/deactivate", "GET /api/v1/groups/rules/{groupRuleId}",
	} {
		if !used[want] {
			t.Errorf("the run never called %s; the contract check is missing it", want)
		}
	}
}

var templateParam = regexp.MustCompile(`\{[^}]+\}`)

// simulatorServesOnlyDocumentedOperations checks each route the simulator serves: its path
// template and operationId are the spec's, and its success status is documented.
func simulatorServesOnlyDocumentedOperations(t *testing.T, s *apispec.Spec) {
	for _, rt := range oktasim.New(oktasim.Options{}).Routes() {
		sample := templateParam.ReplaceAllString(rt.Path, "x1")
		key, op, ok := s.Operation(rt.Method, sample)
		switch {
		case !ok:
			t.Errorf("the simulator serves %s %s, which is not in Okta's API", rt.Method, rt.Path)
		case key != rt.Method+" "+rt.Path:
			t.Errorf("the simulator's %s %s resolves to %s in the spec", rt.Method, rt.Path, key)
		case op.OperationID != rt.OperationID:
			t.Errorf("%s %s is %s in the spec, the simulator says %s", rt.Method, rt.Path, op.OperationID, rt.OperationID)
		case !apispec.Documented(op, rt.Status):
			t.Errorf("%s answers %d on success; the spec documents %v", rt.OperationID, rt.Status, slices.Sorted(maps.Keys(op.Responses.Map())))
		}
	}
}

// simulatorErrorsAreDocumented drives the simulator into each refusal it models and
// checks the status is one the spec lists for that operation.
func simulatorErrorsAreDocumented(t *testing.T, s *apispec.Spec) {
	e := newEnv(t, oktasim.Options{TransitionReads: -1}, nil)
	ctx := t.Context()
	do := func(method, path string) {
		_, _ = e.conn.once.Do(ctx, connector.Request{Method: method, Path: path})
	}
	do("DELETE", "/api/v1/groups/00gvpn/users/"+janeID)                 // APP_GROUP: 403
	do("DELETE", "/api/v1/groups/"+oktasim.EveryoneID+"/users/"+janeID) // BUILT_IN: 403
	do("DELETE", "/api/v1/groups/00gnone/users/"+janeID)                // no group: 404
	do("DELETE", "/api/v1/users/"+janeID+"/roles/rahelp")               // group-held role: 403
	do("POST", "/api/v1/users/"+janeID+"/lifecycle/deactivate")         // 200
	do("POST", "/api/v1/users/"+janeID+"/lifecycle/deactivate")         // already DEPROVISIONED: 404
	do("POST", "/api/v1/users/"+janeID+"/lifecycle/suspend")            // not ACTIVE: 400
	do("DELETE", "/api/v1/users/"+janeID+"/factors/mfasms")             // deactivated: 403
	do("GET", "/api/v1/users/00unobody/factors")                        // no user: 404
	do("GET", "/api/v1/groups/rules/0prnone")                           // no rule: 404
	for _, c := range e.sim.Recorder.Calls() {
		_, op, ok := s.Operation(c.Method, c.Path)
		if !ok {
			t.Errorf("%s %s is not in the spec", c.Method, c.Path)
			continue
		}
		if !apispec.Documented(op, c.Status) {
			t.Errorf("%s %s answered %d, which %s does not document", c.Method, c.Path, c.Status, op.OperationID)
		}
	}
	if n := len(e.sim.Recorder.Calls()); n != 10 {
		t.Errorf("%d calls recorded, want 10", n)
	}
}

package scim

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/scim/scimsim"
)

func TestPlanDeactivatesAndRecordsGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{}, Config{})
	p, err := e.conn.Plan(t.Context(), dana)
	must(t, err)
	if p.System != "zoom" || p.NotFound || len(p.Actions) != 1 {
		t.Fatalf("plan = %+v", p)
	}
	a := p.Actions[0]
	if a.Kind != KindDeactivate || a.Target != danaID || a.System != "zoom" || len(a.After) != 0 {
		t.Errorf("action = %+v", a)
	}
	var before struct {
		Active *bool   `json:"active"`
		Groups []Group `json:"groups"`
	}
	must(t, json.Unmarshal([]byte(a.Before), &before))
	if before.Active == nil || !*before.Active || len(before.Groups) != 2 {
		t.Errorf("Before = %s", a.Before)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "Zoom Admins (zg-admins)") || !strings.Contains(p.Notes[0], "Webinar Hosts") {
		t.Errorf("notes = %q", p.Notes)
	}
	if !strings.Contains(p.Account, danaID) || !strings.Contains(p.Account, "active") {
		t.Errorf("account = %q", p.Account)
	}
}

func TestPlanFindsByEachPlaceholder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{}, Config{})
	for _, tc := range []struct {
		filter string
		person connector.Person
	}{
		{`userName eq "{handle}"`, connector.Person{Handles: map[string]string{"zoom": danaEmail}}},
		{`emails[type eq "work" and value eq "{email}"]`, dana},
		{`externalId eq "{worker_id}"`, dana},
		{`name.familyName eq "Scully" and emails.value eq "{email}"`, dana},
	} {
		p, err := e.with(t, Config{UserFilter: tc.filter}).Plan(t.Context(), tc.person)
		if err != nil || p.NotFound || len(p.Actions) != 1 || p.Actions[0].Target != danaID {
			t.Errorf("filter %s: plan %+v, err %v", tc.filter, p, err)
		}
	}
}

func TestPlanEscapesFilterValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{}, Config{})
	// A crafted address must not break out of the string literal and match someone else.
	tricky := `x" or userName pr or userName eq "y`
	must(t, e.sim.AddUser(scimsim.User{ID: "zu-tricky", UserName: tricky}))
	p, err := e.conn.Plan(t.Context(), connector.Person{Email: tricky})
	must(t, err)
	if p.NotFound || len(p.Actions) != 1 || p.Actions[0].Target != "zu-tricky" {
		t.Fatalf("plan = %+v", p)
	}
	calls := e.sim.Recorder.Calls()
	q, _ := url.ParseQuery(calls[len(calls)-1].Query)
	if want := `userName eq "x\" or userName pr or userName eq \"y"`; q.Get("filter") != want {
		t.Errorf("filter sent = %s, want %s", q.Get("filter"), want)
	}
}

func TestEscapeFilterValue(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"dana@acme.example": "dana@acme.example",
		`o"neil`:            `o\"neil`,
		`back\slash`:        `back\\slash`,
		"tab\there":         `tab\u0009here`,
		"ünïcødé":           "ünïcødé",
	} {
		if got := EscapeFilterValue(in); got != want {
			t.Errorf("EscapeFilterValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlanWithoutTheValueTheFilterNeedsIsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{}, Config{UserFilter: `userName eq "{handle}"`})
	_, err := e.conn.Plan(t.Context(), dana)
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "{handle}") {
		t.Fatalf("err = %v, want permanent naming {handle}", err)
	}
	if n := len(e.sim.Recorder.Calls()); n != 0 {
		t.Errorf("%d requests sent for an impossible lookup", n)
	}
}

func TestPlanAmbiguousMatchAcrossPagesIsForAHuman(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{MaxResults: 2}, Config{UserFilter: `emails.value eq "{email}"`})
	for _, id := range []string{"zu-a", "zu-b", "zu-c", "zu-d"} {
		must(t, e.sim.AddUser(scimsim.User{ID: id, UserName: id + "@old.example", Email: danaEmail}))
	}
	p, err := e.conn.Plan(t.Context(), dana)
	must(t, err)
	if !p.NotFound || len(p.Actions) != 0 || len(p.Manual) != 1 {
		t.Fatalf("plan = %+v", p)
	}
	for _, id := range []string{danaID, "zu-a", "zu-b", "zu-c", "zu-d"} {
		if !strings.Contains(p.Notes[0], id) || !strings.Contains(p.Manual[0].Detail, id) {
			t.Errorf("candidate %s missing from %q / %q", id, p.Notes, p.Manual)
		}
	}
	if n := e.sim.Recorder.Count("GET", "/Users", ""); n != 3 {
		t.Errorf("%d pages read, want 3 (5 matches, 2 per page)", n)
	}
}

func TestFindReadsEveryPageAdvancingByWhatWasReturned(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{MaxResults: 2}, Config{})
	for i := range 4 {
		must(t, e.sim.AddUser(scimsim.User{UserName: "extra" + string(rune('a'+i)) + "@acme.example"}))
	}
	// The simulator caps pages at 2 although 100 are asked for, and reports itemsPerPage as
	// the count asked: the client must advance by what it received.
	users, err := e.conn.api.Find(t.Context(), `active eq true`)
	must(t, err)
	if len(users) != 6 {
		t.Fatalf("found %d active users, want 6", len(users))
	}
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.ID] {
			t.Errorf("user %s returned twice", u.ID)
		}
		seen[u.ID] = true
	}
	var starts []string
	for _, c := range e.sim.Recorder.Calls() {
		q, _ := url.ParseQuery(c.Query)
		starts = append(starts, q.Get("startIndex"))
	}
	if strings.Join(starts, ",") != "1,3,5" {
		t.Errorf("startIndex sequence %v, want 1,3,5", starts)
	}
}

func TestPlanAlreadyDeactivatedPlansNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{}, Config{})
	p, err := e.conn.Plan(t.Context(), connector.Person{Email: "walter.skinner@acme.example"})
	must(t, err)
	if p.NotFound || len(p.Actions) != 0 || len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "already inactive") {
		t.Fatalf("plan = %+v", p)
	}
	// In delete mode an inactive account is still there to delete.
	p, err = e.with(t, Config{Deprovision: ModeDelete}).Plan(t.Context(), connector.Person{Email: "walter.skinner@acme.example"})
	must(t, err)
	if len(p.Actions) != 1 || p.Actions[0].Kind != KindDelete {
		t.Fatalf("delete-mode plan = %+v", p)
	}
}

func TestNotFoundIsAFindingNamingTheFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{}, Config{})
	p, err := e.conn.Plan(t.Context(), connector.Person{Email: "nobody@acme.example"})
	must(t, err)
	if !p.NotFound || len(p.Notes) != 1 || !strings.Contains(p.Notes[0], `userName eq "nobody@acme.example"`) {
		t.Fatalf("plan = %+v", p)
	}
}

func TestNewReportsEveryConfigurationProblem(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Name: "Zoom App", UserFilter: `userName eq "{mail}"`, Deprovision: "purge"})
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"name", "base_url", "{mail}", "purge"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if _, err := New(Config{Name: "zoom", BaseURL: "https://x.example/scim", UserFilter: `active eq true`}); err == nil {
		t.Error("a filter without placeholders would match the same users for everyone; it must be refused")
	}
	c, err := New(Config{Name: "zoom", BaseURL: "https://x.example/scim"})
	must(t, err)
	if c.System() != "zoom" || c.filter != DefaultUserFilter || c.mode != ModeDeactivate {
		t.Errorf("defaults: %+v", c)
	}
}

func TestDecodeErrorReadsScimBodies(t *testing.T) {
	t.Parallel()
	for body, want := range map[string][2]string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"bad filter"}`: {"invalidFilter", "bad filter"},
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":403,"detail":"no"}`:                                      {"", "no"},
		`{"Errors":{"description":"gone","code":404}}`:                                                                                {"", `{"code":404,"description":"gone"}`},
		`not json`: {"", ""},
	} {
		code, summary := DecodeError(0, []byte(body))
		if code != want[0] || summary != want[1] {
			t.Errorf("DecodeError(%s) = %q, %q; want %q, %q", body, code, summary, want[0], want[1])
		}
	}
	if !errors.Is(&connector.APIError{Status: 404}, connector.ErrNotFound) {
		t.Error("a 404 APIError must be ErrNotFound")
	}
}

func TestFindKeepsPagingWhenTotalResultsIsMissing(t *testing.T) {
	t.Parallel()
	// A provider that omits totalResults and serves two users per page: a second match on
	// page two must still be found, or an ambiguous match would look unique.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := r.URL.Query().Get("startIndex")
		var body string
		switch start {
		case "1":
			body = `{"Resources":[{"id":"a","userName":"a"},{"id":"b","userName":"b"}]}`
		case "3":
			body = `{"Resources":[{"id":"c","userName":"c"}]}`
		default:
			body = `{"Resources":[]}`
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	c := mustNew(t, Config{Name: "stub", BaseURL: ts.URL, Token: secretToken})
	c.api.PageSize = 2
	users, err := c.api.Find(t.Context(), `userName eq "x"`)
	must(t, err)
	if len(users) != 3 {
		t.Fatalf("found %d users, want 3", len(users))
	}
}

func TestPagingSurvivesAThrottledPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{MaxResults: 1}, Config{UserFilter: `emails.value eq "{email}"`})
	must(t, e.sim.AddUser(scimsim.User{ID: "zu-twin", UserName: "twin@acme.example", Email: danaEmail}))
	e.sim.Faults.Only(func(r *http.Request) bool { return r.URL.Query().Get("startIndex") == "2" })
	e.sim.Faults.ThrottleNext(1)
	p, err := e.conn.Plan(t.Context(), dana)
	must(t, err)
	if !p.NotFound || len(p.Manual) != 1 || !strings.Contains(p.Notes[0], "zu-twin") {
		t.Fatalf("plan = %+v", p)
	}
	if n := len(e.sim.Recorder.Calls()); n != 3 {
		t.Errorf("%d requests, want 3 (page 1, a throttled page 2, page 2 again)", n)
	}
}

package slacksim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const token = "xoxp-sim-test-token-5521"

type harness struct {
	t   *testing.T
	s   *Server
	url string
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	opts.Token = token
	s := New(opts)
	mux := http.NewServeMux()
	mux.Handle("/slack/", http.StripPrefix("/slack", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	must(t, s.AddUser(User{ID: "U1", TeamID: "T1", Teams: []string{"T2"}, Email: "ana@acme.example", Name: "ana"}))
	must(t, s.AddUser(User{ID: "U2", TeamID: "T1", Email: "po@acme.example", Name: "po", IsPrimaryOwner: true}))
	if _, err := s.AddSession("U1", "T1", "laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddSession("U1", "T2", "phone"); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, s: s, url: ts.URL + "/slack"}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// send makes a raw request and decodes the JSON reply.
func (h *harness) send(method, path, contentType, body string, hdr map[string]string) (*http.Response, map[string]any) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	must(h.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	must(h.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp, out
}

var bearer = map[string]string{"Authorization": "Bearer " + token}

// post calls a Web API method with a form body and the bearer token.
func (h *harness) post(method string, args url.Values) (*http.Response, map[string]any) {
	return h.send("POST", "/api/"+method, "application/x-www-form-urlencoded", args.Encode(), bearer)
}

func TestWebAPIErrorsAreHTTP200WithOkFalse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		path string
		want string
	}{
		{"no token", nil, "/api/auth.test", "not_authed"},
		{"wrong token", map[string]string{"Authorization": "Bearer xoxp-nope"}, "/api/auth.test", "invalid_auth"},
		{"unknown email", bearer, "/api/users.lookupByEmail?email=nobody@acme.example", "users_not_found"},
		{"unknown user", bearer, "/api/users.info?user=U404", "user_not_found"},
		{"admin off Grid", bearer, "/api/admin.users.session.reset?user_id=U1", "feature_not_enabled"},
	} {
		resp, body := h.send("GET", tc.path, "", "", tc.hdr)
		if resp.StatusCode != 200 || body["ok"] != false || body["error"] != tc.want {
			t.Errorf("%s: %d %v, want 200 ok:false %s", tc.name, resp.StatusCode, body, tc.want)
		}
	}
}

func TestMethodsTakeGetPostFormJSONAndTokenArgument(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{EnterpriseGrid: true})
	_, a := h.send("GET", "/api/users.lookupByEmail?email=ANA@acme.example", "", "", bearer)
	_, b := h.post("users.lookupByEmail", url.Values{"email": {"ana@acme.example"}})
	_, c := h.send("POST", "/api/users.lookupByEmail", "application/json", `{"email":"ana@acme.example"}`, bearer)
	_, d := h.send("POST", "/api/users.lookupByEmail", "application/x-www-form-urlencoded", url.Values{"token": {token}, "email": {"ana@acme.example"}}.Encode(), nil)
	for i, body := range []map[string]any{a, b, c, d} {
		u, _ := body["user"].(map[string]any)
		if body["ok"] != true || u["id"] != "U1" || u["deleted"] != false {
			t.Errorf("form %d: %v", i, body)
		}
		eu, _ := u["enterprise_user"].(map[string]any)
		if teams, _ := eu["teams"].([]any); len(teams) != 2 {
			t.Errorf("form %d: enterprise_user.teams = %v", i, eu["teams"])
		}
	}
	resp, body := h.send("POST", "/api/auth.test", "text/plain", "x", bearer)
	if body["error"] != "invalid_post_type" {
		t.Errorf("text/plain body: %d %v", resp.StatusCode, body)
	}
}

func TestScopesAreListedAndEnforced(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{EnterpriseGrid: true, Scopes: []string{"users:read"}})
	resp, body := h.post("admin.users.session.reset", url.Values{"user_id": {"U1"}})
	if body["error"] != "missing_scope" || body["needed"] != "admin.users:write" || body["provided"] != "users:read" {
		t.Errorf("missing scope: %v", body)
	}
	if resp.Header.Get("X-OAuth-Scopes") != "users:read" {
		t.Errorf("X-OAuth-Scopes = %q", resp.Header.Get("X-OAuth-Scopes"))
	}
}

func TestSessionsListPerWorkspaceAndResetClearsThem(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{EnterpriseGrid: true})
	_, body := h.post("admin.users.session.list", url.Values{"user_id": {"U1"}, "team_id": {"T2"}})
	if s, _ := body["active_sessions"].([]any); body["ok"] != true || len(s) != 1 {
		t.Fatalf("list: %v", body)
	}
	_, body = h.post("admin.users.session.list", url.Values{"user_id": {"U1"}})
	if body["error"] != "invalid_arguments" {
		t.Errorf("user_id without team_id: %v", body)
	}
	_, body = h.post("admin.users.session.list", url.Values{"limit": {"1"}})
	next := body["response_metadata"].(map[string]any)["next_cursor"]
	if next == "" {
		t.Errorf("paging: no next_cursor with limit 1 over 2 sessions: %v", body)
	}
	_, body = h.post("admin.users.session.reset", url.Values{"user_id": {"U1"}})
	if body["ok"] != true {
		t.Fatalf("reset: %v", body)
	}
	if got := h.s.Holdings("U1"); len(got) != 1 || !strings.Contains(got[0], "active account") {
		t.Errorf("holdings after reset: %v", got)
	}
	_, body = h.post("admin.users.session.reset", url.Values{"user_id": {"U2"}})
	if body["error"] != "cannot_reset_primary_owner" {
		t.Errorf("primary owner: %v", body)
	}
}

func TestSCIMDeleteDeactivatesAndEndsSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{EnterpriseGrid: true})
	resp, _ := h.send("DELETE", "/scim/v2/Users/U1", "", "", bearer)
	if resp.StatusCode != 204 {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	resp, body := h.send("GET", "/scim/v2/Users/U1", "", "", bearer)
	if resp.StatusCode != 200 || body["active"] != false || body["userName"] != "ana" {
		t.Fatalf("GET after DELETE: %d %v", resp.StatusCode, body)
	}
	if got := h.s.Holdings("ana@acme.example"); len(got) != 0 {
		t.Errorf("holdings after deactivation: %v", got)
	}
	_, body = h.post("users.info", url.Values{"user": {"U1"}})
	if u := body["user"].(map[string]any); u["deleted"] != true {
		t.Errorf("users.info after deactivation: %v", u)
	}
	resp, body = h.send("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "ana"`), "", "", bearer)
	if resp.StatusCode != 200 || body["totalResults"] != float64(1) {
		t.Errorf("filter: %d %v", resp.StatusCode, body)
	}
	resp, body = h.send("GET", "/scim/v2/Users/U1", "", "", map[string]string{"Authorization": "Bearer nope"})
	if resp.StatusCode != 401 || body["status"] != "401" {
		t.Errorf("bad SCIM token: %d %v", resp.StatusCode, body)
	}
}

func TestNoSCIMPlanAnswers403(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{NoSCIM: true})
	resp, body := h.send("GET", "/scim/v2/Users/U1", "", "", bearer)
	if resp.StatusCode != 403 || body["status"] != "403" {
		t.Errorf("%d %v", resp.StatusCode, body)
	}
}

// clock is a settable clock for the budgets.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func TestTierBudgetAnswers429WithRetryAfter(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 1, 5, 10, 0, 30, 0, time.UTC)}
	h := newHarness(t, Options{EnterpriseGrid: true, Now: c.now})
	for i := range 20 {
		if _, body := h.post("admin.users.session.list", url.Values{"user_id": {"U1"}, "team_id": {"T1"}}); body["ok"] != true {
			t.Fatalf("call %d within Tier 2: %v", i, body)
		}
	}
	resp, body := h.post("admin.users.session.list", url.Values{"user_id": {"U1"}, "team_id": {"T1"}})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "31" || body["error"] != "ratelimited" {
		t.Fatalf("21st Tier 2 call: %d %q %v", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Another method has its own budget.
	if _, body := h.post("users.info", url.Values{"user": {"U1"}}); body["ok"] != true {
		t.Errorf("users.info shares the budget: %v", body)
	}
}

func TestSCIMWritesShareOneOrgWideBudget(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 1, 5, 10, 0, 50, 0, time.UTC)}
	h := newHarness(t, Options{Now: c.now, SCIMWritesPerMinute: 2})
	for i, id := range []string{"U1", "U2"} {
		if resp, _ := h.send("DELETE", "/scim/v2/Users/"+id, "", "", bearer); resp.StatusCode != 204 {
			t.Fatalf("write %d: %d", i, resp.StatusCode)
		}
	}
	resp, body := h.send("DELETE", "/scim/v2/Users/U1", "", "", bearer)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "11" || body["status"] != "429" {
		t.Fatalf("third write: %d %q %v", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if resp, _ := h.send("GET", "/scim/v2/Users/U1", "", "", bearer); resp.StatusCode != 200 {
		t.Errorf("reads do not spend the write budget: %d", resp.StatusCode)
	}
}

func TestInjectedThrottleAndUnknownEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.s.Faults.ThrottleNext(2)
	resp, body := h.post("auth.test", nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" || body["error"] != "ratelimited" {
		t.Errorf("web throttle: %d %v", resp.StatusCode, body)
	}
	resp, body = h.send("GET", "/scim/v2/Users/U1", "", "", bearer)
	if resp.StatusCode != 429 || body["status"] != "429" {
		t.Errorf("SCIM throttle: %d %v", resp.StatusCode, body)
	}
	for _, p := range []string{"/api/users.list", "/scim/v2/Groups", "/scim/v1/Users"} {
		if resp, _ := h.send("GET", p, "", "", bearer); resp.StatusCode != 501 {
			t.Errorf("%s: %d, want 501", p, resp.StatusCode)
		}
	}
	if resp, _ := h.send("POST", "/scim/v2/Users", "application/scim+json", `{}`, bearer); resp.StatusCode != 501 {
		t.Errorf("POST /scim/v2/Users: %d, want 501", resp.StatusCode)
	}
}

func TestSeedingRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := New(Options{Token: token})
	must(t, s.AddUser(User{ID: "U9", TeamID: "T1", Name: "x", Deactivated: true}))
	if err := s.AddUser(User{ID: "U9", TeamID: "T1", Name: "y"}); err == nil {
		t.Error("duplicate ID accepted")
	}
	if err := s.AddUser(User{ID: "U8", Name: "z"}); err == nil {
		t.Error("user without a workspace accepted")
	}
	if _, err := s.AddSession("U9", "T1", "laptop"); err == nil {
		t.Error("session for a deactivated user accepted")
	}
	if _, err := s.AddSession(AdminID, "T9", "laptop"); err == nil {
		t.Error("session on a foreign workspace accepted")
	}
}

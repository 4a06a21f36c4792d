package jenkinssim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The behaviour tests drive the simulator over HTTP without the connector, mounted under a
// context path, and check it answers as Jenkins does.

const adminToken = "11adminApiTokenForTests"

type harness struct {
	t   *testing.T
	s   *Server
	url string
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	opts.AdminUser, opts.AdminToken = "admin", adminToken
	s := New(opts)
	mux := http.NewServeMux()
	mux.Handle("/ci/", http.StripPrefix("/ci", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	if err := s.AddUser(User{ID: "dana", FullName: "Dana S", Email: "dana@x.example",
		Tokens: []Token{{UUID: "t-1", Name: "laptop", Value: "dana-secret"}, {UUID: "t-2", Name: "ci"}}}); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, s: s, url: ts.URL + "/ci"}
}

type call struct {
	method, path, user, token, body string
	header                          http.Header
}

func (h *harness) do(c call) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(c.method, h.url+c.path, strings.NewReader(c.body))
	if err != nil {
		h.t.Fatal(err)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.token)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

func (h *harness) admin(method, path, body string) (*http.Response, string) {
	return h.do(call{method: method, path: path, user: "admin", token: adminToken, body: body})
}

func TestAuthenticationAndReads(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	if resp, _ := h.do(call{method: "GET", path: "/whoAmI/api/json"}); resp.StatusCode != 403 {
		t.Errorf("anonymous: HTTP %d, want 403", resp.StatusCode)
	}
	if resp, body := h.do(call{method: "GET", path: "/whoAmI/api/json", user: "admin", token: "nope"}); resp.StatusCode != 401 || !strings.Contains(body, "Invalid password/token") {
		t.Errorf("bad token: HTTP %d %s", resp.StatusCode, body)
	}
	resp, body := h.admin("GET", "/user/DANA/api/json", "")
	var u map[string]any
	_ = json.Unmarshal([]byte(body), &u)
	if resp.StatusCode != 200 || u["id"] != "dana" || !strings.Contains(body, `"address":"dana@x.example"`) || strings.Contains(body, "t-1") {
		t.Errorf("user JSON: HTTP %d %s (IDs are case-insensitive, the mail address is exported, tokens are not)", resp.StatusCode, body)
	}
	if !strings.HasPrefix(u["absoluteUrl"].(string), h.url+"/user/") {
		t.Errorf("absoluteUrl %v lost the context path", u["absoluteUrl"])
	}
	if resp, _ := h.admin("GET", "/user/ghost/api/json", ""); resp.StatusCode != 404 {
		t.Errorf("unknown user: HTTP %d, want 404", resp.StatusCode)
	}
	if resp, body := h.admin("GET", "/user/dana/security/", ""); resp.StatusCode != 200 || !strings.Contains(body, `data-token-uuid="t-2"`) {
		t.Errorf("token page: HTTP %d %s", resp.StatusCode, body)
	}
	if resp, _ := h.admin("GET", "/user/dana/configure", ""); resp.StatusCode != 404 {
		t.Errorf("the legacy page on a current Jenkins: HTTP %d, want 404", resp.StatusCode)
	}
	if resp, _ := h.do(call{method: "GET", path: "/user/admin/security/", user: "dana", token: "dana-secret"}); resp.StatusCode != 403 {
		t.Errorf("another user's page without Administer: HTTP %d, want 403", resp.StatusCode)
	}
	if resp, _ := h.admin("GET", "/computer/api/json", ""); resp.StatusCode != 501 {
		t.Errorf("unknown endpoint: HTTP %d, want 501", resp.StatusCode)
	}
}

// TestPeopleListOnlyWhenAsked protects the simulator's match with current Jenkins: the people
// list's API is gone since 2.452 (JENKINS-18884) and answers 404 unless PeopleAPI models an
// older controller, which lists each user with their mail address.
func TestPeopleListOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	if resp, _ := newHarness(t, Options{}).admin("GET", "/asynchPeople/api/json", ""); resp.StatusCode != 404 {
		t.Errorf("people list on a current Jenkins: HTTP %d, want 404", resp.StatusCode)
	}
	resp, body := newHarness(t, Options{PeopleAPI: true}).admin("GET", "/asynchPeople/api/json", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"id":"dana"`) || !strings.Contains(body, `"address":"dana@x.example"`) {
		t.Errorf("people list with PeopleAPI: HTTP %d %s", resp.StatusCode, body)
	}
}

func TestRevokeAndDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	revoke := "/user/dana/descriptorByName/jenkins.security.ApiTokenProperty/revoke"
	if resp, body := h.do(call{method: "POST", path: revoke, user: "dana", token: "dana-secret", body: "tokenUuid=t-2"}); resp.StatusCode != 403 || !strings.Contains(body, "missing the Overall/Administer permission") {
		t.Errorf("revoke without Administer: HTTP %d %s", resp.StatusCode, body)
	}
	if resp, _ := h.admin("POST", revoke, "tokenUuid="); resp.StatusCode != 400 {
		t.Errorf("blank tokenUuid: HTTP %d, want 400", resp.StatusCode)
	}
	for range 2 { // the second time nothing has that UUID: still 200
		if resp, _ := h.admin("POST", revoke, url.Values{"tokenUuid": {"t-1"}}.Encode()); resp.StatusCode != 200 {
			t.Errorf("revoke: HTTP %d, want 200", resp.StatusCode)
		}
	}
	if resp, _ := h.do(call{method: "GET", path: "/whoAmI/api/json", user: "dana", token: "dana-secret"}); resp.StatusCode != 401 {
		t.Errorf("a revoked token still signs in: HTTP %d", resp.StatusCode)
	}
	if got := h.s.Holdings("dana@x.example"); len(got) != 2 {
		t.Errorf("holdings %v, want the account and token t-2", got)
	}
	if resp, body := h.admin("POST", "/user/admin/doDelete", ""); resp.StatusCode != 400 || !strings.Contains(body, "Cannot delete self") {
		t.Errorf("self delete: HTTP %d %s", resp.StatusCode, body)
	}
	resp, _ := h.admin("POST", "/user/dana/doDelete", "")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != h.url+"/" {
		t.Errorf("delete: HTTP %d to %q, want 302 to the root", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := h.admin("GET", "/user/dana/api/json", ""); resp.StatusCode != 404 {
		t.Errorf("deleted user: HTTP %d, want 404", resp.StatusCode)
	}
	if got := h.s.Holdings("dana"); len(got) != 0 {
		t.Errorf("after deletion dana holds %v", got)
	}
	if resp, _ := h.admin("GET", "/user/dana/doDelete", ""); resp.StatusCode != 501 && resp.StatusCode != 405 {
		t.Errorf("doDelete by GET: HTTP %d, want it refused", resp.StatusCode)
	}
}

func TestCrumbs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{CrumbForTokens: true})
	revoke := "/user/dana/descriptorByName/jenkins.security.ApiTokenProperty/revoke"
	if resp, body := h.admin("POST", revoke, "tokenUuid=t-1"); resp.StatusCode != 403 || !strings.Contains(body, "No valid crumb") {
		t.Fatalf("POST without crumb: HTTP %d %s", resp.StatusCode, body)
	}
	resp, body := h.admin("GET", "/crumbIssuer/api/json", "")
	var cr struct{ Crumb, CrumbRequestField string }
	_ = json.Unmarshal([]byte(body), &cr)
	cookies := resp.Cookies()
	if resp.StatusCode != 200 || cr.CrumbRequestField != "Jenkins-Crumb" || cr.Crumb == "" || len(cookies) != 1 {
		t.Fatalf("crumb issuer: HTTP %d %s cookies %v", resp.StatusCode, body, cookies)
	}
	onlyCrumb := http.Header{"Jenkins-Crumb": {cr.Crumb}}
	if resp, _ := h.do(call{method: "POST", path: revoke, user: "admin", token: adminToken, body: "tokenUuid=t-1", header: onlyCrumb}); resp.StatusCode != 403 {
		t.Errorf("crumb without its session: HTTP %d, want 403", resp.StatusCode)
	}
	both := http.Header{"Jenkins-Crumb": {cr.Crumb}, "Cookie": {cookies[0].Name + "=" + cookies[0].Value}}
	if resp, _ := h.do(call{method: "POST", path: revoke, user: "admin", token: adminToken, body: "tokenUuid=t-1", header: both}); resp.StatusCode != 200 {
		t.Errorf("crumb with session: HTTP %d, want 200", resp.StatusCode)
	}
	off := newHarness(t, Options{NoCrumbIssuer: true})
	if resp, _ := off.admin("GET", "/crumbIssuer/api/json", ""); resp.StatusCode != 404 {
		t.Errorf("CSRF protection off: crumb issuer HTTP %d, want 404", resp.StatusCode)
	}
}

func TestThrottleAndSeeding(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{PerMinute: 1})
	h.admin("GET", "/whoAmI/api/json", "")
	if resp, _ := h.admin("GET", "/whoAmI/api/json", ""); resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the proxy's budget: HTTP %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if err := h.s.AddUser(User{ID: "DANA"}); err == nil {
		t.Error("a duplicate user ID (case-insensitive) was accepted")
	}
	if err := h.s.AddUser(User{ID: "a/b"}); err == nil {
		t.Error("an ID with a slash was accepted")
	}
	if err := h.s.AddToken("ghost", Token{Name: "x"}); err == nil {
		t.Error("a token for an unknown user was accepted")
	}
}

package scimsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const token = "scim-sim-token-9f8e7d"

// harness is a simulator mounted under a path prefix, as `offboard sim` mounts it.
type harness struct {
	t   *testing.T
	s   *Server
	url string
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	opts.Token = token
	if opts.Name == "" {
		opts.Name = "zoom"
	}
	s := New(opts)
	mux := http.NewServeMux()
	mux.Handle("/zoom/", http.StripPrefix("/zoom", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	must(t, s.AddUser(User{ID: "u1", UserName: "dana@acme.example", Email: "dana@acme.example", ExternalID: "W1"}))
	must(t, s.AddUser(User{ID: "u2", UserName: `o"brien\x@acme.example`, Email: "ob@acme.example"}))
	must(t, s.AddUser(User{ID: "u3", UserName: "sam@acme.example", Inactive: true}))
	must(t, s.AddGroup(Group{ID: "g1", DisplayName: "Admins"}))
	must(t, s.AddMember("g1", "u1"))
	return &harness{t: t, s: s, url: ts.URL + "/zoom"}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// do sends a request with the good token unless auth is given, and decodes a JSON reply.
func (h *harness) do(method, path, auth, body string) (int, http.Header, map[string]any) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	must(h.t, err)
	if auth == "" {
		auth = "Bearer " + token
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	must(h.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out)
	}
	return resp.StatusCode, resp.Header, out
}

func filterPath(f string, extra string) string {
	return "/Users?filter=" + url.QueryEscape(f) + extra
}

func TestWrongTokenIsA401WithAScimErrorBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	status, hdr, body := h.do("GET", "/Users", "Bearer nope", "")
	if status != 401 || body["status"] != "401" || hdr.Get("WWW-Authenticate") == "" {
		t.Fatalf("got %d %v %v, want 401 with status \"401\" and a challenge", status, body, hdr)
	}
	if s, _ := body["schemas"].([]any); len(s) != 1 || s[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("schemas = %v", body["schemas"])
	}
}

func TestFilterMatchesUserNameCaseInsensitivelyAndUnescapesLiterals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	for _, tc := range []struct{ filter, want string }{
		{`userName eq "DANA@acme.example"`, "u1"},
		{`userName eq "o\"brien\\x@acme.example"`, "u2"},
		{`emails.value eq "ob@acme.example"`, "u2"},
		{`emails[type eq "work" and value eq "ob@acme.example"]`, "u2"},
		{`userName eq "sam@acme.example" and active eq false`, "u3"},
	} {
		status, _, body := h.do("GET", filterPath(tc.filter, ""), "", "")
		res, _ := body["Resources"].([]any)
		if status != 200 || body["totalResults"] != float64(1) || len(res) != 1 || res[0].(map[string]any)["id"] != tc.want {
			t.Errorf("filter %s: got %d %v, want only %s", tc.filter, status, body, tc.want)
		}
	}
	status, _, body := h.do("GET", filterPath(`userName eq "nobody@acme.example"`, ""), "", "")
	if status != 200 || body["totalResults"] != float64(0) {
		t.Errorf("no match: got %d %v", status, body)
	}
	status, _, body = h.do("GET", filterPath(`userName eq`, ""), "", "")
	if status != 400 || body["scimType"] != "invalidFilter" {
		t.Errorf("bad filter: got %d %v, want 400 invalidFilter", status, body)
	}
}

func TestPagingCapsCountAtMaxResults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{MaxResults: 2})
	status, _, body := h.do("GET", "/Users?startIndex=1&count=50", "", "")
	if status != 200 || body["totalResults"] != float64(3) || len(body["Resources"].([]any)) != 2 {
		t.Fatalf("page 1: %d %v", status, body)
	}
	_, _, body = h.do("GET", "/Users?startIndex=3&count=2", "", "")
	if res := body["Resources"].([]any); len(res) != 1 || res[0].(map[string]any)["id"] != "u3" || body["startIndex"] != float64(3) {
		t.Fatalf("page 2: %v", body)
	}
}

func TestPatchDeactivatesInBothForms(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	status, _, body := h.do("PATCH", "/Users/u1", "", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
	if status != 200 || body["active"] != false {
		t.Fatalf("path form: %d %v", status, body)
	}
	status, _, body = h.do("PATCH", "/Users/u2", "", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`)
	if status != 200 || body["active"] != false {
		t.Fatalf("no-path form: %d %v", status, body)
	}
	if got := h.s.Holdings("dana@acme.example"); len(got) != 0 {
		t.Errorf("holdings after deactivation: %v", got)
	}
	status, _, body = h.do("PATCH", "/Users/nobody", "", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
	if status != 404 || body["status"] != "404" {
		t.Errorf("unknown user: %d %v", status, body)
	}
	status, _, _ = h.do("PATCH", "/Users/u1", "", `{"schemas":["wrong"],"Operations":[]}`)
	if status != 400 {
		t.Errorf("malformed PatchOp: %d, want 400", status)
	}
}

func TestDeleteRemovesOrDeactivates(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{DeleteMode: true})
	if got := h.s.Holdings("sam@acme.example"); len(got) != 1 {
		t.Errorf("delete mode: an inactive account still held: %v", got)
	}
	if status, _, _ := h.do("DELETE", "/Users/u1", "", ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if status, _, _ := h.do("GET", "/Users/u1", "", ""); status != 404 {
		t.Errorf("GET after delete: %d, want 404", status)
	}
	if status, _, _ := h.do("DELETE", "/Users/u1", "", ""); status != 404 {
		t.Errorf("second delete: %d, want 404", status)
	}
	if got := h.s.Holdings("dana@acme.example"); len(got) != 0 {
		t.Errorf("holdings after delete: %v", got)
	}

	d := newHarness(t, Options{DeleteDeactivates: true})
	if status, _, _ := d.do("DELETE", "/Users/u1", "", ""); status != 204 {
		t.Fatalf("deactivating delete: %d", status)
	}
	status, _, body := d.do("GET", "/Users/u1", "", "")
	if status != 200 || body["active"] != false {
		t.Errorf("GET after deactivating delete: %d %v", status, body)
	}
}

func TestHoldingsListsActiveAccountAndGroups(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	got := h.s.Holdings("dana@acme.example")
	if len(got) != 2 || !strings.Contains(got[0], "active account") || !strings.Contains(got[1], "Admins") {
		t.Errorf("holdings = %v", got)
	}
	if got := h.s.Holdings("sam@acme.example"); len(got) != 0 {
		t.Errorf("an inactive account in deactivate mode holds nothing: %v", got)
	}
}

func TestUnknownEndpointsAnswer501AndThrottleSends429WithRetryAfter(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	if status, _, _ := h.do("POST", "/Users", "", `{}`); status != 501 {
		t.Errorf("POST /Users: %d, want 501", status)
	}
	if status, _, _ := h.do("GET", "/Groups", "", ""); status != 501 {
		t.Errorf("GET /Groups: %d, want 501", status)
	}
	h.s.Faults.ThrottleNext(1)
	status, hdr, body := h.do("GET", "/Users/u1", "", "")
	if status != 429 || hdr.Get("Retry-After") != "1" || body["status"] != "429" {
		t.Errorf("throttled: %d %v %v", status, hdr, body)
	}
	if n := h.s.Recorder.Count("", "/Users", ""); n != 2 {
		t.Errorf("recorder saw %d calls", n)
	}
}

func TestSeedingRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := New(Options{Name: "x", Token: token})
	must(t, s.AddUser(User{UserName: "a@x"}))
	for _, err := range []error{
		s.AddUser(User{UserName: ""}),
		s.AddUser(User{UserName: "A@x"}),
		s.AddGroup(Group{ID: "g"}),
		s.AddMember("nope", "x-u0001"),
	} {
		if err == nil {
			t.Error("bad seed accepted")
		}
	}
}

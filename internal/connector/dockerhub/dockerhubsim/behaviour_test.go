package dockerhubsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The behaviour tests drive the simulator over HTTP without the connector, mounted under a
// prefix as `offboard sim` mounts it, and check it answers as Docker Hub documents.

const oat = "dckr_oat_test-secret-token"

type harness struct {
	t   *testing.T
	s   *Server
	url string
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	opts.Token = oat
	s := New(opts)
	mux := http.NewServeMux()
	mux.Handle("/hub/", http.StripPrefix("/hub", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &harness{t: t, s: s, url: ts.URL + "/hub"}
}

func (h *harness) do(method, path, bearer, body string) (*http.Response, map[string]any) {
	h.t.Helper()
	url := path
	if !strings.HasPrefix(path, "http") {
		url = h.url + path
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp, out
}

func (h *harness) login(identifier, secret string) string {
	h.t.Helper()
	resp, body := h.do("POST", "/v2/auth/token", "", `{"identifier":"`+identifier+`","secret":"`+secret+`"}`)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("login: HTTP %d %v", resp.StatusCode, body)
	}
	tok, _ := body["access_token"].(string)
	if strings.Count(tok, ".") != 2 {
		h.t.Fatalf("access_token %q is not a JWT", tok)
	}
	return tok
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Org: "acme", PATUser: "bob", PAT: "dckr_pat_bob"})
	resp, body := h.do("POST", "/v2/auth/token", "", `{"identifier":"acme","secret":"wrong"}`)
	if resp.StatusCode != 401 || body["message"] != "unauthorized" {
		t.Errorf("wrong secret: HTTP %d %v, want 401 unauthorized", resp.StatusCode, body)
	}
	if _, ok := body["errinfo"]; !ok {
		t.Error("error body lacks errinfo")
	}
	if resp, _ := h.do("GET", "/v2/orgs/acme/members", "", ""); resp.StatusCode != 401 {
		t.Errorf("no token: HTTP %d, want 401", resp.StatusCode)
	}
	pat := h.login("bob", "dckr_pat_bob")
	resp, body = h.do("GET", "/v2/orgs/acme/members", pat, "")
	if resp.StatusCode != 403 || !strings.Contains(body["detail"].(string), "personal access token") {
		t.Errorf("PAT JWT on an org endpoint: HTTP %d %v, want 403", resp.StatusCode, body)
	}
	tok := h.login("acme", oat)
	if resp, _ := h.do("GET", "/v2/orgs/other/members", tok, ""); resp.StatusCode != 404 {
		t.Errorf("another org: HTTP %d, want 404", resp.StatusCode)
	}
	if resp, _ := h.do("GET", "/v2/orgs/acme/members", tok, ""); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") == "" {
		t.Errorf("good token: HTTP %d with rate headers %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := h.do("GET", "/v2/repositories/acme", tok, ""); resp.StatusCode != 501 {
		t.Errorf("unknown endpoint: HTTP %d, want 501", resp.StatusCode)
	}
}

func TestTokensExpire(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	h := newHarness(t, Options{Now: func() time.Time { return clock() }})
	tok := h.login("acme", oat)
	now = now.Add(10*time.Minute + time.Second)
	if resp, body := h.do("GET", "/v2/orgs/acme/invites", tok, ""); resp.StatusCode != 401 {
		t.Errorf("expired JWT: HTTP %d %v, want 401", resp.StatusCode, body)
	}
}

func TestMemberPagingKeepsPrefix(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{MaxPageSize: 2})
	for i := range 5 {
		if err := h.s.AddMember(Member{Username: "user" + strconv.Itoa(i), Email: "u" + strconv.Itoa(i) + "@x.example"}); err != nil {
			t.Fatal(err)
		}
	}
	tok := h.login("acme", oat)
	var names []string
	next := "/v2/orgs/acme/members?page_size=50&search=user"
	for pages := 0; next != ""; pages++ {
		resp, body := h.do("GET", next, tok, "")
		if resp.StatusCode != 200 || pages > 5 {
			t.Fatalf("page %d: HTTP %d %v", pages, resp.StatusCode, body)
		}
		if body["count"].(float64) != 5 {
			t.Errorf("count %v, want 5", body["count"])
		}
		for _, r := range body["results"].([]any) {
			names = append(names, r.(map[string]any)["username"].(string))
		}
		next, _ = body["next"].(string)
		if next != "" && !strings.Contains(next, "/hub/v2/orgs/acme/members") {
			t.Fatalf("next link %q lost the mount prefix", next)
		}
	}
	if want := []string{"user0", "user1", "user2", "user3", "user4"}; !slices.Equal(names, want) {
		t.Errorf("paged through %v, want %v", names, want)
	}
}

func TestRemovalAndInvites(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(h.s.AddMember(Member{Username: "boss", Role: RoleOwner}))
	must(h.s.AddMember(Member{Username: "dana", Email: "dana@x.example", Teams: []string{"dev"}}))
	id, err := h.s.AddInvite(Invite{Invitee: "dana@x.example", Team: "ops"})
	must(err)
	if got := h.s.Holdings("dana"); len(got) != 3 {
		t.Errorf("holdings %v, want membership, team and invite", got)
	}
	tok := h.login("acme", oat)
	if resp, body := h.do("DELETE", "/v2/orgs/acme/members/boss", tok, ""); resp.StatusCode != 400 {
		t.Errorf("removing the last owner: HTTP %d %v, want 400", resp.StatusCode, body)
	}
	if resp, _ := h.do("DELETE", "/v2/orgs/acme/members/dana", tok, ""); resp.StatusCode != 204 {
		t.Errorf("remove member: HTTP %d, want 204", resp.StatusCode)
	}
	if resp, _ := h.do("DELETE", "/v2/orgs/acme/members/dana", tok, ""); resp.StatusCode != 404 {
		t.Errorf("remove again: HTTP %d, want 404", resp.StatusCode)
	}
	_, body := h.do("GET", "/v2/orgs/acme/invites", tok, "")
	if data := body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != id {
		t.Errorf("invites %v", body)
	}
	if resp, _ := h.do("DELETE", "/v2/invites/"+id, tok, ""); resp.StatusCode != 204 {
		t.Errorf("cancel invite: HTTP %d, want 204", resp.StatusCode)
	}
	if resp, _ := h.do("DELETE", "/v2/invites/"+id, tok, ""); resp.StatusCode != 404 {
		t.Errorf("cancel again: HTTP %d, want 404", resp.StatusCode)
	}
	if got := h.s.Holdings("dana@x.example"); len(got) != 0 {
		t.Errorf("after offboarding dana holds %v", got)
	}
	if err := h.s.AddMember(Member{Username: "x", Role: "Admin"}); err == nil {
		t.Error("an unknown role was accepted")
	}
}

func TestThrottleHeaders(t *testing.T) {
	t.Parallel()
	for _, legacy := range []bool{false, true} {
		h := newHarness(t, Options{LegacyRetryHeader: legacy})
		h.s.Faults.ThrottleNext(1)
		resp, body := h.do("POST", "/v2/auth/token", "", `{}`)
		if resp.StatusCode != 429 || body["message"] == nil {
			t.Fatalf("throttled: HTTP %d %v", resp.StatusCode, body)
		}
		ra, xra := resp.Header.Get("Retry-After"), resp.Header.Get("X-Retry-After")
		if legacy {
			ts, err := strconv.ParseInt(xra, 10, 64)
			if err != nil || ra != "" || ts < time.Now().Unix() {
				t.Errorf("legacy 429: Retry-After %q X-Retry-After %q, want a future unix time only", ra, xra)
			}
		} else if ra != "1" || xra != "" {
			t.Errorf("429: Retry-After %q X-Retry-After %q, want 1 second", ra, xra)
		}
	}
	h := newHarness(t, Options{PerMinute: 1})
	h.login("acme", oat)
	if resp, _ := h.do("POST", "/v2/auth/token", "", `{}`); resp.StatusCode != 429 || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("over budget: HTTP %d remaining %q, want 429 and 0", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
}

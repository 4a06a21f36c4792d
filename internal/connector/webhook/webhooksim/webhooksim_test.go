package webhooksim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/signature"
)

const secret = "sim-secret-0123456789abcdef"

// mounted starts the simulator under /webhook-example, as `offboard sim` mounts it, seeded with
// dana (two roles, one key) and sam (one key).
func mounted(t *testing.T) (*Server, string) {
	t.Helper()
	s := New(Options{Secret: secret})
	for _, err := range []error{
		first(s.AddAccount("dana", "dana@acme.example", "Dana")),
		first(s.AddAccount("sam", "sam@acme.example", "Sam")),
		s.GrantRole("dana", "admin"),
		s.GrantRole("dana", "billing"),
		first(s.AddAPIKey("dana", "ci")),
		first(s.AddAPIKey("sam", "laptop")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook-example", http.StripPrefix("/webhook-example", s))
	mux.Handle("/webhook-example/", http.StripPrefix("/webhook-example", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return s, ts.URL + "/webhook-example"
}

func first[T any](_ T, err error) error { return err }

// post sends body, signed with key unless key is nil, and returns the status and decoded answer.
func post(t *testing.T, url string, key []byte, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != nil {
		req.Header.Set(signature.Header, signature.Sign(key, time.Now(), []byte(body)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer is not JSON: %s", raw)
	}
	return resp.StatusCode, resp.Header, out
}

func errorCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

const planDana = `{"version":1,"phase":"plan","system":"admin-tool","person":{"email":"dana@acme.example"}}`

// TestProtocolStatuses protects the simulator's HTTP behaviour, checked without the connector:
// a signed request is answered on the mount path with or without a trailing slash; an
// unsigned or wrongly signed one gets 401; malformed or mismatched requests get 400 with the
// protocol's error body; other methods get 501.
func TestProtocolStatuses(t *testing.T) {
	t.Parallel()
	_, base := mounted(t)
	cases := []struct {
		name   string
		url    string
		key    []byte
		body   string
		status int
		code   string
	}{
		{"signed, exact mount path", base, []byte(secret), planDana, 200, ""},
		{"signed, trailing slash", base + "/", []byte(secret), planDana, 200, ""},
		{"unsigned", base, nil, planDana, 401, "bad_signature"},
		{"wrong secret", base, []byte("another-secret-0123456789"), planDana, 401, "bad_signature"},
		{"phase in URL differs", base + "?phase=verify", []byte(secret), planDana, 400, "phase_mismatch"},
		{"unknown phase", base, []byte(secret), `{"version":1,"phase":"delete","person":{}}`, 400, "bad_request"},
		{"other version", base, []byte(secret), `{"version":2,"phase":"plan","person":{}}`, 400, "unsupported_version"},
		{"unknown field", base, []byte(secret), `{"version":1,"phase":"plan","persona":{}}`, 400, "bad_request"},
		{"apply without action", base, []byte(secret), `{"version":1,"phase":"apply","person":{}}`, 400, "bad_request"},
	}
	for _, tc := range cases {
		status, _, out := post(t, tc.url, tc.key, tc.body)
		if status != tc.status || errorCode(out) != tc.code {
			t.Errorf("%s: %d %v, want %d with code %q", tc.name, status, out, tc.status, tc.code)
		}
	}
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("GET: %d, want 501", resp.StatusCode)
	}
}

// TestFaultsAndRecorder protects the simulator's injected faults: a 429 with Retry-After and
// the protocol's error body, a 503, both recorded with the phase in the query.
func TestFaultsAndRecorder(t *testing.T) {
	t.Parallel()
	s, base := mounted(t)
	s.Faults.ThrottleNext(1)
	status, h, out := post(t, base+"?phase=plan", []byte(secret), planDana)
	if status != 429 || h.Get("Retry-After") != "1" || errorCode(out) != "rate_limited" {
		t.Errorf("throttled: %d Retry-After %q %v", status, h.Get("Retry-After"), out)
	}
	s.Faults.FailNext(1, 503)
	if status, _, _ := post(t, base+"?phase=plan", []byte(secret), planDana); status != 503 {
		t.Errorf("failing: %d, want 503", status)
	}
	if status, _, _ := post(t, base+"?phase=plan", []byte(secret), planDana); status != 200 {
		t.Errorf("after the faults: %d, want 200", status)
	}
	var got []int
	for _, c := range s.Recorder.Calls() {
		if c.Query != "phase=plan" {
			t.Errorf("recorded query %q", c.Query)
		}
		got = append(got, c.Status)
	}
	if !slices.Equal(got, []int{429, 503, 200}) {
		t.Errorf("recorded statuses %v", got)
	}
}

// TestPlanApplyVerifyAndHoldings protects the tool's behaviour through the simulator: the plan
// lists keys, roles and the account with its dependencies; apply is idempotent; a key of
// another account is refused; verify reads back; Holdings drains to empty.
func TestPlanApplyVerifyAndHoldings(t *testing.T) {
	t.Parallel()
	s, base := mounted(t)
	if h := s.Holdings("dana@acme.example"); len(h) != 4 {
		t.Fatalf("holdings before: %q", h)
	}
	status, _, out := post(t, base, []byte(secret), planDana)
	actions, _ := out["actions"].([]any)
	if status != 200 || len(actions) != 4 {
		t.Fatalf("plan: %d %v", status, out)
	}
	apply := func(action any, phase string) map[string]any {
		b, _ := json.Marshal(map[string]any{"version": 1, "phase": phase, "system": "admin-tool", "person": map[string]string{"email": "dana@acme.example"}, "action": action, "idempotency_key": "k"})
		status, _, out := post(t, base, []byte(secret), string(b))
		if status != 200 {
			t.Fatalf("%s: %d %v", phase, status, out)
		}
		return out
	}
	for _, a := range actions {
		if v := apply(a, "verify"); v["verified"] != false {
			t.Errorf("verify before apply: %v", v)
		}
		if r := apply(a, "apply"); r["ok"] != true || r["changed"] != true {
			t.Errorf("apply: %v", r)
		}
		if r := apply(a, "apply"); r["ok"] != true || r["changed"] != nil {
			t.Errorf("second apply: %v, want ok without change", r)
		}
		if v := apply(a, "verify"); v["verified"] != true || v["read"] == nil {
			t.Errorf("verify after apply: %v", v)
		}
	}
	if h := s.Holdings("dana@acme.example"); len(h) != 0 {
		t.Errorf("holdings after: %q", h)
	}
	steal := map[string]any{"kind": "revoke_api_key", "target": "k-2", "detail": "x", "params": map[string]string{"account_id": "u-1"}}
	if r := apply(steal, "apply"); r["ok"] != false || r["error"].(map[string]any)["retryable"] != false {
		t.Errorf("revoking sam's key through dana's account: %v, want a permanent refusal", r)
	}
	if h := s.Holdings("sam@acme.example"); len(h) != 2 {
		t.Errorf("sam's holdings: %q", h)
	}
}

// TestSeedingRejectsBadInput protects the demo's seeding from silent mistakes.
func TestSeedingRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := New(Options{Secret: secret})
	if _, err := s.AddAccount("dana", "", "Dana"); err == nil {
		t.Error("an account without email was accepted")
	}
	if _, err := s.AddAccount("dana", "dana@acme.example", "Dana"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddAccount("dana", "other@acme.example", "Dana"); err == nil {
		t.Error("a duplicate username was accepted")
	}
	if err := s.GrantRole("nobody", "admin"); err == nil {
		t.Error("a role for an unknown account was accepted")
	}
	if _, err := s.AddAPIKey("nobody", "ci"); err == nil {
		t.Error("a key for an unknown account was accepted")
	}
}

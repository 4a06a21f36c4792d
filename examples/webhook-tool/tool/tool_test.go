package tool

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testSecret = "example-secret-0123456789abcdef"

// sign is the sender's half of the scheme, as offboard computes it.
func sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts + "."))
	h.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(h.Sum(nil))
}

type testTool struct {
	admin *Admin
	url   string
}

func newTestTool(t *testing.T, opts Options) *testTool {
	t.Helper()
	admin := NewAdmin()
	opts.Admin = admin
	opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if opts.Secret == "" {
		opts.Secret = testSecret
	}
	ts := httptest.NewServer(NewHandler(opts))
	t.Cleanup(ts.Close)
	for _, err := range []error{
		errOf(admin.AddAccount("dana", "dana@acme.example", "Dana")),
		errOf(admin.AddAccount("sam", "sam@acme.example", "Sam")),
		admin.GrantRole("dana", "admin"),
		errOf(admin.AddAPIKey("dana", "ci")),
		errOf(admin.AddAPIKey("sam", "laptop")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &testTool{admin: admin, url: ts.URL}
}

func errOf(_ string, err error) error { return err }

// do POSTs req signed with secret at time at, and decodes a 200 answer into out.
func (tt *testTool) do(t *testing.T, secret string, at time.Time, req any, out any) int {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest(http.MethodPost, tt.url, bytes.NewReader(body))
	r.Header.Set(SignatureHeader, sign(secret, at, body))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && out != nil {
		dec := json.NewDecoder(resp.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

var dana = Person{Email: "dana@acme.example"}

// TestOffboardingFlow protects what the example promises: the plan lists the key, the role and
// the account (disable after both), apply is idempotent, verify reads the change back.
func TestOffboardingFlow(t *testing.T) {
	t.Parallel()
	tt := newTestTool(t, Options{})
	now := time.Now()
	var plan PlanResponse
	if s := tt.do(t, testSecret, now, Request{Version: 1, Phase: PhasePlan, Person: dana}, &plan); s != 200 {
		t.Fatalf("plan: %d", s)
	}
	var kinds []string
	for _, a := range plan.Actions {
		kinds = append(kinds, a.Kind+" "+a.Target+" "+strings.Join(a.After, ","))
	}
	want := "revoke_api_key k-1 |remove_role u-1:admin |disable_account u-1 revoke_api_key,remove_role"
	if got := strings.Join(kinds, "|"); got != want || plan.Version != 1 || plan.Phase != PhasePlan || plan.Account == "" {
		t.Fatalf("plan = %+v\n kinds %q, want %q", plan, got, want)
	}
	for _, a := range plan.Actions {
		req := Request{Version: 1, Phase: PhaseApply, Person: dana, Action: &a, IdempotencyKey: "admin-tool/" + a.Kind + "/" + a.Target}
		var first, second ApplyResponse
		tt.do(t, testSecret, now, req, &first)
		tt.do(t, testSecret, now, req, &second)
		if !first.OK || !first.Changed || !second.OK || second.Changed {
			t.Errorf("%s: apply twice = %+v then %+v, want a change then ok without one", a.Kind, first, second)
		}
		req.Phase = PhaseVerify
		var v VerifyResponse
		tt.do(t, testSecret, now, req, &v)
		if !v.Verified || v.Observed == "" || len(v.Read) == 0 {
			t.Errorf("%s: verify = %+v", a.Kind, v)
		}
	}
	if h := tt.admin.Holdings(dana.Email); len(h) != 0 {
		t.Errorf("dana still holds %q", h)
	}
	if h := tt.admin.Holdings("sam@acme.example"); len(h) != 2 {
		t.Errorf("sam's holdings %q", h)
	}
	var again PlanResponse
	tt.do(t, testSecret, now, Request{Version: 1, Phase: PhasePlan, Person: dana}, &again)
	if len(again.Actions) != 0 || again.NotFound {
		t.Errorf("plan after offboarding = %+v, want the account with nothing to do", again)
	}
}

// TestSignatureIsRequired protects the tool from forged or replayed requests: a wrong secret
// or a stale timestamp gets 401, and the previous secret works during a rotation.
func TestSignatureIsRequired(t *testing.T) {
	t.Parallel()
	tt := newTestTool(t, Options{PreviousSecret: "previous-secret-0123456789"})
	req := Request{Version: 1, Phase: PhasePlan, Person: dana}
	now := time.Now()
	cases := []struct {
		name   string
		secret string
		at     time.Time
		status int
	}{
		{"current secret", testSecret, now, 200},
		{"previous secret", "previous-secret-0123456789", now, 200},
		{"wrong secret", "wrong-secret-0123456789abc", now, 401},
		{"stale", testSecret, now.Add(-10 * time.Minute), 401},
	}
	for _, tc := range cases {
		if s := tt.do(t, tc.secret, tc.at, req, nil); s != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, s, tc.status)
		}
	}
}

// TestBadRequests protects the tool's refusals: wrong method, oversize body, unknown fields,
// unknown phase and version, and a phase in the URL that contradicts the signed body.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	tt := newTestTool(t, Options{})
	send := func(method, url, body string) int {
		r, _ := http.NewRequest(method, url, strings.NewReader(body))
		r.Header.Set(SignatureHeader, sign(testSecret, time.Now(), []byte(body)))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		name, method, query, body string
		status                    int
	}{
		{"GET", http.MethodGet, "", "", 405},
		{"oversize", http.MethodPost, "", `{"x":"` + strings.Repeat("a", MaxRequestBody) + `"}`, 413},
		{"not JSON", http.MethodPost, "", `hello`, 400},
		{"unknown field", http.MethodPost, "", `{"version":1,"phase":"plan","persona":{}}`, 400},
		{"unknown phase", http.MethodPost, "", `{"version":1,"phase":"erase"}`, 400},
		{"version 2", http.MethodPost, "", `{"version":2,"phase":"plan"}`, 400},
		{"phase mismatch", http.MethodPost, "?phase=verify", `{"version":1,"phase":"apply","action":{"kind":"disable_account","target":"u-1","detail":"d","params":{"account_id":"u-1"}}}`, 400},
		{"verify without action", http.MethodPost, "", `{"version":1,"phase":"verify"}`, 400},
		{"check", http.MethodPost, "?phase=check", `{"version":1,"phase":"check"}`, 200},
	}
	for _, tc := range cases {
		if s := send(tc.method, tt.url+tc.query, tc.body); s != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, s, tc.status)
		}
	}
	if h := tt.admin.Holdings(dana.Email); len(h) != 3 {
		t.Errorf("a refused request changed something: %q", h)
	}
}

// TestPlanFindings protects identity matching: an unknown person is not found, two accounts
// with one email are a manual decision rather than a guess, and a handle picks one.
func TestPlanFindings(t *testing.T) {
	t.Parallel()
	a := NewAdmin()
	_, _ = a.AddAccount("dana", "dana@acme.example", "Dana")
	_, _ = a.AddAccount("dana-admin", "DANA@acme.example", "Dana (admin)")
	if p := a.Plan(Person{Email: "nobody@acme.example"}); !p.NotFound || len(p.Notes) == 0 || p.Actions == nil {
		t.Errorf("unknown: %+v", p)
	}
	if p := a.Plan(dana); !p.NotFound || len(p.Manual) != 1 || !strings.Contains(p.Manual[0].Detail, "dana-admin") {
		t.Errorf("ambiguous: %+v", p)
	}
	if p := a.Plan(Person{Email: dana.Email, Handle: "dana-admin"}); p.NotFound || len(p.Actions) != 1 || p.Actions[0].Target != "u-2" {
		t.Errorf("by handle: %+v", p)
	}
}

// TestApplyRefusals protects against acting on the wrong thing: an action without its account,
// a key of another account, an account that is not the person's (an altered plan answer), or
// a kind the tool never plans is refused permanently.
func TestApplyRefusals(t *testing.T) {
	t.Parallel()
	a := NewAdmin()
	_, _ = a.AddAccount("dana", "dana@acme.example", "Dana")
	_, _ = a.AddAccount("sam", "sam@acme.example", "Sam")
	samKey, _ := a.AddAPIKey("sam", "laptop")
	dana := Person{Email: "dana@acme.example"}
	for name, act := range map[string]Action{
		"no account":        {Kind: KindDisableAccount, Target: "u-1"},
		"another key":       {Kind: KindRevokeAPIKey, Target: samKey, Params: map[string]string{"account_id": "u-1"}},
		"another's account": {Kind: KindDisableAccount, Target: "u-2", Params: map[string]string{"account_id": "u-2"}},
		"unknown kind":      {Kind: "delete_account", Target: "u-1", Params: map[string]string{"account_id": "u-1"}},
	} {
		if r := a.Apply(dana, act); r.OK || r.Error == nil || r.Error.Retryable {
			t.Errorf("%s: %+v, want a permanent refusal", name, r)
		}
	}
	if h := a.Holdings("sam@acme.example"); len(h) != 2 {
		t.Errorf("sam's holdings %q", h)
	}
	if v := a.Verify(dana, Action{Kind: KindDisableAccount, Target: "u-2", Params: map[string]string{"account_id": "u-2"}}); v.Verified {
		t.Errorf("another's account verified for dana: %+v", v)
	}
	if r := a.Apply(dana, Action{Kind: KindDisableAccount, Target: "u-9", Params: map[string]string{"account_id": "u-9"}}); !r.OK {
		t.Errorf("an account that is gone: %+v, want ok (already offboarded)", r)
	}
}

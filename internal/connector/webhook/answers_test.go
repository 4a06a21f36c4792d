package webhook

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/signature"
)

// canned is a tool that answers every request with handler, counting requests.
type canned struct {
	conn  *Connector
	calls atomic.Int64
	clock *fakeClock
}

func newCanned(t *testing.T, timeout time.Duration, handler http.HandlerFunc) *canned {
	t.Helper()
	cn := &canned{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn.calls.Add(1)
		handler(w, r)
	}))
	t.Cleanup(ts.Close)
	c, err := New(Config{Name: toolName, URL: ts.URL + "/hook", Secret: sharedSecret, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	cn.conn = c
	cn.clock = useFakeClock(c)
	return cn
}

// reply answers with status and body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// hang answers nothing until the client gives up. The body is read first: only then does the
// server notice the client closing the connection.
func hang(_ http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// planWith is a valid plan answer around the given actions JSON.
func planWith(actions string) http.HandlerFunc {
	return reply(200, `{"version":1,"phase":"plan","account":"u-1 (dana)","actions":[`+actions+`]}`)
}

const (
	roleAction    = `{"kind":"remove_role","target":"u-1:admin","detail":"Remove role admin","params":{"account_id":"u-1"}}`
	disableAction = `{"kind":"disable_account","target":"u-1","detail":"Disable","params":{"account_id":"u-1"},"after":["remove_role"]}`
)

// TestPlanRefusesBadAnswers protects "an answer offboard cannot trust is a clear error, never a
// panic and never a half-understood plan": each broken answer fails with the expected class
// and a message naming the problem.
func TestPlanRefusesBadAnswers(t *testing.T) {
	t.Parallel()
	big := `{"version":1,"phase":"plan","account":"x","actions":[],"notes":["` + strings.Repeat("a", MaxResponse) + `"]}`
	cases := []struct {
		name      string
		handler   http.HandlerFunc
		timeout   time.Duration
		permanent bool
		want      string
		minCalls  int64
	}{
		{"malformed JSON", reply(200, `{"version":1,"phase":"plan",`), 0, true, "invalid answer", 1},
		{"HTML instead of JSON", reply(200, `<html>login</html>`), 0, true, "not a plan answer", 1},
		{"empty body", reply(200, ``), 0, true, "invalid answer", 1},
		{"trailing JSON value", reply(200, `{"version":1,"phase":"plan","not_found":true,"actions":[]} {}`), 0, true, "more than one JSON value", 1},
		{"no version", reply(200, `{"phase":"plan","not_found":true,"actions":[]}`), 0, true, `no "version"`, 1},
		{"other version", reply(200, `{"version":2,"phase":"plan","not_found":true,"actions":[]}`), 0, true, "version 2", 1},
		{"wrong phase", reply(200, `{"version":1,"phase":"apply","ok":true}`), 0, true, "invalid answer", 1},
		{"unknown phase", reply(200, `{"version":1,"phase":"planning","not_found":true,"actions":[]}`), 0, true, `phase "planning"`, 1},
		{"misspelt field", planWith(`{"kind":"disable_account","target":"u-1","detail":"Disable","aftre":["remove_role"]}`), 0, true, "aftre", 1},
		{"duplicate targets", planWith(roleAction + "," + roleAction), 0, true, "listed twice", 1},
		{"after names an absent kind", planWith(disableAction), 0, true, `"remove_role", which has no action in this plan`, 1},
		{"after names its own kind", planWith(`{"kind":"remove_role","target":"a","detail":"d","after":["remove_role"]}`), 0, true, "waits on its own kind", 1},
		{"cycle", planWith(`{"kind":"a","target":"1","detail":"d","after":["b"]},{"kind":"b","target":"2","detail":"d","after":["a"]}`), 0, true, "cycle (a -> b -> a)", 1},
		{"empty kind", planWith(`{"kind":"","target":"u-1","detail":"Disable"}`), 0, true, "kind", 1},
		{"kind with spaces", planWith(`{"kind":"Remove Role","target":"u-1","detail":"d"}`), 0, true, "lower-case identifier", 1},
		{"empty target", planWith(`{"kind":"remove_role","target":" ","detail":"d"}`), 0, true, "target is empty", 1},
		{"empty detail", planWith(`{"kind":"remove_role","target":"a","detail":""}`), 0, true, "detail is empty", 1},
		{"other system", planWith(`{"system":"okta","kind":"remove_role","target":"a","detail":"d"}`), 0, true, `system "okta"`, 1},
		{"reserved param", planWith(`{"kind":"remove_role","target":"a","detail":"d","params":{"offboard.person":"x"}}`), 0, true, "reserved for offboard", 1},
		{"found without actions list", reply(200, `{"version":1,"phase":"plan","account":"u-1"}`), 0, true, `no "actions" list`, 1},
		{"found without account", reply(200, `{"version":1,"phase":"plan","actions":[]}`), 0, true, `"account" does not describe it`, 1},
		{"not found with actions", reply(200, `{"version":1,"phase":"plan","not_found":true,"actions":[`+roleAction+`]}`), 0, true, "not_found is true", 1},
		{"kept without reason", reply(200, `{"version":1,"phase":"plan","account":"a","actions":[],"kept":[{"target":"x","detail":"d"}]}`), 0, true, "reason", 1},
		{"response too large", reply(200, big), 0, true, "larger than", 1},
		{"server error", reply(503, `{"version":1,"error":{"code":"busy","message":"database busy"}}`), 0, false, "database busy", 3},
		{"timeout", hang, 50 * time.Millisecond, false, "did not answer within 50ms", 3},
		{"bad signature", reply(401, `{"version":1,"error":{"code":"bad_signature","message":"bad signature"}}`), 0, true, "secret is the same on both sides", 1},
		{"forbidden", reply(403, `{"error":"nope"}`), 0, true, "forbids", 1},
		{"wrong URL", reply(404, `not found`), 0, true, "nothing at the configured URL", 1},
		{"bad request", reply(400, `{"version":1,"error":{"code":"unsupported_version","message":"this tool speaks version 2"}}`), 0, true, "unsupported_version", 1},
		{"gone", reply(410, ``), 0, true, "410", 1},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}, 0, true, "redirect", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cn := newCanned(t, tc.timeout, tc.handler)
			pl, err := cn.conn.Plan(t.Context(), dana)
			if err == nil {
				t.Fatalf("Plan succeeded with %+v; want an error", pl)
			}
			if got := connector.IsPermanent(err); got != tc.permanent {
				t.Errorf("permanent = %v, want %v (err: %v)", got, tc.permanent, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "invalid answer") && !errors.Is(err, ErrInvalidAnswer) {
				t.Errorf("error %q does not wrap ErrInvalidAnswer", err)
			}
			if !strings.HasPrefix(err.Error(), toolName+": plan for dana@acme.example: ") {
				t.Errorf("error %q does not name the system and person", err)
			}
			if n := cn.calls.Load(); n != tc.minCalls {
				t.Errorf("the tool saw %d request(s), want %d (retryable failures are retried, others are not)", n, tc.minCalls)
			}
		})
	}
}

// TestThrottlingIsPaced protects "a rate limit is a budget, not an error": a 429 with
// Retry-After is waited out for as long as the tool asks, then the request succeeds.
func TestThrottlingIsPaced(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	cn := newCanned(t, 0, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			w.Header().Set("Retry-After", "7")
			reply(429, `{"version":1,"error":{"code":"rate_limited","message":"slow down"}}`)(w, r)
			return
		}
		reply(200, `{"version":1,"phase":"plan","not_found":true,"actions":[]}`)(w, r)
	})
	pl, err := cn.conn.Plan(t.Context(), dana)
	if err != nil {
		t.Fatalf("Plan while throttled: %v", err)
	}
	if !pl.NotFound {
		t.Errorf("plan = %+v, want the tool's not-found answer", pl)
	}
	if got := cn.clock.total(); got < 14*time.Second {
		t.Errorf("waited %s in all, want at least the 2×7 s the tool asked for", got)
	}
}

// TestThrottledRequestIsResigned protects against stale signatures: a request resent after a
// rate-limit wait longer than the signature's tolerance carries a fresh timestamp, so the
// tool does not refuse it as a replay.
func TestThrottledRequestIsResigned(t *testing.T) {
	t.Parallel()
	var stamps []string
	var mu sync.Mutex
	var cn *canned
	cn = newCanned(t, 0, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		header := r.Header.Get(signature.Header)
		mu.Lock()
		stamps = append(stamps, header)
		first := len(stamps) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "600")
			reply(429, `{"version":1,"error":{"code":"rate_limited","message":"later"}}`)(w, r)
			return
		}
		if err := signature.Verify(header, body, [][]byte{[]byte(sharedSecret)}, cn.clock.Now()); err != nil {
			reply(401, `{"version":1,"error":{"code":"bad_signature","message":"bad signature"}}`)(w, r)
			return
		}
		reply(200, `{"version":1,"phase":"plan","not_found":true,"actions":[]}`)(w, r)
	})
	if _, err := cn.conn.Plan(t.Context(), dana); err != nil {
		t.Fatalf("Plan after a 10-minute rate-limit wait: %v", err)
	}
	if len(stamps) != 2 || stamps[0] == stamps[1] {
		t.Errorf("signatures sent: %q; want two different ones", stamps)
	}
}

// TestSecretEchoedByToolIsScrubbed protects "secrets never leave": a tool that echoes the
// shared secret in an error or a plan does not get it into offboard's errors or plans.
func TestSecretEchoedByToolIsScrubbed(t *testing.T) {
	t.Parallel()
	cn := newCanned(t, 0, reply(400, `{"version":1,"error":{"code":"bad","message":"expected secret `+sharedSecret+`"}}`))
	_, err := cn.conn.Plan(t.Context(), dana)
	if err == nil || strings.Contains(err.Error(), sharedSecret) || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error = %v; want a failure with the secret redacted", err)
	}
	cn = newCanned(t, 0, reply(200, `{"version":1,"phase":"plan","account":"u-1","actions":[],"notes":["key `+sharedSecret+`"]}`))
	pl, err := cn.conn.Plan(t.Context(), dana)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(pl.Notes, " "), sharedSecret) {
		t.Errorf("notes %q carry the secret", pl.Notes)
	}
}

// TestRequestsAreSignedForOffboardsVerifier protects the protocol's first rule: every request
// is signed over its exact body, verifiable with the HR webhook's own verifier, and carries
// version, phase (in the body and the query) and the person.
func TestRequestsAreSignedForOffboardsVerifier(t *testing.T) {
	t.Parallel()
	var problems atomic.Value
	cn := newCanned(t, 0, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := signature.Verify(r.Header.Get(signature.Header), body, [][]byte{[]byte(sharedSecret)}, time.Now())
		switch {
		case err != nil:
			problems.Store("signature: " + err.Error())
		case r.URL.Query().Get("phase") != "plan" || r.URL.Path != "/hook":
			problems.Store("url: " + r.URL.String())
		case !strings.Contains(string(body), `"version":1,"phase":"plan","system":"admin-tool","person":{"worker_id":"W7","email":"dana@acme.example"`):
			problems.Store("body: " + string(body))
		case r.Header.Get("Content-Type") != "application/json":
			problems.Store("content type: " + r.Header.Get("Content-Type"))
		}
		reply(200, `{"version":1,"phase":"plan","not_found":true,"actions":[]}`)(w, r)
	})
	// The pacer's fake clock is not the signing clock; sign with the real one.
	if _, err := cn.conn.Plan(t.Context(), dana); err != nil {
		t.Fatal(err)
	}
	if p := problems.Load(); p != nil {
		t.Error(p)
	}
}

// TestNewListsEveryConfigProblem protects "invalid config fails at start with every problem
// listed", and that the secret is never echoed in that error.
func TestNewListsEveryConfigProblem(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Name: "Admin Tool", URL: "ftp://x", Secret: "short-secret", Timeout: -time.Second})
	if err == nil {
		t.Fatal("New accepted a bad config")
	}
	for _, want := range []string{"name", "url", "secret must be at least 16", "timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "short-secret") {
		t.Error("the error echoes the secret")
	}
	if _, err := New(Config{Name: "tool", URL: "https://user:pw@example.com/h", Secret: sharedSecret}); err == nil {
		t.Error("New accepted a URL with user info")
	}
	c, err := New(Config{Name: "tool", URL: "https://example.com/h", Secret: sharedSecret})
	if err != nil || c.System() != "tool" {
		t.Errorf("New(valid) = %v, %v; want System() tool", c, err)
	}
}

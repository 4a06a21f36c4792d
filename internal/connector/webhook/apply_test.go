package webhook

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// planned is an action as Plan returns it for Dana, person included.
func planned(t *testing.T) connector.Action {
	t.Helper()
	person, _ := json.Marshal(wirePerson{WorkerID: dana.WorkerID, Email: dana.Email, Name: dana.Name})
	return connector.Action{
		System: toolName, Kind: "remove_role", Target: "u-1:admin", Detail: "Remove role admin",
		Params: map[string]string{"account_id": "u-1", "role": "admin", personParam: string(person)},
	}
}

// TestApplyAnswers protects how the tool's apply outcome becomes the step's outcome: done is
// success, a failure is permanent unless the tool says retrying helps, and a malformed answer
// is never taken for success.
func TestApplyAnswers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		body       string
		wantErr    string // "" for success
		permanent  bool
		retryAfter time.Duration
	}{
		{"applied", `{"version":1,"phase":"apply","ok":true,"changed":true}`, "", false, 0},
		{"already done", `{"version":1,"phase":"apply","ok":true,"changed":false,"message":"role not held"}`, "", false, 0},
		{"permanent failure", `{"version":1,"phase":"apply","ok":false,"error":{"code":"protected","message":"role is managed by SCIM","retryable":false}}`, "the tool reports: protected: role is managed by SCIM", true, 0},
		{"retryable failure", `{"version":1,"phase":"apply","ok":false,"error":{"code":"busy","message":"database locked","retryable":true}}`, "database locked", false, 0},
		{"retry after", `{"version":1,"phase":"apply","ok":false,"error":{"message":"maintenance","retryable":true,"retry_after":120}}`, "maintenance", false, 2 * time.Minute},
		{"retry after capped", `{"version":1,"phase":"apply","ok":false,"error":{"message":"later","retryable":true,"retry_after":9999999}}`, "later", false, time.Hour},
		{"no ok", `{"version":1,"phase":"apply","changed":true}`, `no "ok"`, true, 0},
		{"failure without error", `{"version":1,"phase":"apply","ok":false}`, "needs an error", true, 0},
		{"failure without retryable", `{"version":1,"phase":"apply","ok":false,"error":{"message":"x"}}`, "retryable", true, 0},
		{"plan answer to an apply", `{"version":1,"phase":"plan","actions":[]}`, "invalid answer", true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cn := newCanned(t, 0, reply(200, tc.body))
			err := cn.conn.Apply(t.Context(), planned(t))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Apply error = %v, want one mentioning %q", err, tc.wantErr)
			}
			if connector.IsPermanent(err) != tc.permanent {
				t.Errorf("permanent = %v, want %v", connector.IsPermanent(err), tc.permanent)
			}
			if d, _ := connector.RetryDelay(err); d != tc.retryAfter {
				t.Errorf("retry delay = %s, want %s", d, tc.retryAfter)
			}
		})
	}
}

// TestVerifyAnswers protects "green means verified": only an explicit verified=true is
// verified, a summary is required, and the tool's read is kept as evidence.
func TestVerifyAnswers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		body     string
		wantErr  string
		verified bool
		read     string
	}{
		{"verified with read", `{"version":1,"phase":"verify","verified":true,"observed":"role gone","read":{ "roles": [ ] }}`, "", true, `{"roles":[]}`},
		{"not yet", `{"version":1,"phase":"verify","verified":false,"observed":"role admin held"}`, "", false, ""},
		{"null read", `{"version":1,"phase":"verify","verified":true,"observed":"gone","read":null}`, "", true, ""},
		{"no verified", `{"version":1,"phase":"verify","observed":"gone"}`, `needs "verified"`, false, ""},
		{"no observed", `{"version":1,"phase":"verify","verified":true}`, `non-empty "observed"`, false, ""},
		{"verified as a string", `{"version":1,"phase":"verify","verified":"yes","observed":"gone"}`, "invalid answer", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cn := newCanned(t, 0, reply(200, tc.body))
			ev, err := cn.conn.Verify(t.Context(), planned(t))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !connector.IsPermanent(err) {
					t.Fatalf("Verify error = %v, want a permanent one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ev.Verified != tc.verified || string(ev.Read) != tc.read || ev.Observed == "" || ev.CheckedAt.IsZero() {
				t.Errorf("evidence = %+v (read %s), want verified %v, read %s", ev, ev.Read, tc.verified, tc.read)
			}
		})
	}
}

// TestApplyRequestCarriesActionAndKey protects what the tool relies on: apply sends the
// planned action back as the tool wrote it (without offboard's own params), the person it was
// planned for, and the action's key as the idempotency key.
func TestApplyRequestCarriesActionAndKey(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	cn := newCanned(t, 0, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
		reply(200, `{"version":1,"phase":"apply","ok":true}`)(w, r)
	})
	if err := cn.conn.Apply(t.Context(), planned(t)); err != nil {
		t.Fatal(err)
	}
	var req map[string]any
	if err := json.Unmarshal([]byte(got.Load().(string)), &req); err != nil {
		t.Fatal(err)
	}
	want := `{"action":{"detail":"Remove role admin","kind":"remove_role","params":{"account_id":"u-1","role":"admin"},"target":"u-1:admin"},"idempotency_key":"admin-tool/remove_role/u-1:admin","person":{"email":"dana@acme.example","name":"Dana Leaver","worker_id":"W7"},"phase":"apply","system":"admin-tool","version":1}`
	if b, _ := json.Marshal(req); string(b) != want {
		t.Errorf("apply request:\n got %s\nwant %s", b, want)
	}
}

// TestForeignActionsAreRefused protects against applying an action to the wrong tool, or one
// this connector did not plan: nothing is sent.
func TestForeignActionsAreRefused(t *testing.T) {
	t.Parallel()
	cn := newCanned(t, 0, reply(200, `{"version":1,"phase":"apply","ok":true}`))
	other := planned(t)
	other.System = "other-tool"
	noPerson := planned(t)
	delete(noPerson.Params, personParam)
	for name, a := range map[string]connector.Action{"other system": other, "no person": noPerson} {
		if err := cn.conn.Apply(t.Context(), a); err == nil || !connector.IsPermanent(err) {
			t.Errorf("%s: Apply = %v, want a permanent error", name, err)
		}
		if _, err := cn.conn.Verify(t.Context(), a); err == nil || !connector.IsPermanent(err) {
			t.Errorf("%s: Verify = %v, want a permanent error", name, err)
		}
	}
	if n := cn.calls.Load(); n != 0 {
		t.Errorf("the tool saw %d request(s); a foreign action must not be sent", n)
	}
}

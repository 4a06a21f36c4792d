package google

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/google/googlesim"
)

// TestThrottled protects the line between Google's rate limits, which are waited out, and its
// permission refusals, which share the 403 status and must stop the step.
func TestThrottled(t *testing.T) {
	t.Parallel()
	body := func(code int, reason string) []byte {
		return fmt.Appendf(nil, `{"error":{"code":%d,"message":"m","errors":[{"reason":%q,"domain":"usageLimits","message":"m"}],"status":"PERMISSION_DENIED"}}`, code, reason)
	}
	tests := []struct {
		status int
		reason string
		want   bool
	}{
		{403, "userRateLimitExceeded", true},
		{403, "quotaExceeded", true},
		{403, "rateLimitExceeded", true},
		{429, "rateLimitExceeded", true},
		{403, "insufficientPermissions", false},
		{403, "forbidden", false},
		{400, "userRateLimitExceeded", false},
		{500, "backendError", false},
	}
	for _, tt := range tests {
		if got := throttled(tt.status, nil, body(tt.status, tt.reason)); got != tt.want {
			t.Errorf("throttled(%d, %s) = %v, want %v", tt.status, tt.reason, got, tt.want)
		}
	}
	if throttled(403, nil, []byte("<html>Forbidden</html>")) {
		t.Error("a 403 without Google's envelope is not a rate limit")
	}
}

// TestThrottleShapesAreWaitedOut protects against failing a step on either of Google's
// throttle responses: 403 userRateLimitExceeded and 429 rateLimitExceeded.
func TestThrottleShapesAreWaitedOut(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		opts   googlesim.Options
		status int
	}{
		{"403 userRateLimitExceeded", googlesim.Options{}, 403},
		{"429 rateLimitExceeded", googlesim.Options{Throttle429: true}, 429},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.opts)
			apiOnly(e.sim)
			e.sim.Faults.ThrottleNext(2)
			p, err := e.conn.Plan(t.Context(), jane)
			if err != nil || len(p.Actions) == 0 {
				t.Fatalf("plan while throttled: %v, %d actions", err, len(p.Actions))
			}
			n := 0
			for _, c := range e.sim.Recorder.Calls() {
				if c.Status == tt.status {
					n++
				}
			}
			if n != 2 {
				t.Errorf("%d throttled responses seen, want 2", n)
			}
		})
	}
}

// TestPermissionErrorsArePermanentAndNamed protects operators from retry loops on a missing
// scope or a non-admin subject, with a message saying what to fix.
func TestPermissionErrorsArePermanentAndNamed(t *testing.T) {
	t.Parallel()
	t.Run("scope not requested", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, googlesim.Options{})
		cfg := e.cfg
		cfg.Scopes = []string{googlesim.ScopeUser, googlesim.ScopeUserSecurity, googlesim.ScopeGroupReadonly, googlesim.ScopeTransfer}
		c := e.connector(t, cfg)
		p, err := c.Plan(t.Context(), jane)
		must(t, err)
		err = c.Apply(t.Context(), *find(p, KindRemoveGroup))
		if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "admin.directory.group.member") {
			t.Errorf("remove group without the member scope: %v", err)
		}
	})
	t.Run("scope not delegated", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, googlesim.Options{DelegatedScopes: []string{googlesim.ScopeUser}})
		err := e.conn.Check(t.Context())
		if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "domain-wide delegation") {
			t.Errorf("Check: %v", err)
		}
	})
	t.Run("subject not an admin", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, googlesim.Options{})
		cfg := e.cfg
		cfg.AdminEmail = "bob@acme.example"
		err := e.connector(t, cfg).Check(t.Context())
		if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "super administrator") {
			t.Errorf("Check as a non-admin: %v", err)
		}
	})
	t.Run("subject not in the domain", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, googlesim.Options{})
		cfg := e.cfg
		cfg.AdminEmail = "someone@elsewhere.example"
		_, err := e.connector(t, cfg).Plan(t.Context(), jane)
		if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "admin_email is not a user") {
			t.Errorf("Plan impersonating a stranger: %v", err)
		}
	})
}

func TestCheckPassesWithGoodCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{})
	must(t, e.conn.Check(t.Context()))
	for _, c := range e.sim.Recorder.Calls() {
		if c.Method != http.MethodGet && !strings.HasSuffix(c.Path, "/token") {
			t.Errorf("Check wrote: %s %s", c.Method, c.Path)
		}
	}
}

// TestTokenEndpointOutageIsRetryable protects against stopping a case because Google's OAuth
// server had a bad moment.
func TestTokenEndpointOutageIsRetryable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{})
	e.sim.Faults.Only(func(r *http.Request) bool { return tokenPath(r) })
	e.sim.Faults.FailNext(1, http.StatusServiceUnavailable)
	_, err := e.conn.Plan(t.Context(), jane)
	if err == nil || connector.IsPermanent(err) {
		t.Fatalf("plan with the token endpoint down: %v, want a retryable error", err)
	}
	if _, err := e.conn.Plan(t.Context(), jane); err != nil {
		t.Fatalf("plan after the outage: %v", err)
	}
}

// TestRevokedAccessTokenIsReplaced protects long-running connectors: an access token Google
// stops accepting is replaced once, not reported as bad credentials.
func TestRevokedAccessTokenIsReplaced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{})
	must(t, e.conn.Check(t.Context()))
	e.sim.RevokeAccessTokens()
	must(t, e.conn.Check(t.Context()))
	if n := e.sim.Recorder.Count("POST", "/token", ""); n != 2 {
		t.Errorf("%d token exchanges, want 2 (one new token after the revocation)", n)
	}
}

// TestTransferIsPolledToCompletion protects "green means verified" for the asynchronous data
// transfer: transfer_data is verified once Google accepts the request, confirm_transfer only
// once Google reports it completed, and one transfer is started however often Apply runs.
func TestTransferIsPolledToCompletion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{TransferReads: 2})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	a := *find(p, KindTransferData)
	must(t, e.conn.Apply(t.Context(), a))
	must(t, e.conn.Apply(t.Context(), a))
	ev, err := e.conn.Verify(t.Context(), a)
	must(t, err)
	if !ev.Verified || !strings.Contains(ev.Observed, "accepted data transfer AKrEtIb") || !strings.Contains(ev.Observed, "it is new") {
		t.Errorf("transfer_data once requested: verified %v, %s", ev.Verified, ev.Observed)
	}
	c := *find(p, KindConfirmTransfer)
	var observed []string
	for range 6 {
		must(t, e.conn.Apply(t.Context(), c))
		ev, err := e.conn.Verify(t.Context(), c)
		must(t, err)
		observed = append(observed, ev.Observed)
		if ev.Verified {
			for _, want := range []string{"completed", "Drive (" + googlesim.DriveAppID + ")", "PRIVACY_LEVEL=PRIVATE+SHARED", "Calendar (" + googlesim.CalendarAppID + ")", "RELEASE_RESOURCES=TRUE", managerEmail} {
				if !strings.Contains(ev.Observed, want) {
					t.Errorf("evidence %q does not name %q", ev.Observed, want)
				}
			}
			break
		}
	}
	joined := strings.Join(observed, "\n")
	if !strings.Contains(joined, " is inProgress") || !strings.Contains(observed[len(observed)-1], "completed") {
		t.Errorf("confirm_transfer reads did not go inProgress → completed:\n%s", joined)
	}
	if n := e.sim.Recorder.Count("POST", "/admin/datatransfer/v1/transfers", ""); n != 1 {
		t.Errorf("%d transfers inserted, want 1", n)
	}
	must(t, e.conn.Apply(t.Context(), a))
	if n := e.sim.Recorder.Count("POST", "/admin/datatransfer/v1/transfers", ""); n != 1 {
		t.Errorf("applying a completed transfer again inserted another (%d)", n)
	}
	if h := e.sim.Holdings(janeEmail); strings.Contains(strings.Join(h, ","), "not transferred") {
		t.Errorf("holdings after the transfer: %v", h)
	}
}

// TestSuspendDoesNotWaitForTransferToComplete protects the leaver's password from working for
// the hours a large Drive takes to move: once Google has accepted the transfer, suspension can
// run while it is still in progress, and completion is confirmed on its own afterwards.
func TestSuspendDoesNotWaitForTransferToComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{})
	e.sim.HoldTransfers(true)
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	verified := map[string]bool{}
	run := func(a connector.Action) connector.Evidence {
		t.Helper()
		must(t, e.conn.Apply(t.Context(), a))
		ev, err := e.conn.Verify(t.Context(), a)
		must(t, err)
		verified[a.Key()] = ev.Verified
		return ev
	}
	// As the engine does: an action runs once every action of each kind in its After is verified.
	runnable := func(a connector.Action) bool {
		for _, b := range p.Actions {
			if slices.Contains(a.After, b.Kind) && !verified[b.Key()] {
				return false
			}
		}
		return true
	}
	for _, a := range p.Actions {
		if a.Kind != KindSuspend && a.Kind != KindConfirmTransfer {
			if !runnable(a) {
				t.Fatalf("%s is not runnable in plan order", a.Key())
			}
			if ev := run(a); !ev.Verified {
				t.Fatalf("%s not verified: %s", a.Key(), ev.Observed)
			}
		}
	}
	confirm := *find(p, KindConfirmTransfer)
	for range 3 {
		if ev := run(confirm); ev.Verified || !strings.Contains(ev.Observed, "inProgress") {
			t.Fatalf("confirm_transfer while the transfer is held: verified %v, %s", ev.Verified, ev.Observed)
		}
	}
	suspend := *find(p, KindSuspend)
	if !runnable(suspend) {
		t.Fatalf("suspend waits although Google accepted the transfer (After %v)", suspend.After)
	}
	if ev := run(suspend); !ev.Verified {
		t.Fatalf("suspend not verified: %s", ev.Observed)
	}
	if st := e.sim.TransferStatus(janeEmail, managerEmail); st != "inProgress" {
		t.Fatalf("transfer is %q at suspension, want inProgress", st)
	}

	// A plan made now does not request the accepted transfer again; it only waits for it.
	again, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	if find(again, KindTransferData) != nil || find(again, KindConfirmTransfer) == nil || len(find(again, KindConfirmTransfer).After) != 0 {
		t.Errorf("plan while the transfer is in progress: %+v", again.Actions)
	}

	e.sim.HoldTransfers(false)
	ev := run(confirm)
	if !ev.Verified {
		t.Fatalf("confirm_transfer after the transfer completed: %s", ev.Observed)
	}
	for _, want := range []string{"completed", "Drive (" + googlesim.DriveAppID + ")", "PRIVACY_LEVEL=PRIVATE+SHARED", "Calendar (" + googlesim.CalendarAppID + ")", "RELEASE_RESOURCES=TRUE", managerEmail} {
		if !strings.Contains(ev.Observed, want) {
			t.Errorf("evidence %q does not name %q", ev.Observed, want)
		}
	}
	if h := e.sim.Holdings(janeEmail); len(h) != 0 {
		t.Errorf("still held: %v", h)
	}
}

// TestTurnOff2SVRefusedWhenEnforced protects against reporting an enforced 2SV as anything but
// what it is: Google's refusal because of a policy, a decision for a human.
func TestTurnOff2SVRefusedWhenEnforced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	must(t, e.sim.SetEnforced2SV(janeEmail, true))
	err = e.conn.Apply(t.Context(), *find(p, KindTurnOff2SV))
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "enforced by policy") {
		t.Fatalf("turnOff while enforced: %v", err)
	}
	if n := e.sim.Recorder.Count("POST", "", "/twoStepVerification/turnOff"); n != 1 {
		t.Errorf("%d turnOff calls, want 1", n)
	}
}

// TestAlreadyRemovedIsSuccess protects idempotency when someone else got there first.
func TestAlreadyRemovedIsSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	must(t, e.sim.RemoveMember("eng@acme.example", janeEmail))
	for _, a := range p.Actions {
		if a.Kind == KindRemoveGroup && a.Target == "0eng" {
			must(t, e.conn.Apply(t.Context(), a))
			ev, err := e.conn.Verify(t.Context(), a)
			must(t, err)
			if !ev.Verified {
				t.Errorf("verify = %+v", ev)
			}
		}
	}
	tok := *find(p, KindRevokeToken)
	must(t, e.conn.Apply(t.Context(), tok))
	must(t, e.conn.Apply(t.Context(), tok))
}

// TestSignOutEvidenceIsHonest protects the one check Google cannot back with a read: without
// a sign-out accepted in this run, it is not verified, and the evidence says sessions cannot
// be listed.
func TestSignOutEvidenceIsHonest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	a := *find(p, KindSignOut)
	must(t, e.conn.Apply(t.Context(), a))
	ev, err := e.conn.Verify(t.Context(), a)
	must(t, err)
	if !ev.Verified || !strings.Contains(ev.Observed, "cannot be read back") || e.sim.SignOuts(janeEmail) != 1 {
		t.Errorf("after sign-out: %+v", ev)
	}
	fresh := e.connector(t, e.cfg)
	ev, err = fresh.Verify(t.Context(), a)
	must(t, err)
	if ev.Verified {
		t.Errorf("a connector that never signed her out claims it: %+v", ev)
	}
}

// TestFullOffboardingLeavesNothing is the end-to-end promise: after every action is applied
// and verified, the simulator says she holds nothing.
func TestFullOffboardingLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{TransferReads: -1})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	record := []any{p}
	for _, a := range p.Actions {
		must(t, e.conn.Apply(t.Context(), a))
		ev, err := e.conn.Verify(t.Context(), a)
		must(t, err)
		if !ev.Verified {
			t.Errorf("%s not verified: %s", a.Key(), ev.Observed)
		}
		record = append(record, ev)
	}
	// Access tokens are secrets too, and backup codes are credentials: neither may be stored.
	out, _ := json.Marshal(record)
	if strings.Contains(string(out), "ya29.") || strings.Contains(string(out), "verificationCode") {
		t.Errorf("plan or evidence holds a credential: %s", out)
	}
	if h := e.sim.Holdings(janeEmail); len(h) != 0 {
		t.Errorf("still held: %v", h)
	}
	if h := e.sim.Holdings("bob@acme.example"); len(h) != 2 {
		t.Errorf("the bystander lost access: %v", h)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	good, _ := serviceAccounts(t)
	for _, cfg := range []Config{
		{AdminEmail: adminEmail},
		{CredentialsJSON: "{not json", AdminEmail: adminEmail},
		{CredentialsJSON: `{"type":"authorized_user"}`, AdminEmail: adminEmail},
		{CredentialsJSON: string(good.KeyJSON("")), AdminEmail: "nobody"},
		{CredentialsJSON: string(good.KeyJSON("")), AdminEmail: adminEmail, TransferTo: "ceo"},
	} {
		_, err := New(cfg)
		if err == nil || !connector.IsPermanent(err) {
			t.Errorf("New(%.40q…) = %v, want a permanent error", cfg.CredentialsJSON, err)
		}
		if err != nil && strings.Contains(err.Error(), keyLine(good)) {
			t.Error("the error repeats the key")
		}
	}
}

package entra

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/entra/entrasim"
	"github.com/offboard-dev/offboard/internal/sim"
)

// TestOffboardingLeavesNothing protects the whole promise: after every planned action is
// applied and verified, the simulator shows no access left and a fresh plan is empty.
func TestOffboardingLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	if len(e.sim.Holdings(janeUPN)) == 0 {
		t.Fatal("seeded Jane holds nothing; the test would prove nothing")
	}
	pl := plan(t, e.conn, jane)
	connectortest.ApplyInOrder(t.Context(), t, e.conn, pl.Actions)
	if got := e.sim.Holdings(janeUPN); len(got) != 0 {
		t.Errorf("after offboarding Jane still holds %v", got)
	}
	if got := e.sim.Members(groupEng); len(got) != 1 || got[0] != bobID {
		t.Errorf("Engineering members %v, want only Bob", got)
	}
	if again := plan(t, e.conn, jane); len(again.Actions) > 0 {
		t.Errorf("a fresh plan after offboarding has actions: %+v", again.Actions)
	}
}

// TestApplyAlreadyDone protects idempotency against changes made elsewhere: a membership,
// method or user that is already gone (404 Request_ResourceNotFound) is success.
func TestApplyAlreadyDone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	pl := plan(t, e.conn, jane)
	ctx := t.Context()
	eng, _ := find(pl, KindRemoveGroup, groupEng)
	must(t, e.conn.Apply(ctx, eng))
	before := e.sim.Recorder.Count("DELETE", "/v1.0/groups/", "/$ref")
	if err := e.conn.Apply(ctx, eng); err != nil {
		t.Errorf("removing a membership already gone: %v", err)
	}
	calls := e.sim.Recorder.Calls()
	if last := calls[len(calls)-1]; last.Status != http.StatusNotFound || e.sim.Recorder.Count("DELETE", "/v1.0/groups/", "/$ref") != before+1 {
		t.Errorf("the second removal should have met Graph's 404, got %+v", last)
	}
	ghost := eng
	ghost.Params = map[string]string{"user_id": "no-such-user", "group_name": "Engineering"}
	if err := e.conn.Apply(ctx, ghost); err != nil {
		t.Errorf("removing a deleted user from a group: %v", err)
	}
	ev, err := e.conn.Verify(ctx, ghost)
	if err != nil || !ev.Verified {
		t.Errorf("verifying a deleted user's removal: %+v %v", ev, err)
	}
}

// TestForbiddenNamesThePermission protects operators from guessing: a 403
// Authorization_RequestDenied stops the step and names the application permission to grant.
func TestForbiddenNamesThePermission(t *testing.T) {
	t.Parallel()
	tests := []struct {
		deny, kind, want string
	}{
		{"GroupMember.ReadWrite.All", KindRemoveGroup, "GroupMember.ReadWrite.All"},
		{"UserAuthenticationMethod.ReadWrite.All", KindRemoveMethod, "UserAuthenticationMethod.ReadWrite.All"},
		{"User.RevokeSessions.All", KindRevokeSessions, "User.RevokeSessions.All"},
		{"LicenseAssignment.ReadWrite.All", KindRemoveLicense, "LicenseAssignment.ReadWrite.All"},
		{"User.EnableDisableAccount.All", KindDisable, "User.EnableDisableAccount.All"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, entrasim.Options{})
			pl := plan(t, e.conn, jane)
			e.sim.Deny(tt.deny)
			a := byKind(pl, tt.kind)[0]
			err := e.conn.Apply(t.Context(), a)
			if !connector.IsPermanent(err) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "Authorization_RequestDenied") {
				t.Errorf("Apply(%s) without %s: %v; want a permanent error naming the permission", tt.kind, tt.deny, err)
			}
		})
	}
}

// TestReadRefusalNamesThePermission protects planning: a read Graph refuses stops the plan
// with the permission to grant, instead of a plan that silently misses memberships.
func TestReadRefusalNamesThePermission(t *testing.T) {
	t.Parallel()
	for _, perm := range []string{"GroupMember.Read.All", "UserAuthenticationMethod.Read.All", "User.Read.All"} {
		t.Run(perm, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, entrasim.Options{})
			e.sim.Deny(perm)
			_, err := e.conn.Plan(t.Context(), jane)
			if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "needs the "+perm) {
				t.Errorf("Plan without %s: %v", perm, err)
			}
		})
	}
}

// TestCheck protects the start-up check: it passes with the right permissions and names
// every missing read permission at once.
func TestCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	must(t, e.conn.Check(t.Context()))
	if err := e.connector(t, wrongSecret).Check(t.Context()); !connector.IsPermanent(err) || !strings.Contains(err.Error(), "AADSTS7000215") || strings.Contains(err.Error(), wrongSecret) {
		t.Errorf("Check with a wrong secret: %v; want a permanent error with the AADSTS code and no secret", err)
	}
	e.sim.Deny("GroupMember.Read.All")
	e.sim.Deny("UserAuthenticationMethod.Read.All")
	err := e.conn.Check(t.Context())
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "GroupMember.Read.All") || !strings.Contains(err.Error(), "UserAuthenticationMethod.Read.All") {
		t.Errorf("Check without read permissions: %v", err)
	}
	e.sim.Deny("User.Read.All")
	if err := e.conn.Check(t.Context()); !connector.IsPermanent(err) || !strings.Contains(err.Error(), "User.Read.All") {
		t.Errorf("Check without User.Read.All: %v", err)
	}
}

// TestExpiredTokenIsRenewed protects long runs: a cached token Graph no longer accepts is
// replaced once, instead of failing the step as bad credentials.
func TestExpiredTokenIsRenewed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, entrasim.Options{Now: clock})
	plan(t, e.conn, jane)
	mu.Lock()
	now = now.Add(2 * time.Hour) // the simulator's tokens expire; the connector's clock does not move
	mu.Unlock()
	plan(t, e.conn, jane)
	if n := e.sim.Recorder.Count("POST", "", "/oauth2/v2.0/token"); n != 2 {
		t.Errorf("token requests: %d, want 2 (one at start, one after Graph refused the expired token)", n)
	}
	if n := countStatus(e.sim.Recorder.Calls(), http.StatusUnauthorized); n == 0 {
		t.Error("Graph never refused the expired token; the test did not exercise renewal")
	}
}

// TestThrottledWritesWait protects "a rate limit is a budget": a 429 with Retry-After on a
// write is waited out, and the step succeeds.
func TestThrottledWritesWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	pl := plan(t, e.conn, jane)
	e.sim.Faults.Only(func(r *http.Request) bool { return r.Method == http.MethodDelete })
	e.sim.Faults.ThrottleNext(2)
	a, _ := find(pl, KindRemoveGroup, groupEng)
	must(t, e.conn.Apply(t.Context(), a))
	if n := countStatus(e.sim.Recorder.Calls(), http.StatusTooManyRequests); n != 2 {
		t.Errorf("throttled responses %d, want 2", n)
	}
	if ev, err := e.conn.Verify(t.Context(), a); err != nil || !ev.Verified {
		t.Errorf("after waiting out the throttle: %+v %v", ev, err)
	}
}

// TestTransientFailuresAreRetried protects steps from a blip: a 503 or a dropped connection
// on a write is retried within the call, and the change lands once.
func TestTransientFailuresAreRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	pl := plan(t, e.conn, jane)
	e.sim.Faults.Only(func(r *http.Request) bool { return r.Method != http.MethodGet })
	e.sim.Faults.FailNext(1, http.StatusServiceUnavailable)
	a, _ := find(pl, KindRemoveGroup, groupFalcon)
	must(t, e.conn.Apply(t.Context(), a))
	e.sim.Faults.DropNext(1)
	lic := byKind(pl, KindRemoveLicense)[0]
	must(t, e.conn.Apply(t.Context(), lic))
	calls := e.sim.Recorder.Calls()
	if countStatus(calls, http.StatusServiceUnavailable) != 1 || countStatus(calls, 0) != 1 {
		t.Errorf("the faults were not met: %+v", calls)
	}
	for _, a := range []connector.Action{a, lic} {
		if ev, err := e.conn.Verify(t.Context(), a); err != nil || !ev.Verified {
			t.Errorf("%s after a transient failure: %+v %v", a.Key(), ev, err)
		}
	}
}

// TestParallelGroupRemovals protects the engine's parallel steps: many removals and
// verifications at once all land, sharing one token and, for verification, membership reads.
func TestParallelGroupRemovals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{MaxPage: 5})
	for i := range 30 {
		id := "g-20-bulk-" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		must(t, e.sim.AddGroup(entrasim.Group{ID: id, DisplayName: id}))
		must(t, e.sim.AddMember(id, janeID))
	}
	pl := plan(t, e.conn, jane)
	groups := byKind(pl, KindRemoveGroup)
	if len(groups) != 33 {
		t.Fatalf("%d group removals planned, want 33", len(groups))
	}
	var g errgroup.Group
	for _, a := range groups {
		g.Go(func() error { return e.conn.Apply(t.Context(), a) })
	}
	must(t, g.Wait())
	for _, a := range groups {
		g.Go(func() error {
			ev, err := e.conn.Verify(t.Context(), a)
			if err == nil && !ev.Verified {
				t.Errorf("%s not verified: %s", a.Target, ev.Observed)
			}
			return err
		})
	}
	must(t, g.Wait())
	if n := e.sim.Recorder.Count("POST", "", "/oauth2/v2.0/token"); n != 1 {
		t.Errorf("%d token requests for one run, want 1", n)
	}
}

// TestEvidenceOfSessionRevocation protects "green means verified" for sessions, which Graph
// cannot list: the evidence is signInSessionsValidFromDateTime moving past the planned value.
func TestEvidenceOfSessionRevocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	pl := plan(t, e.conn, jane)
	a := byKind(pl, KindRevokeSessions)[0]
	ev, err := e.conn.Verify(t.Context(), a)
	must(t, err)
	if ev.Verified {
		t.Fatalf("sessions verified revoked before Apply: %s", ev.Observed)
	}
	must(t, e.conn.Apply(t.Context(), a))
	ev, err = e.conn.Verify(t.Context(), a)
	must(t, err)
	if !ev.Verified || !strings.Contains(string(ev.Read), "signInSessionsValidFromDateTime") {
		t.Errorf("after revocation: %+v", ev)
	}
}

func countStatus(calls []sim.Call, status int) int {
	n := 0
	for _, c := range calls {
		if c.Status == status {
			n++
		}
	}
	return n
}

// TestConfigNeverPrintsTheSecret protects against a Config logged by mistake.
func TestConfigNeverPrintsTheSecret(t *testing.T) {
	t.Parallel()
	cfg := Config{TenantID: tenantID, ClientID: clientID, ClientSecret: secret}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), fmt.Sprint(&cfg)} {
		if strings.Contains(s, secret) {
			t.Errorf("the secret is printed: %s", s)
		}
	}
	if _, err := New(Config{ClientID: clientID, ClientSecret: secret}); err == nil {
		t.Error("New accepted a configuration with no tenant and no token URL")
	}
	if _, err := New(Config{TenantID: tenantID, BaseURL: "graph.example/v1.0"}); err == nil {
		t.Error("New accepted a base URL without a scheme")
	}
}

package slack

import (
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/slack/slacksim"
)

// offboard plans, applies and verifies every action in order, as the engine does.
func offboard(t *testing.T, c *Connector, p connector.Person) connector.Plan {
	t.Helper()
	ctx := t.Context()
	plan, err := c.Plan(ctx, p)
	must(t, err)
	for _, a := range plan.Actions {
		must(t, c.Apply(ctx, a))
		ev, err := c.Verify(ctx, a)
		must(t, err)
		if !ev.Verified {
			t.Fatalf("%s not verified: %s", a.Key(), ev.Observed)
		}
	}
	return plan
}

func TestOffboardingLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	for _, grid := range []bool{true, false} {
		e := newEnv(t, slacksim.Options{EnterpriseGrid: grid})
		if len(e.sim.Holdings(janeEmail)) != 4 {
			t.Fatalf("seeded holdings: %v", e.sim.Holdings(janeEmail))
		}
		offboard(t, e.conn, jane)
		if h := e.sim.Holdings(janeEmail); len(h) != 0 {
			t.Errorf("grid=%v: still held: %v", grid, h)
		}
		if h := e.sim.Holdings("bob@acme.example"); len(h) != 2 {
			t.Errorf("grid=%v: the bystander lost access: %v", grid, h)
		}
		again, err := e.conn.Plan(t.Context(), jane)
		must(t, err)
		if len(again.Actions) != 0 {
			t.Errorf("grid=%v: a second plan still has %v", grid, again.Actions)
		}
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{EnterpriseGrid: true})
	plan := offboard(t, e.conn, jane)
	for _, a := range plan.Actions {
		must(t, e.conn.Apply(t.Context(), a))
		ev, err := e.conn.Verify(t.Context(), a)
		must(t, err)
		if !ev.Verified {
			t.Errorf("%s: after a second apply: %s", a.Key(), ev.Observed)
		}
	}
}

func TestVerifySessionsReadsWorkspacesJoinedSinceThePlan(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{EnterpriseGrid: true})
	plan, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	reset := plan.Actions[0]
	must(t, e.conn.Apply(t.Context(), reset))
	// A new session after the reset must turn verification red.
	_, err = e.sim.AddSession(janeID, "T0SALES", "tablet")
	must(t, err)
	ev, err := e.conn.Verify(t.Context(), reset)
	must(t, err)
	if ev.Verified || !strings.Contains(ev.Observed, "1 active session") {
		t.Fatalf("evidence = %+v", ev)
	}
}

func TestDeactivationAloneEndsSessionsOffGrid(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{})
	offboard(t, e.conn, jane)
	for _, h := range e.sim.Holdings(janeID) {
		t.Errorf("still held: %s", h)
	}
}

func TestResetOffGridIsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{})
	err := e.conn.Apply(t.Context(), connector.Action{System: System, Kind: KindResetSessions, Target: janeID})
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "feature_not_enabled") {
		t.Fatalf("err = %v", err)
	}
}

func TestResetOfThePrimaryOwnerIsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{EnterpriseGrid: true})
	err := e.conn.Apply(t.Context(), connector.Action{System: System, Kind: KindResetSessions, Target: "U0OWNER001"})
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "cannot_reset_primary_owner") {
		t.Fatalf("err = %v", err)
	}
}

func TestActionsForUnknownUsersSucceed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{EnterpriseGrid: true})
	for _, kind := range []string{KindResetSessions, KindDeactivate} {
		a := connector.Action{System: System, Kind: kind, Target: "U0VANISHED"}
		must(t, e.conn.Apply(t.Context(), a))
		ev, err := e.conn.Verify(t.Context(), a)
		must(t, err)
		if !ev.Verified {
			t.Errorf("%s: %s", kind, ev.Observed)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		opts     slacksim.Options
		connGrid bool
		wantErr  string
	}{
		{"grid ok", slacksim.Options{EnterpriseGrid: true}, true, ""},
		{"business+ ok", slacksim.Options{}, false, ""},
		{"grid org configured as non-grid", slacksim.Options{EnterpriseGrid: true}, false, "enterprise_grid is not set"},
		{"missing admin scopes", slacksim.Options{EnterpriseGrid: true, Scopes: []string{"admin", "users:read"}}, true, "users:read.email, admin.users:read, admin.users:write"},
		{"no SCIM on the plan", slacksim.Options{NoSCIM: true}, false, "Business+"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.opts)
			err := e.connector(Config{EnterpriseGrid: tc.connGrid}).Check(t.Context())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tc.wantErr != "" && (!connector.IsPermanent(err) || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Check = %v, want permanent mentioning %q", err, tc.wantErr)
			}
			for _, c := range e.sim.Recorder.Calls() {
				if !readOnly(c) {
					t.Errorf("Check wrote: %s %s", c.Method, c.Path)
				}
			}
		})
	}
	e := newEnv(t, slacksim.Options{})
	if err := e.connector(Config{Token: wrongToken}).Check(t.Context()); !connector.IsPermanent(err) || !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("wrong token: %v", err)
	}
}

package okta

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/okta/oktasim"
)

// TestApplyAndVerifyEachKind applies Jane's plan one action at a time, in dependency order,
// checking each is not in place before, is in place after (by Verify and by the simulator's
// own state), and leaves evidence.
func TestApplyAndVerifyEachKind(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{TransitionReads: 1}, nil)
	ctx := t.Context()
	p, err := e.conn.Plan(ctx, jane)
	must(t, err)
	s := e.sim
	gone := map[string]func(a connector.Action) bool{
		KindRevokeSessions: func(connector.Action) bool { return s.SessionsOf(janeID) == 0 && len(s.ClientsOf(janeID)) == 0 },
		KindRevokeGrants:   func(connector.Action) bool { return len(s.GrantsOf(janeID)) == 0 },
		KindRemoveFactor: func(a connector.Action) bool {
			return !slices.ContainsFunc(s.FactorsOf(janeID), func(f oktasim.Factor) bool { return f.ID == a.Target })
		},
		KindRemoveRole: func(a connector.Action) bool {
			return !slices.ContainsFunc(s.RolesOf(janeID), func(r oktasim.Role) bool { return r.ID == a.Target })
		},
		KindRemoveGroup: func(a connector.Action) bool {
			return !slices.ContainsFunc(s.GroupsOf(janeID), func(g oktasim.Group) bool { return g.ID == a.Target })
		},
		KindDeactivate: func(connector.Action) bool { return s.UserStatus(janeID) == "DEPROVISIONED" },
	}
	for _, a := range p.Actions {
		t.Run(a.Kind+"/"+a.Target, func(t *testing.T) {
			before, err := e.conn.Verify(ctx, a)
			must(t, err)
			if before.Verified || gone[a.Kind](a) {
				t.Fatalf("already in place before Apply: %q", before.Observed)
			}
			must(t, e.conn.Apply(ctx, a))
			if !gone[a.Kind](a) {
				t.Fatal("Apply returned but the simulator still holds the access")
			}
			ev, err := e.conn.Verify(ctx, a)
			must(t, err)
			if a.Kind == KindDeactivate {
				// Okta deactivates asynchronously: the first read still shows the transition.
				if ev.Verified || ev.Observed != "transitioning to DEPROVISIONED" {
					t.Fatalf("first read after deactivation: verified %v, observed %q", ev.Verified, ev.Observed)
				}
				ev, err = e.conn.Verify(ctx, a)
				must(t, err)
			}
			if !ev.Verified || ev.Observed == "" || ev.CheckedAt.IsZero() || !json.Valid(ev.Read) {
				t.Fatalf("evidence after Apply: %+v", ev)
			}
			switch {
			case a.Kind == KindRevokeSessions && !strings.Contains(ev.Observed, "no API listing browser sessions"):
				t.Errorf("session evidence does not say browser sessions cannot be read back: %q", ev.Observed)
			case a.Target == "00gstaff" && !strings.Contains(ev.Observed, "now excludes the user"):
				t.Errorf("rule-managed group evidence does not report the exclusion: %q", ev.Observed)
			case a.Target == "00geng" && strings.Contains(ev.Observed, "rule"):
				t.Errorf("static group evidence mentions a rule: %q", ev.Observed)
			}
		})
	}
	if ex := s.RuleExclusions("0prstaff"); !slices.Equal(ex, []string{janeID}) {
		t.Errorf("rule exclusions %v, want Jane's only", ex)
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	ctx := t.Context()
	p, err := e.conn.Plan(ctx, jane)
	must(t, err)
	applyAll(t, e.conn, p.Actions)
	for _, a := range p.Actions {
		if err := e.conn.Apply(ctx, a); err != nil {
			t.Errorf("second Apply of %s: %v", a.Key(), err)
			continue
		}
		ev, err := e.conn.Verify(ctx, a)
		if err != nil || !ev.Verified {
			t.Errorf("after a second Apply of %s: %v %+v", a.Key(), err, ev)
		}
	}
	if n := e.sim.Recorder.Count("POST", "/api/v1/users/"+janeID+"/lifecycle/deactivate", ""); n != 1 {
		t.Errorf("deactivate was called %d times, want once", n)
	}
	again, err := e.conn.Plan(ctx, jane)
	must(t, err)
	if len(again.Actions) != 0 {
		t.Errorf("a fresh plan after offboarding still has %v", keys(again))
	}
}

func TestDeactivateInProgressIsNotRepeated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{TransitionReads: 3}, nil)
	a := connector.Action{System: "okta", Kind: KindDeactivate, Target: janeID, Params: map[string]string{"user_id": janeID}}
	for range 2 {
		must(t, e.conn.Apply(t.Context(), a))
	}
	if n := e.sim.Recorder.Count("POST", "", "/lifecycle/deactivate"); n != 1 {
		t.Errorf("deactivate called %d times while the first was still in progress, want 1", n)
	}
}

func TestRefusalsArePermanentAndExplained(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		wrap  func(http.Handler) http.Handler
		setup func(t *testing.T, e *env)
		kind  string
		want  []string
	}{
		{
			name: "factor of a user deactivated out of order",
			setup: func(t *testing.T, e *env) {
				must(t, e.conn.Apply(t.Context(), connector.Action{System: "okta", Kind: KindDeactivate, Target: janeID, Params: map[string]string{"user_id": janeID}}))
			},
			kind: KindRemoveFactor,
			want: []string{"E0000006", "deactivated user", "skipped"},
		},
		{
			name: "group the token may not manage",
			wrap: forbidPath("DELETE", "/okta/api/v1/groups/00geng/users/"+janeID),
			kind: KindRemoveGroup,
			want: []string{"E0000006", "OKTA_GROUP", "okta.groups.manage"},
		},
		{
			name: "role the token may not unassign",
			wrap: forbidPath("DELETE", "/okta/api/v1/users/"+janeID+"/roles/rasuper"),
			kind: KindRemoveRole,
			want: []string{"E0000006", "okta.roles.manage"},
		},
		{
			name: "sessions of a user the token may not manage",
			wrap: forbidPath("DELETE", "/okta/api/v1/users/"+janeID+"/sessions"),
			kind: KindRevokeSessions,
			want: []string{"E0000006", "okta.users.manage"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, oktasim.Options{TransitionReads: -1}, tt.wrap)
			p, err := e.conn.Plan(t.Context(), jane)
			must(t, err)
			if tt.setup != nil {
				tt.setup(t, e)
			}
			i := slices.IndexFunc(p.Actions, func(a connector.Action) bool { return a.Kind == tt.kind })
			err = e.conn.Apply(t.Context(), p.Actions[i])
			if err == nil || !connector.IsPermanent(err) {
				t.Fatalf("Apply: %v, want a permanent error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestUnenrollingPushAlsoRemovesOktaVerifyTOTP: Okta removes Okta Verify's TOTP with its push
// factor, so the planned TOTP removal finds it gone (404) and must still succeed.
func TestUnenrollingPushAlsoRemovesOktaVerifyTOTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	must(t, e.sim.AddFactor(janeID, oktasim.Factor{ID: "mfatotp", Type: "token:software:totp"}))
	ctx := t.Context()
	p, err := e.conn.Plan(ctx, jane)
	must(t, err)
	must(t, e.conn.Apply(ctx, find(t, p, KindRemoveFactor, "mfapush")))
	totp := find(t, p, KindRemoveFactor, "mfatotp")
	must(t, e.conn.Apply(ctx, totp))
	ev, err := e.conn.Verify(ctx, totp)
	must(t, err)
	if !ev.Verified {
		t.Errorf("TOTP removed with push is not verified: %q", ev.Observed)
	}
}

func TestActionsForADeletedUserAreDone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	ctx := t.Context()
	p, err := e.conn.Plan(ctx, jane)
	must(t, err)
	for range 2 { // Okta deletes in two steps: deactivate, then delete.
		_, err := e.conn.client.Do(ctx, connector.Request{Method: "DELETE", Path: userPath(janeID)})
		must(t, err)
	}
	for _, a := range p.Actions {
		if err := e.conn.Apply(ctx, a); err != nil {
			t.Errorf("Apply %s for a deleted user: %v", a.Key(), err)
		}
		ev, err := e.conn.Verify(ctx, a)
		if err != nil || !ev.Verified || !strings.Contains(ev.Observed, "no longer exists") {
			t.Errorf("Verify %s for a deleted user: %v %+v", a.Key(), err, ev)
		}
	}
}

func TestMalformedActionsArePermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	tests := []connector.Action{
		{System: "okta", Kind: "delete_user", Target: janeID, Params: map[string]string{"user_id": janeID}},
		{System: "okta", Kind: KindRemoveGroup, Target: "00geng"},
	}
	for _, a := range tests {
		if err := e.conn.Apply(t.Context(), a); !connector.IsPermanent(err) {
			t.Errorf("Apply(%s): %v, want permanent", a.Key(), err)
		}
		if _, err := e.conn.Verify(t.Context(), a); !connector.IsPermanent(err) {
			t.Errorf("Verify(%s): %v, want permanent", a.Key(), err)
		}
	}
	if len(e.sim.Recorder.Calls()) != 0 {
		t.Errorf("malformed actions reached Okta: %v", e.sim.Recorder.Calls())
	}
}

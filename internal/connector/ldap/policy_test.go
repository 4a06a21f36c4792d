package ldap

import (
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/ldap/slapd"
)

// TestPPolicyLockIsVerifiedOnlyWhenItStopsSignIn protects against a green disable step for an
// account that still signs in: ppolicy ignores pwdAccountLockedTime unless a policy with
// pwdLockout: TRUE applies. Each case signs in as the leaver before and after offboarding and
// checks the connector's verdict matches what the directory really does: verified when the
// policy that applies (the default in cn=config, or pwdPolicySubentry's) locks; not verified,
// with manual work saying why, when the policy read does not lock; and manual work asking a
// person to confirm when the bind DN cannot read the policy. A fresh plan after offboarding
// still carries that manual work, so an account already "locked" is never silently green.
func TestPPolicyLockIsVerifiedOnlyWhenItStopsSignIn(t *testing.T) {
	t.Parallel()
	servers := map[slapd.Options]*slapd.Server{}
	for _, o := range []slapd.Options{{}, {NoDefaultPolicy: true}, {HideConfig: true}} {
		servers[o] = slapd.StartWith(t, o)
		if !servers[o].PPolicy {
			t.Skip("ppolicy overlay not available in this slapd")
		}
	}
	tests := []struct {
		name string
		opts slapd.Options
		// subentry, when set, is a policy made for dana (pwdLockout as given) and named by
		// her pwdPolicySubentry.
		subentry     *bool
		wantVerified bool
		wantSignIn   bool     // after offboarding, with her password
		wantObserved string   // in the disable step's evidence
		wantManual   []string // in the plan's single manual item; none when nil
		wantNote     string
	}{
		{
			name: "default policy locks and is readable", wantVerified: true,
			wantObserved: "enforced: the password policy " + slapd.DefaultPolicyDN + " (the ppolicy overlay's default, olcPPolicyDefault) has pwdLockout: TRUE",
		},
		{
			name: "pwdPolicySubentry names a locking policy, no default", opts: slapd.Options{NoDefaultPolicy: true}, subentry: ptr(true),
			wantVerified: true, wantObserved: "pwdPolicySubentry) has pwdLockout: TRUE",
		},
		{
			name: "pwdPolicySubentry names a policy without pwdLockout", subentry: ptr(false), wantSignIn: true,
			wantObserved: "is not enforced: the password policy",
			wantManual:   []string{"Make a ppolicy with pwdLockout: TRUE apply to uid=dana,", "set pwdLockout: TRUE on cn=dana-", "can still sign in"},
			wantNote:     "has pwdLockout FALSE, not TRUE",
		},
		{
			name: "overlay loaded without a default policy", opts: slapd.Options{NoDefaultPolicy: true}, wantSignIn: true,
			wantObserved: "the ppolicy overlay has no default policy (olcPPolicyDefault), so no policy applies",
			wantManual:   []string{"Make a ppolicy with pwdLockout: TRUE apply to uid=dana,", "give the ppolicy overlay a default policy"},
			wantNote:     "will not stop sign-in",
		},
		{
			name: "default policy not readable by the bind DN", opts: slapd.Options{HideConfig: true}, wantVerified: true,
			wantObserved: "not proven to stop sign-in",
			wantManual:   []string{"Confirm a ppolicy with pwdLockout: TRUE applies to uid=dana,", "offboard set pwdAccountLockedTime but cannot read the default policy"},
			wantNote:     "Cannot prove the ppolicy lock",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := servers[tt.opts]
			e := newEnv(t, srv)
			ctx := ctxFor(t)
			if tt.subentry != nil {
				name, _ := firstRDN(e.tree.Base) // unique to the test: policies are per server
				policy := srv.AddPolicy(t, "dana-"+strings.TrimPrefix(name, "ou="), *tt.subentry)
				req := goldap.NewModifyRequest(e.dana, nil)
				req.Replace("pwdPolicySubentry", []string{policy})
				if err := srv.Modify(ctx, req); err != nil {
					t.Fatal(err)
				}
			}
			if in, err := srv.CanSignIn(ctx, e.dana, slapd.Password("dana")); err != nil || !in {
				t.Fatalf("before offboarding dana signs in = %v (%v), want true", in, err)
			}
			c := e.connector(t, func(c *Config) { c.Disable = Disable{} })
			pl, err := c.Plan(ctx, e.danaPerson)
			if err != nil {
				t.Fatal(err)
			}
			checkPolicyFindings(t, "plan", pl, tt.wantManual, tt.wantNote)
			var disable *connector.Action
			for i, a := range pl.Actions {
				if err := c.Apply(ctx, a); err != nil {
					t.Fatalf("apply %s: %v", a.Key(), err)
				}
				if a.Kind == KindDisable {
					disable = &pl.Actions[i]
				}
			}
			if disable == nil {
				t.Fatalf("no disable step planned: %+v", pl.Actions)
			}
			ev, err := c.Verify(ctx, *disable)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Verified != tt.wantVerified || !strings.Contains(ev.Observed, tt.wantObserved) {
				t.Errorf("verified = %v, observed %q; want %v and %q", ev.Verified, ev.Observed, tt.wantVerified, tt.wantObserved)
			}
			if in, err := srv.CanSignIn(ctx, e.dana, slapd.Password("dana")); err != nil || in != tt.wantSignIn {
				t.Errorf("after offboarding dana signs in = %v (%v), want %v", in, err, tt.wantSignIn)
			}
			again, err := c.Plan(ctx, e.danaPerson)
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Actions) != 0 {
				t.Errorf("fresh plan after offboarding: %+v", again.Actions)
			}
			checkPolicyFindings(t, "fresh plan", again, tt.wantManual, tt.wantNote)
		})
	}
}

// checkPolicyFindings checks pl has exactly one manual item holding every wantManual
// substring and a note holding wantNote, or no manual item when wantManual is nil.
func checkPolicyFindings(t *testing.T, which string, pl connector.Plan, wantManual []string, wantNote string) {
	t.Helper()
	if wantManual == nil {
		if len(pl.Manual) != 0 {
			t.Errorf("%s: manual %+v, want none", which, pl.Manual)
		}
		return
	}
	if len(pl.Manual) != 1 {
		t.Fatalf("%s: manual %+v, want one item", which, pl.Manual)
	}
	for _, s := range wantManual {
		if !strings.Contains(pl.Manual[0].Detail, s) {
			t.Errorf("%s: manual %q lacks %q", which, pl.Manual[0].Detail, s)
		}
	}
	if !strings.Contains(strings.Join(pl.Notes, "\n"), wantNote) {
		t.Errorf("%s: notes %q lack %q", which, pl.Notes, wantNote)
	}
}

func ptr[T any](v T) *T { return &v }

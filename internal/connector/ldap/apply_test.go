package ldap

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/ldap/slapd"
)

// TestOffboardingEachGroupSchemaAndDisableMode protects the whole change per configuration:
// after applying the plan the leaver is in no group of any schema (member, uniqueMember with
// the DN written in another case, memberUid), the colleague keeps every
// membership, the account is disabled the configured way (for the ppolicy lock: her own
// password no longer binds), and a fresh plan is empty.
func TestOffboardingEachGroupSchemaAndDisableMode(t *testing.T) {
	t.Parallel()
	srv := slapd.Start(t)
	type mode struct {
		name  string
		edit  func(e *env) func(*Config)
		check func(t *testing.T, e *env)
	}
	modes := []mode{
		{
			name: "move to disabled OU",
			edit: func(e *env) func(*Config) {
				return func(c *Config) { c.Disable = Disable{DisabledOU: e.tree.Disabled} }
			},
			check: func(t *testing.T, e *env) {
				if _, ok, _ := e.srv.Attr(ctxFor(t), e.dana, "uid"); ok {
					t.Errorf("%s still exists", e.dana)
				}
				if v, ok, _ := e.srv.Attr(ctxFor(t), "uid=dana,"+e.tree.Disabled, "uid"); !ok || len(v) != 1 {
					t.Errorf("dana is not under %s", e.tree.Disabled)
				}
			},
		},
		{
			name: "custom lock attribute",
			edit: func(e *env) func(*Config) {
				return func(c *Config) { c.Disable = Disable{Attribute: "loginShell", Value: "/usr/sbin/nologin"} }
			},
			check: func(t *testing.T, e *env) {
				if v, _, _ := e.srv.Attr(ctxFor(t), e.dana, "loginShell"); !slices.Equal(v, []string{"/usr/sbin/nologin"}) {
					t.Errorf("loginShell = %q", v)
				}
			},
		},
	}
	if srv.PPolicy {
		modes = append(modes, mode{
			name: "ppolicy lock",
			edit: func(e *env) func(*Config) { return func(c *Config) { c.Disable = Disable{} } },
			check: func(t *testing.T, e *env) {
				if v, _, _ := e.srv.Attr(ctxFor(t), e.dana, "pwdAccountLockedTime"); !slices.Equal(v, []string{DefaultLockValue}) {
					t.Errorf("pwdAccountLockedTime = %q, want %s", v, DefaultLockValue)
				}
				// The attribute is not the proof: ppolicy must refuse her own password.
				if in, err := e.srv.CanSignIn(ctxFor(t), e.dana, slapd.Password("dana")); err != nil || in {
					t.Errorf("dana signs in with her password after offboarding = %v (%v), want refused (49)", in, err)
				}
			},
		})
	} else {
		t.Log("ppolicy overlay not available: the ppolicy lock mode is not exercised")
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, srv)
			// A uniqueMember written in another case is still dana.
			e.tree.AddGroup(t, slapd.GroupOfUniqueNames, "audit", e.sam, strings.ToUpper(e.dana))
			c := e.connector(t, m.edit(e))
			pl, err := c.Plan(ctxFor(t), e.danaPerson)
			if err != nil {
				t.Fatal(err)
			}
			if len(pl.Actions) != 5 {
				t.Fatalf("%d actions, want 4 groups and the disable step: %+v", len(pl.Actions), pl.Actions)
			}
			applyAll(t, c, pl)
			if left, _ := e.tree.Memberships(ctxFor(t), e.dana, "dana"); len(left) != 0 {
				t.Errorf("dana still in %q", left)
			}
			samHas, _ := e.tree.Memberships(ctxFor(t), e.sam, "sam")
			if len(samHas) != 4 {
				t.Errorf("sam's memberships %q, want all 4 kept", samHas)
			}
			m.check(t, e)
			if m.name != "custom lock attribute" { // loginShell does not stop an LDAP bind, which Holdings tries
				if held, err := e.tree.Holdings(ctxFor(t), "dana"); err != nil || len(held) != 0 {
					t.Errorf("dana still holds %q (%v)", held, err)
				}
			}
			again, err := c.Plan(ctxFor(t), e.danaPerson)
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Actions) != 0 {
				t.Errorf("fresh plan after offboarding: %+v", again.Actions)
			}
		})
	}
}

// TestErrorsAreClassified protects the engine's retry decisions: a wrong password and a
// read-only bind account are permanent and say what to fix without the password, an
// unreachable server is retryable, and a cancelled context ends the call.
func TestErrorsAreClassified(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slapd.Start(t))
	ctx := ctxFor(t)
	pl, err := e.connector(t, nil).Plan(ctx, e.danaPerson)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("invalid credentials (49)", func(t *testing.T) {
		_, err := e.connector(t, func(c *Config) { c.BindPassword = wrongPassword }).Plan(ctx, e.danaPerson)
		if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "invalid credentials") || strings.Contains(err.Error(), wrongPassword) {
			t.Errorf("err = %v, want permanent invalid credentials without the password", err)
		}
	})
	t.Run("insufficient access (50)", func(t *testing.T) {
		reader := e.connector(t, func(c *Config) { c.BindDN, c.BindPassword = slapd.ReaderDN, slapd.ReaderPW })
		if err := reader.Check(ctx); err != nil {
			t.Fatalf("Check as the reader: %v", err)
		}
		err := reader.Apply(ctx, pl.Actions[0])
		if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "insufficient access") || !strings.Contains(err.Error(), slapd.ReaderDN) {
			t.Errorf("err = %v, want permanent insufficient access naming the bind DN", err)
		}
	})
	t.Run("server down", func(t *testing.T) {
		err := e.connector(t, func(c *Config) { c.URL = closedURL(t) }).Apply(ctx, pl.Actions[0])
		if err == nil || connector.IsPermanent(err) {
			t.Errorf("err = %v, want a retryable error", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := e.connector(t, nil).Plan(cctx, e.danaPerson)
		if err == nil || connector.IsPermanent(err) || !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("err = %v, want the context's cancellation", err)
		}
	})
	t.Run("silent server: the context ends the call", func(t *testing.T) {
		// A server that accepts the connection and never answers: only ctx can end the bind.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		// Cancelled rather than given a deadline, so go-ldap's own timeout cannot end it.
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(200*time.Millisecond, cancel)
		_, err = e.connector(t, func(c *Config) { c.URL = "ldap://" + l.Addr().String(); c.Timeout = time.Hour }).Plan(cctx, e.danaPerson)
		if !errors.Is(err, context.Canceled) || connector.IsPermanent(err) {
			t.Errorf("err = %v, want the context's cancellation, retryable", err)
		}
	})
	t.Run("check: missing base DN", func(t *testing.T) {
		err := e.connector(t, func(c *Config) { c.BaseDN = "ou=missing," + slapd.Suffix }).Check(ctx)
		if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "ou=missing") {
			t.Errorf("err = %v, want permanent naming the base DN", err)
		}
	})
}

// TestRemovalIsIdempotentWhenAlreadyGone protects resumed cases: a value removed by someone
// else (noSuchAttribute) or a group deleted since planning (noSuchObject) is success.
func TestRemovalIsIdempotentWhenAlreadyGone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slapd.Start(t))
	c := e.connector(t, nil)
	pl, err := c.Plan(ctxFor(t), e.danaPerson)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Modify(ctxFor(t), removeValue(e.groups["devs"], "memberUid", "dana")); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Delete(ctxFor(t), e.groups["ops"]); err != nil {
		t.Fatal(err)
	}
	for _, a := range pl.Actions {
		if a.Kind != KindRemoveGroup {
			continue
		}
		if err := c.Apply(ctxFor(t), a); err != nil {
			t.Errorf("Apply %s: %v", a.Target, err)
		}
		if ev, err := c.Verify(ctxFor(t), a); err != nil || !ev.Verified {
			t.Errorf("Verify %s: %v %+v", a.Target, err, ev)
		}
	}
}

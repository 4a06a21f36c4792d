package slapd

import (
	"context"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// TestServerServesSeededTreeOverEveryTransport protects the fixture the LDAP connector's tests
// rely on: slapd starts, seeds, answers over plain LDAP, StartTLS and LDAPS with the generated
// certificate, enforces the writer/reader ACLs, and has the ppolicy lock attribute.
func TestServerServesSeededTreeOverEveryTransport(t *testing.T) {
	s := Start(t)
	tr := s.NewTree(t, "self")
	dana := tr.AddPerson(t, "dana", "dana@example.org", nil)
	tr.AddGroup(t, GroupOfNames, "eng", dana)
	tr.AddGroup(t, PosixGroup, "devs", "dana")
	ctx := context.Background()
	got, err := tr.Memberships(ctx, dana, "dana")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("memberships = %q, want eng (member) and devs (memberUid)", got)
	}
	if held, err := tr.Holdings(ctx, "dana"); err != nil || len(held) != 3 {
		t.Fatalf("holdings = %q, %v; want the enabled account and two groups", held, err)
	}

	c, err := s.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(s.TLSConfig()); err != nil {
		t.Fatalf("StartTLS with the generated certificate: %v", err)
	}
	ls, err := goldap.DialURL(s.LDAPSURL, goldap.DialWithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatalf("LDAPS: %v", err)
	}
	defer ls.Close()
	if err := ls.Bind(ReaderDN, ReaderPW); err != nil {
		t.Fatalf("bind as the reader over LDAPS: %v", err)
	}
	err = ls.Modify(&goldap.ModifyRequest{DN: dana, Changes: []goldap.Change{{Operation: goldap.ReplaceAttribute, Modification: goldap.PartialAttribute{Type: "cn", Vals: []string{"x"}}}}})
	if !goldap.IsErrorWithCode(err, goldap.LDAPResultInsufficientAccessRights) {
		t.Fatalf("reader modify: err = %v, want insufficient access", err)
	}
	if !s.PPolicy {
		t.Log("ppolicy overlay not available in this slapd; lock-attribute tests will be skipped")
		return
	}
	if in, err := s.CanSignIn(ctx, dana, Password("dana")); err != nil || !in {
		t.Fatalf("dana signs in with Password(dana): %v, %v; want true", in, err)
	}
	lock(t, s, dana)
	vals, ok, err := s.Attr(ctx, dana, "pwdAccountLockedTime")
	if err != nil || !ok || len(vals) != 1 {
		t.Fatalf("pwdAccountLockedTime = %q, %v, %v", vals, ok, err)
	}
	// The default policy has pwdLockout: TRUE, so the lock is enforced.
	if in, err := s.CanSignIn(ctx, dana, Password("dana")); err != nil || in {
		t.Fatalf("locked dana signs in: %v, %v; want refused", in, err)
	}
	if held, err := tr.Holdings(ctx, "dana"); err != nil || len(held) != 2 {
		t.Fatalf("holdings = %q, %v; want the two groups only", held, err)
	}
}

// TestLockAttributeAloneIsNoLock protects the fixture from the mistake it exists to catch:
// ppolicy enforces pwdAccountLockedTime only under a policy with pwdLockout: TRUE, so without
// one (no default policy, or pwdPolicySubentry naming a policy without it) the locked account
// still signs in and Holdings says so; with the default policy hidden in cn=config the lock
// is still enforced, but the service account cannot read which policy applies.
func TestLockAttributeAloneIsNoLock(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, s *Server, tr *Tree, dn string, wantIn bool) {
		t.Helper()
		lock(t, s, dn)
		if in, err := s.CanSignIn(ctx, dn, Password("dana")); err != nil || in != wantIn {
			t.Errorf("after setting pwdAccountLockedTime, signs in = %v (%v), want %v", in, err, wantIn)
		}
		held, err := tr.Holdings(ctx, "dana")
		if wantIn && (err != nil || len(held) != 1 || !strings.Contains(held[0], "can sign in")) {
			t.Errorf("holdings = %q, %v; want the account that still signs in", held, err)
		}
	}
	t.Run("no default policy", func(t *testing.T) {
		s := StartWith(t, Options{NoDefaultPolicy: true})
		if !s.PPolicy {
			t.Skip("ppolicy overlay not available")
		}
		if s.DefaultPolicy != "" {
			t.Fatalf("DefaultPolicy = %q, want none", s.DefaultPolicy)
		}
		tr := s.NewTree(t, "nodefault")
		check(t, s, tr, tr.AddPerson(t, "dana", "", nil), true)
	})
	t.Run("pwdPolicySubentry without pwdLockout", func(t *testing.T) {
		s := Start(t)
		if !s.PPolicy {
			t.Skip("ppolicy overlay not available")
		}
		tr := s.NewTree(t, "nolockout")
		policy := s.AddPolicy(t, "no-lockout", false)
		check(t, s, tr, tr.AddPerson(t, "dana", "", map[string][]string{"pwdPolicySubentry": {policy}}), true)
	})
	t.Run("cn=config hidden", func(t *testing.T) {
		s := StartWith(t, Options{HideConfig: true})
		if !s.PPolicy {
			t.Skip("ppolicy overlay not available")
		}
		tr := s.NewTree(t, "hidden")
		check(t, s, tr, tr.AddPerson(t, "dana", "", nil), false)
		c, err := goldap.DialURL(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Bind(WriterDN, WriterPW); err != nil {
			t.Fatal(err)
		}
		_, err = c.Search(goldap.NewSearchRequest("cn=config", goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=olcPPolicyConfig)", nil, nil))
		if !goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
			t.Errorf("writer searching cn=config: %v, want noSuchObject (hidden)", err)
		}
	})
}

// lock sets the ppolicy lock on dn as the root DN.
func lock(t *testing.T, s *Server, dn string) {
	t.Helper()
	req := goldap.NewModifyRequest(dn, nil)
	req.Replace("pwdAccountLockedTime", []string{"000001010000Z"})
	if err := s.Modify(context.Background(), req); err != nil {
		t.Fatalf("set pwdAccountLockedTime on %s: %v", dn, err)
	}
}

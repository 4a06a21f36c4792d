package slapd

import (
	"context"
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
	req := goldap.NewModifyRequest(dana, nil)
	req.Replace("pwdAccountLockedTime", []string{"000001010000Z"})
	if err := s.Modify(ctx, req); err != nil {
		t.Fatalf("set pwdAccountLockedTime: %v", err)
	}
	vals, ok, err := s.Attr(ctx, dana, "pwdAccountLockedTime")
	if err != nil || !ok || len(vals) != 1 {
		t.Fatalf("pwdAccountLockedTime = %q, %v, %v", vals, ok, err)
	}
}

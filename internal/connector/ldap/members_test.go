package ldap

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/ldap/slapd"
)

const adDana = "CN=Dana Leaver,OU=Staff,DC=corp,DC=example"

// adGroup is an Active Directory group as a search returns it when member has more values
// than MaxValRange: only the first 1500, under the attribute name member;range=0-1499.
func adGroup(members ...string) *goldap.Entry {
	return goldap.NewEntry("CN=All Staff,OU=Groups,DC=corp,DC=example", map[string][]string{
		"objectClass":         {"top", "group"},
		"member;range=0-1499": members,
	})
}

func others(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("CN=Person %d,OU=Staff,DC=corp,DC=example", i)
	}
	return out
}

// TestRangedMemberAttributeIsRecognised protects Active Directory's large groups, whose member
// attribute comes back as member;range=0-1499: the name is still member (options are not part
// of it), the person is found among the values returned, and a group the server's membership
// filter returned is kept even when the person is beyond the first 1500 values (the server
// is asked, never the partial list), so it is not silently left out of the plan.
func TestRangedMemberAttributeIsRecognised(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"member": "member", "member;range=0-1499": "member", "MEMBER;Range=1500-*": "member",
		"uniqueMember;x-tag": "uniqueMember", "memberUid": "memberUid", "memberOf": "", "member-x": "", "cn;range=0-1": "",
	} {
		if got := canonicalAttr(name); got != want {
			t.Errorf("canonicalAttr(%q) = %q, want %q", name, got, want)
		}
	}
	acc := account{DN: adDana, UID: "dana"}
	noProbe := func(attr, value string) (bool, error) {
		t.Errorf("asked the server about %s=%s although the values returned show the person", attr, value)
		return false, nil
	}

	t.Run("listed among the values returned", func(t *testing.T) {
		// The DN as stored, in another case: compared as a DN.
		stored := strings.ToLower(adDana)
		m, err := confirmHeld(adGroup(append(others(1499), stored)...), acc, noProbe)
		if err != nil || m.Values["member"] != stored {
			t.Fatalf("values %q (%v), want member=%q", m.Values, err, stored)
		}
		if !m.Partial["member"] || m.Sizes["member"] != 1500 {
			t.Errorf("partial %v sizes %v, want member partial with 1500 values seen", m.Partial, m.Sizes)
		}
	})
	t.Run("beyond the values returned", func(t *testing.T) {
		var asked []string
		m, err := confirmHeld(adGroup(others(1500)...), acc, func(attr, value string) (bool, error) {
			asked = append(asked, attr+"="+value)
			return attr == "member" && value == adDana, nil
		})
		if err != nil || m.Values["member"] != adDana || len(m.Values) != 1 {
			t.Fatalf("values %q (%v), want member=%q confirmed by the server", m.Values, err, adDana)
		}
		if !slices.Contains(asked, "member="+adDana) {
			t.Errorf("asked %q, want the server asked whether member lists %s", asked, adDana)
		}
	})
	t.Run("no longer listed when the server is asked", func(t *testing.T) {
		m, err := confirmHeld(adGroup(others(1500)...), acc, func(string, string) (bool, error) { return false, nil })
		if err != nil || len(m.Values) != 0 {
			t.Errorf("values %q (%v), want none: the group no longer lists the person", m.Values, err)
		}
	})
	t.Run("a partial list never makes the person the last member", func(t *testing.T) {
		e := goldap.NewEntry("cn=big,dc=x", map[string][]string{"objectClass": {"groupOfNames"}, "member;range=0-0": {adDana}})
		m, _ := confirmHeld(e, acc, noProbe)
		if keep := m.mustKeep(); len(keep) != 0 {
			t.Errorf("mustKeep = %q, want nothing: one value returned of a ranged list is not the only value", keep)
		}
	})
}

// TestMembershipSearchEscapesTheDN protects the server-side membership check from a DN that
// holds filter characters: it is one escaped assertion per value, never a changed filter.
func TestMembershipSearchEscapesTheDN(t *testing.T) {
	t.Parallel()
	dn := `CN=Leaver\, Dana (Ops)*,OU=Staff,DC=corp,DC=example`
	if got, want := listsFilter("member", dn), `(member=CN=Leaver\5c, Dana \28Ops\29\2a,OU=Staff,DC=corp,DC=example)`; got != want {
		t.Errorf("listsFilter = %s, want %s", got, want)
	}
	got := listsFilter("uniqueMember", "uid=a,dc=x", "UID=A,DC=X")
	if want := `(|(uniqueMember=uid=a,dc=x)(uniqueMember=UID=A,DC=X))`; got != want {
		t.Errorf("listsFilter = %s, want %s", got, want)
	}
	for _, f := range []string{listsFilter("member", dn), got} {
		if _, err := goldap.CompileFilter(f); err != nil {
			t.Errorf("%s does not compile: %v", f, err)
		}
	}
}

// TestMembershipUnderAnAttributeOptionIsPlannedAndVerifiedTruthfully protects, against a real
// slapd, group values returned under a name with an option (here the tagged member;lang-en,
// which slapd's member filter matches, as Active Directory returns member;range=0-1499): the
// group is planned rather than silently dropped, and the removal's verdict is what the
// directory holds afterwards. (Deleting member does not delete member;lang-en values, so today
// the step stays unverified and a person removes the tagged value; it must never go green.)
func TestMembershipUnderAnAttributeOptionIsPlannedAndVerifiedTruthfully(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slapd.Start(t))
	ctx := ctxFor(t)
	tagged := e.tree.AddGroup(t, slapd.GroupOfNames, "tagged", e.sam)
	add := goldap.NewModifyRequest(tagged, nil)
	add.Add("member;lang-en", []string{e.dana})
	if err := e.srv.Modify(ctx, add); err != nil {
		t.Fatal(err)
	}
	c := e.connector(t, nil)
	pl, err := c.Plan(ctx, e.danaPerson)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pl.Actions, func(a connector.Action) bool { return a.Target == tagged })
	if i < 0 {
		t.Fatalf("no removal planned from %s, which lists dana as member;lang-en: %+v", tagged, pl.Actions)
	}
	if err := c.Apply(ctx, pl.Actions[i]); err != nil {
		t.Fatal(err)
	}
	ev, err := c.Verify(ctx, pl.Actions[i])
	if err != nil {
		t.Fatal(err)
	}
	left, err := e.tree.Memberships(ctx, e.dana, "dana")
	if err != nil {
		t.Fatal(err)
	}
	still := slices.Contains(left, tagged+" member")
	if ev.Verified == still {
		t.Errorf("verified = %v (%s) while the directory lists dana in %s: %v", ev.Verified, ev.Observed, tagged, still)
	}
}

// TestGroupWhoseValuesComeBackIncompleteIsStillOffboarded protects, against a real slapd,
// what Active Directory's ranged member;range=0-1499 risks: a group whose values, read back,
// leave the person out (here an ACL lets the bind DN search and delete the value but not read
// it) is still planned, because the server's membership filter returned it, and is removed;
// and the removal is verified by asking the server, so a value re-added where a read cannot
// see it makes the step unverified instead of green.
func TestGroupWhoseValuesComeBackIncompleteIsStillOffboarded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slapd.Start(t))
	ctx := ctxFor(t)
	uid := slapd.UnlistedPrefix + "lee"
	lee := e.tree.AddPerson(t, uid, "lee@example.org", nil)
	big := e.tree.AddGroup(t, slapd.GroupOfNames, "big", e.sam, lee)
	c := e.connector(t, nil)
	var seen []string
	if err := c.with(ctx, "read back", func(l *goldap.Conn) error {
		g, err := readEntry(l, big, "member")
		if g != nil {
			seen = g.GetAttributeValues("member")
		}
		return err
	}); err != nil || !slices.Equal(seen, []string{e.sam}) {
		t.Fatalf("the bind DN reads %s's members as %q (%v), want only %s: the fixture must hide %s", big, seen, err, e.sam, lee)
	}

	pl, err := c.Plan(ctx, connector.Person{Email: "lee@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	var remove *connector.Action
	for i, a := range pl.Actions {
		if a.Kind == KindRemoveGroup && a.Target == big {
			remove = &pl.Actions[i]
		}
	}
	if remove == nil || len(pl.Manual) != 0 {
		t.Fatalf("actions %+v manual %+v: want %s removed from %s, which the membership filter matched, and no manual work", pl.Actions, pl.Manual, lee, big)
	}
	applyAll(t, c, pl)
	if left, _ := e.tree.Memberships(ctx, lee, uid); len(left) != 0 {
		t.Errorf("%s still in %q", lee, left)
	}

	readd := goldap.NewModifyRequest(big, nil)
	readd.Add("member", []string{lee})
	if err := e.srv.Modify(ctx, readd); err != nil {
		t.Fatal(err)
	}
	ev, err := c.Verify(ctx, *remove)
	if err != nil || ev.Verified || !strings.Contains(ev.Observed, "still lists") {
		t.Errorf("verify with %s listed again, unreadably: %v, verified=%v %q; want not verified", lee, err, ev.Verified, ev.Observed)
	}
}

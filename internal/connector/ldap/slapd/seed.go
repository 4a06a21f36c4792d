package slapd

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Entry is one directory entry to add.
type Entry struct {
	DN    string
	Attrs map[string][]string
}

// Add adds entries in order as the root DN.
func (s *Server) Add(ctx context.Context, entries ...Entry) error {
	c, err := s.Dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, e := range entries {
		req := goldap.NewAddRequest(e.DN, nil)
		for _, k := range slices.Sorted(maps.Keys(e.Attrs)) {
			req.Attribute(k, e.Attrs[k])
		}
		if err := c.Add(req); err != nil {
			return fmt.Errorf("add %s: %w", e.DN, err)
		}
	}
	return nil
}

// Modify applies one modification as the root DN.
func (s *Server) Modify(ctx context.Context, req *goldap.ModifyRequest) error {
	c, err := s.Dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Modify(req)
}

// Tree is one test's own subtree, ou=<name>,dc=example,dc=org, with ou=people, ou=groups and
// ou=disabled beneath it, so tests sharing one server never see each other's people.
type Tree struct {
	Base, People, Groups, Disabled string
	s                              *Server
	nextID                         int
	// passwords maps each person's uid to the password AddPerson gave them, for Holdings.
	passwords map[string]string
}

// NewTree adds the subtree ou=name with its three organisational units.
func (s *Server) NewTree(t testing.TB, name string) *Tree {
	t.Helper()
	base := "ou=" + name + "," + Suffix
	tr := &Tree{Base: base, People: "ou=people," + base, Groups: "ou=groups," + base, Disabled: "ou=disabled," + base, s: s, nextID: 10000,
		passwords: map[string]string{}}
	var entries []Entry
	for _, dn := range []string{tr.Base, tr.People, tr.Groups, tr.Disabled} {
		ou := strings.TrimPrefix(strings.SplitN(dn, ",", 2)[0], "ou=")
		entries = append(entries, Entry{DN: dn, Attrs: map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {ou}}})
	}
	if err := s.Add(context.Background(), entries...); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	return tr
}

// Password is the password AddPerson gives uid (unless extra sets userPassword), so tests can
// prove whether the person can still sign in.
func Password(uid string) string { return "pw-" + uid }

// AddPerson adds a posixAccount inetOrgPerson under ou=people, with the password
// Password(uid), and returns its DN. extra adds or replaces attributes.
func (tr *Tree) AddPerson(t testing.TB, uid, mail string, extra map[string][]string) string {
	t.Helper()
	tr.nextID++
	dn := "uid=" + goldap.EscapeDN(uid) + "," + tr.People
	attrs := map[string][]string{
		"objectClass":   {"inetOrgPerson", "posixAccount"},
		"uid":           {uid},
		"cn":            {uid},
		"sn":            {uid},
		"uidNumber":     {fmt.Sprint(tr.nextID)},
		"gidNumber":     {"10000"},
		"homeDirectory": {"/home/" + uid},
		"userPassword":  {Password(uid)},
	}
	if mail != "" {
		attrs["mail"] = []string{mail}
	}
	maps.Copy(attrs, extra)
	if err := tr.s.Add(context.Background(), Entry{DN: dn, Attrs: attrs}); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	if pw := attrs["userPassword"]; len(pw) == 1 {
		tr.passwords[uid] = pw[0]
	}
	return dn
}

// Group kinds: the structural object class and the attribute that lists members.
type GroupKind struct{ Class, Attr string }

// The three group schemas offboard handles.
var (
	GroupOfNames       = GroupKind{"groupOfNames", "member"}
	GroupOfUniqueNames = GroupKind{"groupOfUniqueNames", "uniqueMember"}
	PosixGroup         = GroupKind{"posixGroup", "memberUid"}
)

// AddGroup adds a group of kind under ou=groups with the given members (DNs for groupOfNames
// and groupOfUniqueNames, uids for posixGroup) and returns its DN.
func (tr *Tree) AddGroup(t testing.TB, kind GroupKind, cn string, members ...string) string {
	t.Helper()
	tr.nextID++
	dn := "cn=" + goldap.EscapeDN(cn) + "," + tr.Groups
	attrs := map[string][]string{"objectClass": {kind.Class}, "cn": {cn}}
	if len(members) > 0 {
		attrs[kind.Attr] = members
	}
	if kind == PosixGroup {
		attrs["gidNumber"] = []string{fmt.Sprint(tr.nextID)}
	}
	if err := tr.s.Add(context.Background(), Entry{DN: dn, Attrs: attrs}); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	return dn
}

// Snapshot is a sorted dump of every entry under the tree: DN, then each attribute with its
// sorted values, including the operational pwdAccountLockedTime. Two snapshots are equal
// exactly when nothing a connector could change under the tree changed.
func (tr *Tree) Snapshot(ctx context.Context) (string, error) {
	c, err := tr.s.Dial(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	attrs := []string{"*"}
	if tr.s.PPolicy {
		attrs = append(attrs, "pwdAccountLockedTime")
	}
	res, err := c.Search(goldap.NewSearchRequest(tr.Base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", attrs, nil))
	if err != nil {
		return "", err
	}
	var lines []string
	for _, e := range res.Entries {
		var parts []string
		for _, a := range e.Attributes {
			vals := slices.Sorted(slices.Values(a.Values))
			parts = append(parts, strings.ToLower(a.Name)+"="+strings.Join(vals, "|"))
		}
		slices.Sort(parts)
		lines = append(lines, strings.ToLower(e.DN)+" {"+strings.Join(parts, "; ")+"}")
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n"), nil
}

// Memberships lists the groups under the tree that still hold the person, as
// "<group DN> <attribute>", sorted: member or uniqueMember holding dn, memberUid holding uid.
func (tr *Tree) Memberships(ctx context.Context, dn, uid string) ([]string, error) {
	c, err := tr.s.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []string
	for _, attr := range []string{"member", "uniqueMember", "memberUid"} {
		v := dn
		if attr == "memberUid" {
			v = uid
		}
		filter := "(" + attr + "=" + goldap.EscapeFilter(v) + ")"
		res, err := c.Search(goldap.NewSearchRequest(tr.Base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, filter, []string{"cn"}, nil))
		if err != nil {
			return nil, err
		}
		for _, e := range res.Entries {
			out = append(out, e.DN+" "+attr)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Attr returns the values of attr on the entry dn (operational attributes included when
// named), or ok=false when the entry does not exist.
func (s *Server) Attr(ctx context.Context, dn, attr string) (vals []string, ok bool, err error) {
	c, err := s.Dial(ctx)
	if err != nil {
		return nil, false, err
	}
	defer c.Close()
	res, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{attr}, nil))
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if len(res.Entries) == 0 {
		return nil, false, nil
	}
	return res.Entries[0].GetEqualFoldAttributeValues(attr), true, nil
}

// Delete deletes one entry as the root DN.
func (s *Server) Delete(ctx context.Context, dn string) error {
	c, err := s.Dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Del(goldap.NewDelRequest(dn, nil))
}

// AddPolicy adds the password policy cn=<cn> under PolicyBase with pwdLockout set to lockout
// and returns its DN; point an account's pwdPolicySubentry at it to make it apply. The DN is
// shared by every tree on the server, so cn must be unique to the test.
func (s *Server) AddPolicy(t testing.TB, cn string, lockout bool) string {
	t.Helper()
	e := policyEntry(cn, lockout)
	if err := s.Add(context.Background(), e); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	return e.DN
}

// CanSignIn reports whether a simple bind as dn with password succeeds: true when it does,
// false when the directory refuses it as invalid credentials (result 49), which is also how
// ppolicy refuses a locked account. Anything else is an error. This, not the lock attribute,
// is the proof an account is locked: ppolicy ignores pwdAccountLockedTime unless a policy with
// pwdLockout: TRUE applies.
func (s *Server) CanSignIn(ctx context.Context, dn, password string) (bool, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", strings.TrimPrefix(s.URL, "ldap://"))
	if err != nil {
		return false, err
	}
	c := goldap.NewConn(nc, false)
	c.Start()
	defer c.Close()
	c.SetTimeout(10 * time.Second)
	err = c.Bind(dn, password)
	switch {
	case err == nil:
		return true, nil
	case goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials):
		return false, nil
	default:
		return false, fmt.Errorf("bind as %s: %w", dn, err)
	}
}

// Holdings lists, in plain language, the access the person with uid still holds under the
// tree: each entry with that uid outside ou=disabled that still signs in with the person's
// password (a bind is tried: the lock attribute alone proves nothing), and each group listing
// them. It is empty when they are fully offboarded.
func (tr *Tree) Holdings(ctx context.Context, uid string) ([]string, error) {
	c, err := tr.s.Dial(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Search(goldap.NewSearchRequest(tr.Base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(uid="+goldap.EscapeFilter(uid)+")", []string{"uid"}, nil))
	c.Close()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range res.Entries {
		if !strings.HasSuffix(strings.ToLower(e.DN), ","+strings.ToLower(tr.Disabled)) {
			pw, known := tr.passwords[uid]
			if !known {
				return nil, fmt.Errorf("no password is known for %s, so whether it signs in cannot be tested", e.DN)
			}
			in, err := tr.s.CanSignIn(ctx, e.DN, pw)
			if err != nil {
				return nil, err
			}
			if in {
				out = append(out, "account "+e.DN+" can sign in")
			}
		}
		groups, err := tr.Memberships(ctx, e.DN, uid)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			out = append(out, "member of "+g)
		}
	}
	slices.Sort(out)
	return out, nil
}

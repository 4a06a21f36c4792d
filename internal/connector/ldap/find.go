package ldap

import (
	"fmt"
	"slices"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/connector"
)

// maxMatches bounds the person search: two matches already make it ambiguous, and a few more
// DNs help the human who resolves it.
const maxMatches = 10

// Group attributes that list members, and the object classes that require them (MUST).
var memberAttrs = []string{"member", "uniqueMember", "memberUid"}

var mustMember = map[string]string{"groupofnames": "member", "groupofuniquenames": "uniqueMember"}

// expandFilter fills the user filter's placeholders with escaped values, so nothing in an
// email address or handle can change the filter's structure.
func expandFilter(filter, email, uid string) string {
	return strings.NewReplacer("{email}", goldap.EscapeFilter(email), "{uid}", goldap.EscapeFilter(uid)).Replace(filter)
}

// account is the person's entry as read.
type account struct {
	DN  string
	UID string // the entry's own uid, for posixGroup memberUid
	// Attrs holds what the disable step changes, as read.
	Attrs map[string][]string
}

// userAttrs are read from the person's entry.
func (c *Connector) userAttrs() []string {
	attrs := []string{"uid", "mail", "cn", "userPrincipalName", "sAMAccountName", "userAccountControl", "primaryGroupID", "objectClass"}
	if c.cfg.Flavor == FlavorOpenLDAP && c.cfg.Disable.Attribute != "" {
		// Operational attributes (pwdAccountLockedTime, pwdPolicySubentry) come back only
		// when named.
		attrs = append(attrs, c.cfg.Disable.Attribute)
		if isPPolicyLock(c.cfg.Flavor, c.cfg.Disable.Attribute) {
			attrs = append(attrs, attrPolicySubentry)
		}
	}
	return attrs
}

// findPeople searches BaseDN with the expanded user filter.
func (c *Connector) findPeople(l *goldap.Conn, filter string) ([]account, error) {
	req := goldap.NewSearchRequest(c.cfg.BaseDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, maxMatches, int(c.cfg.Timeout.Seconds()), false, filter, c.userAttrs(), nil)
	res, err := l.Search(req)
	if err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
		return nil, fmt.Errorf("search %s for %s: %w", c.cfg.BaseDN, filter, err)
	}
	var out []account
	for _, e := range res.Entries {
		out = append(out, toAccount(e))
	}
	slices.SortFunc(out, func(a, b account) int { return strings.Compare(a.DN, b.DN) })
	return out, nil
}

func toAccount(e *goldap.Entry) account {
	a := account{DN: e.DN, UID: e.GetEqualFoldAttributeValue("uid"), Attrs: map[string][]string{}}
	for _, at := range e.Attributes {
		a.Attrs[at.Name] = at.Values
	}
	return a
}

// attr returns the values of name, matching the attribute name case-insensitively.
func (a account) attr(name string) []string {
	for k, v := range a.Attrs {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// membership is one group holding the person: which attributes list them, with the exact
// stored value to delete for each.
type membership struct {
	DN      string
	Classes []string
	// Values maps attribute name to the stored value naming the person.
	Values map[string]string
	// Sizes maps attribute name to how many values were returned for it.
	Sizes map[string]int
	// Partial holds the attributes whose values came back incomplete: Active Directory sends
	// at most MaxValRange (1500) values of a large attribute, as member;range=0-1499.
	Partial map[string]bool
}

// groupFilter finds groups listing dn (member, uniqueMember) or uid (memberUid).
func groupFilter(dn, uid string) string {
	f := "(|(member=" + goldap.EscapeFilter(dn) + ")(uniqueMember=" + goldap.EscapeFilter(dn) + ")"
	if uid != "" {
		f += "(memberUid=" + goldap.EscapeFilter(uid) + ")"
	}
	return f + ")"
}

// findGroups lists the groups under GroupBaseDN that hold the account, sorted by DN.
func (c *Connector) findGroups(l *goldap.Conn, acc account) ([]membership, error) {
	req := goldap.NewSearchRequest(c.cfg.GroupBaseDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, int(c.cfg.Timeout.Seconds()), false,
		groupFilter(acc.DN, acc.UID), append([]string{"objectClass"}, memberAttrs...), nil)
	// Paged, because a directory's size limit would otherwise cut a long list of groups short.
	res, err := l.SearchWithPaging(req, 500)
	if err != nil {
		return nil, fmt.Errorf("search groups under %s: %w", c.cfg.GroupBaseDN, err)
	}
	var out []membership
	for _, e := range res.Entries {
		m, err := confirmHeld(e, acc, func(attr, value string) (bool, error) {
			_, listed, err := lists(l, e.DN, attr, value)
			return listed, err
		})
		if err != nil {
			return nil, err
		}
		if len(m.Values) > 0 {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b membership) int { return strings.Compare(a.DN, b.DN) })
	return out, nil
}

// confirmHeld is holds for a group the server's membership filter returned, so it does hold
// the person even when the values returned do not show it (a range-limited, incomplete list,
// or a value spelled in a way only the server's matching rule recognises). For each member
// attribute the values leave in doubt, the server is asked (listed, a server-side check of
// one attribute and value) and, if it lists the person, the value to delete is their DN (uid
// for memberUid), which the directory's matching rule finds however the stored value is
// spelled; that attribute's values are then known to be incomplete (Partial). A group none of
// whose attributes is confirmed is returned without values: it no longer lists the person
// (removed since the search).
func confirmHeld(e *goldap.Entry, acc account, listed func(attr, value string) (bool, error)) (membership, error) {
	m, ok := holds(e, acc)
	for _, attr := range memberAttrs {
		if _, found := m.Values[attr]; found || (ok && !m.Partial[attr]) {
			continue
		}
		value := memberValue(attr, acc)
		if value == "" {
			continue
		}
		yes, err := listed(attr, value)
		if err != nil {
			return m, err
		}
		if yes {
			// The values returned left out a value the server holds: they are incomplete,
			// so their count says nothing about how many members remain.
			m.Values[attr] = value
			m.Partial[attr] = true
		}
	}
	return m, nil
}

// memberValue is the value that names acc in the member attribute attr: its uid for
// memberUid, its DN otherwise.
func memberValue(attr string, acc account) string {
	if attr == "memberUid" {
		return acc.UID
	}
	return acc.DN
}

// listsFilter matches an entry whose attribute attr holds any of values, each escaped.
func listsFilter(attr string, values ...string) string {
	var b strings.Builder
	for _, v := range values {
		b.WriteString("(" + attr + "=" + goldap.EscapeFilter(v) + ")")
	}
	if len(values) == 1 {
		return b.String()
	}
	return "(|" + b.String() + ")"
}

// lists asks the directory whether the group dn's attribute attr holds any of values, with a
// base-scope search filtered on them. The server evaluates the filter over every value with
// the attribute's matching rule, so the answer holds where a read of the values would be
// incomplete (Active Directory's ranged member;range=0-1499) and however a DN is spelled.
// exists is false when the group does not exist.
func lists(l *goldap.Conn, dn, attr string, values ...string) (exists, listed bool, err error) {
	req := goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 0, false, listsFilter(attr, values...), []string{"1.1"}, nil)
	res, err := l.Search(req)
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("search %s for %s: %w", dn, req.Filter, err)
	}
	return true, len(res.Entries) > 0, nil
}

// holds reports which of the group's member attributes name the account, with the stored
// values. Distinguished names are compared as DNs (case and spacing do not matter);
// memberUid is compared exactly, as the nis schema does.
func holds(e *goldap.Entry, acc account) (membership, bool) {
	m := membership{DN: e.DN, Classes: e.GetAttributeValues("objectClass"), Values: map[string]string{}, Sizes: map[string]int{}, Partial: map[string]bool{}}
	want, _ := goldap.ParseDN(acc.DN)
	for _, at := range e.Attributes {
		name := canonicalAttr(at.Name)
		if name == "" {
			continue
		}
		if hasRange(at.Name) {
			m.Partial[name] = true
		}
		m.Sizes[name] += len(at.Values)
		for _, v := range at.Values {
			if name == "memberUid" {
				if acc.UID != "" && v == acc.UID {
					m.Values[name] = v
				}
				continue
			}
			// uniqueMember may carry an optional #'bitstring' UID suffix.
			dnPart := v
			if i := strings.LastIndex(v, "#'"); name == "uniqueMember" && i > 0 {
				dnPart = v[:i]
			}
			if got, err := goldap.ParseDN(dnPart); err == nil && want != nil && got.EqualFold(want) {
				m.Values[name] = v
			}
		}
	}
	return m, len(m.Values) > 0
}

// canonicalAttr returns the member attribute name names, or "". Options after ';' are not
// part of the name: Active Directory returns a large member attribute as
// member;range=0-1499.
func canonicalAttr(name string) string {
	name, _, _ = strings.Cut(name, ";")
	for _, a := range memberAttrs {
		if strings.EqualFold(a, name) {
			return a
		}
	}
	return ""
}

// hasRange reports whether the attribute description carries a range option, so its values
// may be only part of the attribute's.
func hasRange(name string) bool {
	_, opts, _ := strings.Cut(name, ";")
	for _, o := range strings.Split(opts, ";") {
		if len(o) >= 6 && strings.EqualFold(o[:6], "range=") {
			return true
		}
	}
	return false
}

// mustKeep returns the attributes of m the schema requires to hold at least one value where
// the person is the only value: removing it would violate the group's MUST.
func (m membership) mustKeep() []string {
	var out []string
	for _, cl := range m.Classes {
		attr, ok := mustMember[strings.ToLower(cl)]
		if ok && m.Values[attr] != "" && m.Sizes[attr] == 1 && !m.Partial[attr] {
			out = append(out, attr)
		}
	}
	return out
}

// lookup finds the person: the accounts matching and the filter used, or a reason there is
// nothing to look up.
func (c *Connector) lookup(l *goldap.Conn, p connector.Person) (accs []account, filter, why string, err error) {
	uid, _ := p.AccountName(c.cfg.Name, connector.NameFromEmailLocal)
	if strings.Contains(c.cfg.UserFilter, "{email}") && p.Email == "" && !strings.Contains(c.cfg.UserFilter, "{uid}") {
		return nil, "", "no email was given and the user filter matches by email", nil
	}
	if p.Email == "" && uid == "" {
		return nil, "", "no email or ldap handle was given", nil
	}
	email := p.Email
	if email == "" {
		// An empty assertion value would match nothing useful; NUL never occurs in a mail.
		email = "\x00"
	}
	if uid == "" {
		uid = "\x00"
	}
	filter = expandFilter(c.cfg.UserFilter, email, uid)
	accs, err = c.findPeople(l, filter)
	return accs, filter, "", err
}

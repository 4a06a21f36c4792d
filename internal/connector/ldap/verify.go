package ldap

import (
	"context"
	"fmt"
	"slices"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Verify reads the directory back over a fresh connection and reports whether the action's
// effect is in place. An error means the read failed, never that the access remains.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	var ev connector.Evidence
	dn := a.Param(pUserDN)
	err := c.with(ctx, fmt.Sprintf("verify %s of %s", a.Kind, a.Target), func(l *goldap.Conn) error {
		var err error
		switch a.Kind {
		case KindRemoveGroup:
			ev, err = c.verifyGroup(l, a)
		case KindDisable:
			ev, err = c.verifyDisabled(l, a, dn)
		case KindMoveDisabled:
			ev, err = c.verifyMoved(l, dn, a.Param(pNewDN))
		default:
			err = connector.Permanent(fmt.Errorf("unknown action kind %q", a.Kind))
		}
		return err
	})
	return ev, err
}

// verifyGroup reads the group's member attributes named in the action and checks none still
// names the person.
func (c *Connector) verifyGroup(l *goldap.Conn, a connector.Action) (connector.Evidence, error) {
	attrs := strings.Split(a.Param(pAttributes), ",")
	e, err := readEntry(l, a.Target, append([]string{"objectClass"}, attrs...)...)
	if err != nil {
		return connector.Evidence{}, err
	}
	removed := map[string]string{}
	for _, at := range attrs {
		removed[at] = a.Param(pValuePre + at)
	}
	// The attribute and value removed are what a restore puts back.
	read := map[string]any{"group_dn": a.Target, "exists": e != nil, "removed_values": removed}
	if e == nil {
		return connector.Observe(true, fmt.Sprintf("group %s no longer exists, so it lists nobody", a.Target), read, c.now()), nil
	}
	m, listed := holds(e, account{DN: a.Param(pUserDN), UID: a.Param(pUID)})
	still := map[string]string{}
	for _, at := range attrs {
		if v, ok := m.Values[at]; ok {
			still[at] = v
		}
	}
	read["still_listed"] = still
	read["member_counts"] = m.Sizes
	if listed && len(still) > 0 {
		return connector.Observe(false, fmt.Sprintf("group %s still lists %s in %s", a.Target, a.Param(pUserDN), strings.Join(sortedKeys(still), ", ")), read, c.now()), nil
	}
	return connector.Observe(true, fmt.Sprintf("group %s no longer lists %s (%s read back)", a.Target, a.Param(pUserDN), strings.Join(attrs, ", ")), read, c.now()), nil
}

// verifyDisabled reads the disable attribute: the lock value is set (OpenLDAP) or
// ACCOUNTDISABLE is on (AD).
func (c *Connector) verifyDisabled(l *goldap.Conn, a connector.Action, dn string) (connector.Evidence, error) {
	attr := a.Param(pAttribute)
	e, err := readEntry(l, dn, attr)
	if err != nil {
		return connector.Evidence{}, err
	}
	if e == nil {
		return connector.UserGone(c.cfg.Name, dn, dn, "access", c.now()), nil
	}
	vals := e.GetEqualFoldAttributeValues(attr)
	read := map[string]any{"dn": dn, "attribute": attr, "values": nonNil(vals), "previous": a.Param(pPrevious)}
	if a.Param(pFlavor) == FlavorAD {
		uac, err := parseUAC(vals)
		if err != nil {
			return connector.Evidence{}, connector.Permanent(err)
		}
		ok := uacDisabled(uac)
		return connector.Observe(ok, fmt.Sprintf("%s %s=%d (0x%x): ACCOUNTDISABLE %s", dn, uacAttr, uac, uac, map[bool]string{true: "set", false: "not set"}[ok]), read, c.now()), nil
	}
	ok := slices.Contains(vals, a.Param(pValue))
	return connector.Observe(ok, fmt.Sprintf("%s %s=%s (want %s)", dn, attr, strings.Join(vals, "|"), a.Param(pValue)), read, c.now()), nil
}

// verifyMoved checks the entry exists at newDN and no longer at dn.
func (c *Connector) verifyMoved(l *goldap.Conn, dn, newDN string) (connector.Evidence, error) {
	old, err := readEntry(l, dn, "1.1")
	if err != nil {
		return connector.Evidence{}, err
	}
	moved, err := readEntry(l, newDN, "1.1")
	if err != nil {
		return connector.Evidence{}, err
	}
	read := map[string]any{"previous_dn": dn, "new_dn": newDN, "previous_exists": old != nil, "new_exists": moved != nil}
	switch {
	case old == nil && moved != nil:
		return connector.Observe(true, fmt.Sprintf("%s is now %s (under the disabled OU)", dn, newDN), read, c.now()), nil
	case old == nil:
		return connector.Observe(true, fmt.Sprintf("%s no longer exists, nor %s (deleted), so nobody signs in with it", dn, newDN), read, c.now()), nil
	default:
		return connector.Observe(false, fmt.Sprintf("%s is still in place (not moved to %s)", dn, newDN), read, c.now()), nil
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

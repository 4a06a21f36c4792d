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

// verifyGroup asks the directory, per member attribute named in the action, whether the group
// still lists the person: a base-scope search on the group filtered on their DN (uid for
// memberUid) and the value removed. The server evaluates the filter over every value, so the
// answer is complete where reading the values back is not (Active Directory returns at most
// 1500 of them, as member;range=0-1499).
func (c *Connector) verifyGroup(l *goldap.Conn, a connector.Action) (connector.Evidence, error) {
	acc := account{DN: a.Param(pUserDN), UID: a.Param(pUID)}
	attrs := strings.Split(a.Param(pAttributes), ",")
	removed := map[string]string{}
	filters := map[string]string{}
	// The attribute and value removed are what a restore puts back.
	read := map[string]any{"group_dn": a.Target, "removed_values": removed, "filters": filters}
	var still []string
	exists := true
	for _, at := range attrs {
		removed[at] = a.Param(pValuePre + at)
		values := []string{memberValue(at, acc)}
		if v := removed[at]; v != "" && v != values[0] {
			values = append(values, v)
		}
		filters[at] = listsFilter(at, values...)
		found, listed, err := lists(l, a.Target, at, values...)
		if err != nil {
			return connector.Evidence{}, err
		}
		if !found {
			exists = false
			break
		}
		if listed {
			still = append(still, at)
		}
	}
	read["exists"] = exists
	if !exists {
		return connector.Observe(true, fmt.Sprintf("group %s no longer exists, so it lists nobody", a.Target), read, c.now()), nil
	}
	read["still_listed"] = nonNil(still)
	if len(still) > 0 {
		return connector.Observe(false, fmt.Sprintf("group %s still lists %s in %s", a.Target, acc.DN, strings.Join(still, ", ")), read, c.now()), nil
	}
	return connector.Observe(true, fmt.Sprintf("group %s no longer lists %s (searched the group for it in %s)", a.Target, acc.DN, strings.Join(attrs, ", ")), read, c.now()), nil
}

// verifyDisabled reads the disable attribute: the lock value is set (OpenLDAP) or
// ACCOUNTDISABLE is on (AD). The ppolicy lock is verified only together with the password
// policy that applies (see policyFor): one read without pwdLockout: TRUE means the account
// still signs in, so it is not verified; one the bind DN cannot read leaves the attribute as
// the only proof, which the evidence says and the plan's manual work asks a person to confirm.
func (c *Connector) verifyDisabled(l *goldap.Conn, a connector.Action, dn string) (connector.Evidence, error) {
	attr := a.Param(pAttribute)
	ppolicy := isPPolicyLock(a.Param(pFlavor), attr)
	attrs := []string{attr}
	if ppolicy {
		attrs = append(attrs, attrPolicySubentry)
	}
	e, err := readEntry(l, dn, attrs...)
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
	observed := fmt.Sprintf("%s %s=%s (want %s)", dn, attr, strings.Join(vals, "|"), a.Param(pValue))
	if !ok || !ppolicy {
		return connector.Observe(ok, observed, read, c.now()), nil
	}
	pol, err := policyFor(l, dn, e.GetEqualFoldAttributeValues(attrPolicySubentry))
	if err != nil {
		return connector.Evidence{}, err
	}
	read["policy"] = pol
	switch {
	case pol.enforced():
		observed += "; enforced: " + pol.Why
	case pol.Known:
		return connector.Observe(false, observed+", but it is not enforced: "+pol.Why, read, c.now()), nil
	default:
		observed += "; not proven to stop sign-in: " + pol.Why + "; a person must confirm a policy with pwdLockout: TRUE applies (see the plan's manual work)"
	}
	return connector.Observe(true, observed, read, c.now()), nil
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

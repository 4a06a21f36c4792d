package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Apply makes one planned change. It is idempotent: a value already removed (noSuchAttribute),
// a group or user that no longer exists (noSuchObject), an account already disabled or already
// moved are all success.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	dn := a.Param(pUserDN)
	if dn == "" || a.Target == "" {
		return connector.Permanent(fmt.Errorf("%s: apply %s: the action has no %s or target; it was not planned by this connector", c.cfg.Name, a.Key(), pUserDN))
	}
	op := fmt.Sprintf("apply %s to %s", a.Kind, a.Target)
	return c.with(ctx, op, func(l *goldap.Conn) error {
		switch a.Kind {
		case KindRemoveGroup:
			return c.removeGroup(l, a)
		case KindDisable:
			if a.Param(pFlavor) == FlavorAD {
				return c.disableAD(l, dn)
			}
			return c.lock(l, dn, a.Param(pAttribute), a.Param(pValue))
		case KindMoveDisabled:
			return c.move(l, dn, a.Param(pNewDN), a.Param(pDisabledOU))
		default:
			return connector.Permanent(fmt.Errorf("unknown action kind %q", a.Kind))
		}
	})
}

// removeGroup deletes the person's value from each listed member attribute, one modify per
// attribute so that one already gone does not stop the others.
func (c *Connector) removeGroup(l *goldap.Conn, a connector.Action) error {
	for _, attr := range strings.Split(a.Param(pAttributes), ",") {
		val := a.Param(pValuePre + attr)
		if attr == "" || val == "" {
			return connector.Permanent(fmt.Errorf("the action names no value for attribute %q", attr))
		}
		req := goldap.NewModifyRequest(a.Target, nil)
		req.Delete(attr, []string{val})
		err := l.Modify(req)
		switch {
		case err == nil, goldap.IsErrorAnyOf(err, goldap.LDAPResultNoSuchAttribute, goldap.LDAPResultNoSuchObject):
			// Removed now, removed before, or the group is gone: the person is not listed.
		case goldap.IsErrorWithCode(err, goldap.LDAPResultObjectClassViolation):
			return connector.Permanent(fmt.Errorf("the directory refused to remove %s from %s because it is now the group's last %s, which its object class requires; add another member or delete the group, then retry: %w", a.Param(pUserDN), a.Target, attr, err))
		default:
			return fmt.Errorf("remove %s from %s: %w", attr, a.Target, err)
		}
	}
	return nil
}

// lock replaces attr with value on the user's entry.
func (c *Connector) lock(l *goldap.Conn, dn, attr, value string) error {
	if attr == "" || value == "" {
		return connector.Permanent(errors.New("the action names no attribute or value to set"))
	}
	req := goldap.NewModifyRequest(dn, nil)
	req.Replace(attr, []string{value})
	err := l.Modify(req)
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return nil // the entry is gone: nobody can sign in with it
	}
	if goldap.IsErrorWithCode(err, goldap.LDAPResultUndefinedAttributeType) {
		return connector.Permanent(fmt.Errorf("the directory does not know the attribute %s (for pwdAccountLockedTime, load the ppolicy overlay, or configure another disable method): %w", attr, err))
	}
	return err
}

// disableAD reads userAccountControl afresh and sets ACCOUNTDISABLE, keeping every other bit.
// Reading at apply time (not the planned value) means a flag changed since planning is kept.
func (c *Connector) disableAD(l *goldap.Conn, dn string) error {
	e, err := readEntry(l, dn, uacAttr)
	if err != nil || e == nil {
		return err // nil when the entry is gone
	}
	uac, err := parseUAC(e.GetEqualFoldAttributeValues(uacAttr))
	if err != nil {
		return connector.Permanent(fmt.Errorf("read %s of %s: %w", uacAttr, dn, err))
	}
	if uacDisabled(uac) {
		return nil
	}
	return l.Modify(adDisableRequest(dn, uac))
}

// move moves the entry to newDN under ou, keeping its RDN. An entry already at newDN is
// success; one at both places is a conflict for a human.
func (c *Connector) move(l *goldap.Conn, dn, newDN, ou string) error {
	rdn, err := firstRDN(dn)
	if err != nil || newDN == "" || ou == "" {
		return connector.Permanent(fmt.Errorf("the action does not name a valid move (%v)", err))
	}
	err = l.ModifyDN(goldap.NewModifyDNRequest(dn, rdn, true, ou))
	switch {
	case err == nil:
		return nil
	case goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject):
		// Either moved already, or deleted: both leave nobody signing in as dn.
		return nil
	case goldap.IsErrorWithCode(err, goldap.LDAPResultEntryAlreadyExists):
		return connector.Permanent(fmt.Errorf("cannot move %s: %s already exists; decide which entry is the leaver's: %w", dn, newDN, err))
	default:
		return fmt.Errorf("move %s under %s: %w", dn, ou, err)
	}
}

// readEntry reads one entry's attributes, or nil when it does not exist.
func readEntry(l *goldap.Conn, dn string, attrs ...string) (*goldap.Entry, error) {
	req := goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 0, false, "(objectClass=*)", attrs, nil)
	res, err := l.Search(req)
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dn, err)
	}
	if len(res.Entries) == 0 {
		return nil, nil
	}
	return res.Entries[0], nil
}

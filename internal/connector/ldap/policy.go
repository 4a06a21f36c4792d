package ldap

import (
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// The ppolicy overlay stores pwdAccountLockedTime whatever policy applies, but refuses binds
// for it only when the password policy that applies to the account has pwdLockout: TRUE.
// Without one the "locked" account keeps signing in, so the attribute alone never proves the
// lock: these read which policy applies and whether it enforces the lock.
const (
	attrPolicySubentry = "pwdPolicySubentry" // operational: returned only when asked for
	attrLockout        = "pwdLockout"
	attrPolicyDefault  = "olcPPolicyDefault"
	configDN           = "cn=config"
)

// Where a policy that applies was found.
const (
	policyFromSubentry = "pwdPolicySubentry"
	policyFromDefault  = "olcPPolicyDefault"
)

// lockPolicy is what the bind DN could read of the password policy that applies to one account.
type lockPolicy struct {
	// DN is the policy entry that applies; "" when none does or it could not be read.
	DN string `json:"dn,omitempty"`
	// Source is how it applies: the account's pwdPolicySubentry or the overlay's default.
	Source string `json:"source,omitempty"`
	// Known is false when the bind DN could not read which policy applies, or the policy.
	Known bool `json:"known"`
	// Lockout is whether the policy has pwdLockout: TRUE; meaningful only when Known.
	Lockout bool `json:"lockout"`
	// Why says, for people, what was found.
	Why string `json:"why"`
}

// enforced reports whether the lock was proven to stop sign-in.
func (p lockPolicy) enforced() bool { return p.Known && p.Lockout }

// isPPolicyLock reports whether attr is the ppolicy lock, which needs a lockout policy.
func isPPolicyLock(flavor, attr string) bool {
	return flavor == FlavorOpenLDAP && strings.EqualFold(attr, DefaultLockAttr)
}

// policyFor finds the policy that applies to dn: the one its pwdPolicySubentry names (the
// values read from the entry, asked for explicitly), or else the ppolicy overlay's default
// policy in cn=config. It never guesses: what the bind DN cannot read is reported as unknown.
func policyFor(l *goldap.Conn, dn string, subentry []string) (lockPolicy, error) {
	if len(subentry) > 0 {
		return readPolicy(l, subentry[0], policyFromSubentry, fmt.Sprintf("named by %s's pwdPolicySubentry", dn))
	}
	def, found, err := defaultPolicy(l, dn)
	switch {
	case err != nil:
		return lockPolicy{}, err
	case !found:
		return lockPolicy{Why: fmt.Sprintf("%s has no pwdPolicySubentry, so the ppolicy overlay's default policy applies, but the bind DN cannot read it (%s in %s)",
			dn, attrPolicyDefault, configDN)}, nil
	case def == "":
		return lockPolicy{Known: true, Why: fmt.Sprintf("%s has no pwdPolicySubentry and the ppolicy overlay has no default policy (%s), so no policy applies and ppolicy ignores pwdAccountLockedTime: the account can still sign in",
			dn, attrPolicyDefault)}, nil
	}
	return readPolicy(l, def, policyFromDefault, "the ppolicy overlay's default, "+attrPolicyDefault)
}

// readPolicy reads pwdLockout from the policy entry dn.
func readPolicy(l *goldap.Conn, dn, source, how string) (lockPolicy, error) {
	p := lockPolicy{DN: dn, Source: source}
	e, err := readEntry(l, dn, attrLockout)
	if goldap.IsErrorWithCode(err, goldap.LDAPResultInsufficientAccessRights) {
		e, err = nil, nil
	}
	if err != nil {
		return p, fmt.Errorf("read password policy %s: %w", dn, err)
	}
	if e == nil {
		p.Why = fmt.Sprintf("the password policy %s (%s) does not exist or the bind DN cannot read it", dn, how)
		return p, nil
	}
	p.Known = true
	lockout := e.GetEqualFoldAttributeValue(attrLockout)
	p.Lockout = strings.EqualFold(lockout, "TRUE")
	if p.Lockout {
		p.Why = fmt.Sprintf("the password policy %s (%s) has pwdLockout: TRUE", dn, how)
	} else {
		if lockout == "" {
			lockout = "absent, or unreadable by the bind DN"
		}
		p.Why = fmt.Sprintf("the password policy %s (%s) has pwdLockout %s, not TRUE, so ppolicy ignores pwdAccountLockedTime: the account can still sign in", dn, how, lockout)
	}
	return p, nil
}

// defaultPolicy reads the olcPPolicyDefault of the ppolicy overlay on the database holding dn
// (one on the frontend database, olcDatabase={-1}frontend, applies to every database).
// found is false when the bind DN cannot read cn=config or sees no overlay there, which
// directories commonly forbid; policy is "" when the overlay has no default.
func defaultPolicy(l *goldap.Conn, dn string) (policy string, found bool, err error) {
	req := goldap.NewSearchRequest(configDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=olcPPolicyConfig)", []string{attrPolicyDefault}, nil)
	res, err := l.Search(req)
	if goldap.IsErrorAnyOf(err, goldap.LDAPResultNoSuchObject, goldap.LDAPResultInsufficientAccessRights) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("search %s for the ppolicy overlay: %w", configDN, err)
	}
	target, err := goldap.ParseDN(dn)
	if err != nil {
		return "", false, fmt.Errorf("%s is not a DN: %w", dn, err)
	}
	var frontend *goldap.Entry
	for _, ov := range res.Entries {
		_, db, err := splitRDN(ov.DN)
		if err != nil {
			return "", false, err
		}
		if rdn, _, _ := splitRDN(db); strings.HasSuffix(strings.ToLower(rdn), "}frontend") {
			frontend = ov
			continue
		}
		e, err := readEntry(l, db, "olcSuffix")
		if goldap.IsErrorWithCode(err, goldap.LDAPResultInsufficientAccessRights) {
			continue
		}
		if err != nil {
			return "", false, fmt.Errorf("read the database of %s: %w", ov.DN, err)
		}
		if e == nil {
			continue
		}
		for _, s := range e.GetEqualFoldAttributeValues("olcSuffix") {
			if sdn, err := goldap.ParseDN(s); err == nil && (sdn.EqualFold(target) || sdn.AncestorOfFold(target)) {
				return ov.GetEqualFoldAttributeValue(attrPolicyDefault), true, nil
			}
		}
	}
	if frontend != nil {
		return frontend.GetEqualFoldAttributeValue(attrPolicyDefault), true, nil
	}
	return "", false, nil
}

package ldap

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Param names. Every action carries the user's DN; the rest depend on the kind.
const (
	pUserDN     = "user_dn"
	pUID        = "uid"
	pAttributes = "attributes" // remove_group: comma-separated member attributes
	pValuePre   = "value."     // remove_group: value.<attribute> = stored value to delete
	pAttribute  = "attribute"  // disable_account
	pValue      = "value"      // disable_account (OpenLDAP): the value set
	pPrevious   = "previous"   // disable_account: JSON array of the values replaced
	pFlavor     = "flavor"
	pNewDN      = "new_dn" // move_to_disabled_ou
	pDisabledOU = "disabled_ou"
)

// Plan finds the person with the user filter, then plans one remove_group per group listing
// them and, after those are verified, the disabling step. Several matching entries are never
// guessed between: nothing is planned and a human is asked to decide. It never writes.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	plan := connector.Plan{System: c.cfg.Name, Actions: []connector.Action{}}
	err := c.with(ctx, "plan", func(l *goldap.Conn) error {
		accs, filter, why, err := c.lookup(l, p)
		if err != nil {
			return err
		}
		switch {
		case why != "":
			plan.NotFound = true
			plan.Notes = []string{fmt.Sprintf("not looked up in %s: %s", c.cfg.Name, why)}
			return nil
		case len(accs) == 0:
			plan.NotFound = true
			plan.Notes = []string{fmt.Sprintf("not found in %s: no entry under %s matches %s (set the person's %s handle to their uid if it differs from the email's local part)", c.cfg.Name, c.cfg.BaseDN, filter, c.cfg.Name)}
			return nil
		case len(accs) > 1:
			c.ambiguous(&plan, filter, accs)
			return nil
		}
		groups, err := c.findGroups(l, accs[0])
		if err != nil {
			return err
		}
		return c.build(l, &plan, accs[0], groups)
	})
	if err != nil {
		return plan, err
	}
	connector.SortActions(plan.Actions, kindOrder)
	return plan, nil
}

// ambiguous reports several matching entries as a finding and manual work, never a guess.
func (c *Connector) ambiguous(plan *connector.Plan, filter string, accs []account) {
	dns := make([]string, len(accs))
	for i, a := range accs {
		dns[i] = a.DN
	}
	more := ""
	if len(accs) >= maxMatches {
		more = fmt.Sprintf(" (the first %d; there may be more)", maxMatches)
	}
	plan.NotFound = true
	plan.Notes = []string{fmt.Sprintf("ambiguous in %s: %d entries match %s%s: %s. Nothing is planned, because acting on the wrong one would offboard someone else.",
		c.cfg.Name, len(accs), filter, more, strings.Join(dns, "; "))}
	plan.Manual = []connector.Manual{{System: c.cfg.Name, Detail: fmt.Sprintf(
		"Decide which %s entry belongs to the leaver (%s) and set their %s handle to its uid so the filter matches only it, or offboard it by hand.",
		c.cfg.Name, strings.Join(dns, "; "), c.cfg.Name)}}
}

// build adds the actions for one account and its groups.
func (c *Connector) build(l *goldap.Conn, plan *connector.Plan, acc account, groups []membership) error {
	plan.Account = acc.DN
	if acc.UID != "" {
		plan.Account += " (uid " + acc.UID + ")"
	}
	for _, g := range groups {
		c.planGroup(plan, acc, g)
	}
	switch {
	case c.cfg.Flavor == FlavorAD:
		c.planADDisable(plan, acc)
	case c.cfg.Disable.DisabledOU != "":
		c.planMove(plan, acc)
	default:
		return c.planLock(l, plan, acc)
	}
	return nil
}

func (c *Connector) action(acc account, kind, target, detail string, params map[string]string, after []string, before any) connector.Action {
	params[pUserDN] = acc.DN
	if acc.UID != "" {
		params[pUID] = acc.UID
	}
	b, _ := json.Marshal(before)
	return connector.Action{System: c.cfg.Name, Kind: kind, Target: target, Detail: detail, Params: params, After: after, Before: string(b)}
}

// planGroup plans removal of the person from one group. An attribute the schema requires
// (groupOfNames member, groupOfUniqueNames uniqueMember) that lists only the person cannot be
// emptied: that is manual work, never a deleted or corrupted group.
func (c *Connector) planGroup(plan *connector.Plan, acc account, g membership) {
	keep := g.mustKeep()
	var attrs []string
	for _, a := range memberAttrs {
		if _, ok := g.Values[a]; ok && !slices.Contains(keep, a) {
			attrs = append(attrs, a)
		}
	}
	for _, a := range keep {
		plan.Manual = append(plan.Manual, connector.Manual{System: c.cfg.Name, Detail: fmt.Sprintf(
			"%s is the only %s of %s, which the schema requires to have at least one: add another %s (or delete the group if it is no longer needed), then remove %s.",
			acc.DN, a, g.DN, a, acc.DN)})
		plan.Kept = append(plan.Kept, connector.Kept{System: c.cfg.Name, Target: g.DN, Detail: fmt.Sprintf("%s of %s", a, g.DN),
			Reason: "the leaver is the group's last " + a + ", which its object class requires; removing it would be refused (objectClassViolation), so a human must add a replacement or delete the group"})
	}
	if len(attrs) == 0 {
		return
	}
	params := map[string]string{pAttributes: strings.Join(attrs, ",")}
	before := map[string]any{"group_dn": g.DN, "object_classes": g.Classes}
	values := map[string]string{}
	for _, a := range attrs {
		params[pValuePre+a] = g.Values[a]
		values[a] = g.Values[a]
	}
	before["removed_values"] = values
	plan.Actions = append(plan.Actions, c.action(acc, KindRemoveGroup, g.DN,
		fmt.Sprintf("Remove %s from group %s (%s)", acc.DN, g.DN, strings.Join(attrs, ", ")), params, nil, before))
}

// planLock plans setting the lock attribute unless it already holds the value. For the
// ppolicy lock it also reads the password policy that applies, since ppolicy ignores the lock
// without pwdLockout: TRUE: a policy without it, or one the bind DN cannot read, is put to a
// human (a note and manual work) instead of planning a lock that may silently not work.
func (c *Connector) planLock(l *goldap.Conn, plan *connector.Plan, acc account) error {
	d := c.cfg.Disable
	prev := acc.attr(d.Attribute)
	enforced := true
	if isPPolicyLock(c.cfg.Flavor, d.Attribute) {
		pol, err := policyFor(l, acc.DN, acc.attr(attrPolicySubentry))
		if err != nil {
			return err
		}
		enforced = pol.enforced()
		c.planPolicy(plan, acc, pol)
	}
	if slices.Contains(prev, d.Value) {
		if enforced {
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s already has %s=%s: the account is disabled.", acc.DN, d.Attribute, d.Value))
		} else {
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s already has %s=%s, but that is not proven to stop sign-in (see the manual work).", acc.DN, d.Attribute, d.Value))
		}
		return nil
	}
	prevJSON, _ := json.Marshal(nonNil(prev))
	plan.Actions = append(plan.Actions, c.action(acc, KindDisable, acc.DN,
		fmt.Sprintf("Disable %s by setting %s=%s (the entry is kept, not deleted)", acc.DN, d.Attribute, d.Value),
		map[string]string{pFlavor: FlavorOpenLDAP, pAttribute: d.Attribute, pValue: d.Value, pPrevious: string(prevJSON)},
		[]string{KindRemoveGroup}, map[string]any{"dn": acc.DN, "attribute": d.Attribute, "previous": nonNil(prev)}))
	return nil
}

// planPolicy explains a ppolicy lock that is not proven to stop sign-in: a policy read
// without pwdLockout: TRUE (the disable step will not verify until it is fixed), or a policy
// the bind DN cannot read (the step verifies the attribute only, so a person confirms).
func (c *Connector) planPolicy(plan *connector.Plan, acc account, pol lockPolicy) {
	switch {
	case pol.enforced():
		return
	case pol.Known:
		plan.Notes = append(plan.Notes, fmt.Sprintf("The ppolicy lock on %s will not stop sign-in: %s.", acc.DN, pol.Why))
		fix := "set pwdLockout: TRUE on " + pol.DN + ", the policy that applies to it"
		if pol.DN == "" {
			fix = "give the ppolicy overlay a default policy (" + attrPolicyDefault + ") with pwdLockout: TRUE, or point its pwdPolicySubentry at one"
		}
		plan.Manual = append(plan.Manual, connector.Manual{System: c.cfg.Name, Detail: fmt.Sprintf(
			"Make a ppolicy with pwdLockout: TRUE apply to %s: %s; or configure another disable method. offboard sets %s=%s, which ppolicy ignores without pwdLockout: TRUE, so %s can still sign in and the disable step will not verify until then.",
			acc.DN, fix, DefaultLockAttr, c.cfg.Disable.Value, acc.DN)})
	default:
		what := "the default policy (" + attrPolicyDefault + " in " + configDN + ")"
		if pol.Source == policyFromSubentry {
			what = "the policy " + pol.DN + " named by its pwdPolicySubentry"
		}
		plan.Notes = append(plan.Notes, fmt.Sprintf("Cannot prove the ppolicy lock on %s stops sign-in: ppolicy enforces %s only under a policy with pwdLockout: TRUE, and %s.", acc.DN, DefaultLockAttr, pol.Why))
		plan.Manual = append(plan.Manual, connector.Manual{System: c.cfg.Name, Detail: fmt.Sprintf(
			"Confirm a ppolicy with pwdLockout: TRUE applies to %s; offboard set %s but cannot read %s. (Or let the bind DN read it; see docs/connectors/ldap.md.)",
			acc.DN, DefaultLockAttr, what)})
	}
}

// planMove plans moving the entry under the disabled OU unless it is there already.
func (c *Connector) planMove(plan *connector.Plan, acc account) {
	ou := c.cfg.Disable.DisabledOU
	if underOU(acc.DN, ou) {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s is already under %s: the account is disabled.", acc.DN, ou))
		return
	}
	newDN, err := movedDN(acc.DN, ou)
	if err != nil {
		plan.Manual = append(plan.Manual, connector.Manual{System: c.cfg.Name, Detail: fmt.Sprintf("Move %s under %s by hand: %v", acc.DN, ou, err)})
		return
	}
	plan.Actions = append(plan.Actions, c.action(acc, KindMoveDisabled, acc.DN,
		fmt.Sprintf("Disable %s by moving it to %s (the entry is kept, not deleted)", acc.DN, newDN),
		map[string]string{pNewDN: newDN, pDisabledOU: ou},
		[]string{KindRemoveGroup}, map[string]any{"previous_dn": acc.DN, "new_dn": newDN}))
}

// underOU reports whether dn is a descendant of ou.
func underOU(dn, ou string) bool {
	d, err1 := goldap.ParseDN(dn)
	o, err2 := goldap.ParseDN(ou)
	return err1 == nil && err2 == nil && o.AncestorOfFold(d)
}

// movedDN is dn's first RDN under ou.
func movedDN(dn, ou string) (string, error) {
	rdn, err := firstRDN(dn)
	if err != nil {
		return "", err
	}
	return rdn + "," + ou, nil
}

// firstRDN returns the leftmost RDN of dn as written, e.g. "uid=dana".
func firstRDN(dn string) (string, error) {
	rdn, _, err := splitRDN(dn)
	return rdn, err
}

// splitRDN splits dn as written into its leftmost RDN and its parent's DN ("" for a DN of one
// RDN), e.g. "uid=dana" and "ou=people,dc=example,dc=org".
func splitRDN(dn string) (rdn, parent string, err error) {
	if _, err := goldap.ParseDN(dn); err != nil {
		return "", "", fmt.Errorf("%s is not a DN: %w", dn, err)
	}
	// Find the first unescaped comma.
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return strings.TrimSpace(dn[:i]), strings.TrimSpace(dn[i+1:]), nil
		}
	}
	return strings.TrimSpace(dn), "", nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

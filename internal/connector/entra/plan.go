package entra

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Plan reads the person's Entra account and lists what to remove (apis.md §7): sign-in
// sessions, memberships of the groups Graph can change (security and Microsoft 365 groups,
// which carry Teams membership), authentication methods, directly assigned licences, and
// disabling the account last. What Graph cannot change (dynamic, synced and Exchange-managed
// groups, directory roles, the password, group-inherited licences) is listed as kept, with the
// reason, and as manual work where a person must act elsewhere. It never changes anything.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	plan := connector.Plan{System: c.name, Actions: []connector.Action{}}
	l, err := c.findUser(ctx, p)
	if err != nil {
		return plan, err
	}
	if len(l.matches) > 0 {
		return c.ambiguous(plan, p, l), nil
	}
	if l.user == nil {
		plan.NotFound = true
		plan.Notes = append(l.notes, fmt.Sprintf("not found in %s: no user with %s (set the person's %s handle to their object ID or userPrincipalName if their account uses another address)",
			c.name, strings.Join(l.tried, ", nor with "), c.name))
		return plan, nil
	}
	u := *l.user
	acc, err := c.readAccess(ctx, u.ID)
	if err != nil {
		return plan, err
	}
	b := planBuilder{c: c, plan: &plan, user: u}
	state := "enabled"
	if !u.enabled() {
		state = "disabled"
	}
	plan.Account = fmt.Sprintf("%s (%s, %s)", u.ID, u.UserPrincipalName, state)
	plan.Notes = append(plan.Notes, l.notes...)
	b.sessions()
	removable := b.memberships(acc.memberOf)
	b.methods(acc.methods, acc.preferred, acc.preferredErr)
	b.licenses(removable, acc.memberOf)
	b.disable()
	connector.SortActions(plan.Actions, kindOrder)
	slices.SortStableFunc(plan.Kept, func(a, b connector.Kept) int {
		return cmp.Or(strings.Compare(a.Target, b.Target), strings.Compare(a.Detail, b.Detail))
	})
	return plan, nil
}

// ambiguous reports several accounts matching the email as a finding for a human: nothing is
// planned, because offboarding the wrong account is worse than waiting.
func (c *Connector) ambiguous(plan connector.Plan, p connector.Person, l lookup) connector.Plan {
	var names []string
	for _, m := range l.matches {
		mail := ""
		if m.Mail != nil {
			mail = ", mail " + *m.Mail
		}
		names = append(names, fmt.Sprintf("%s (%s%s)", m.ID, m.UserPrincipalName, mail))
	}
	plan.NotFound = true
	plan.Notes = append(l.notes, fmt.Sprintf("%d %s accounts match %s: %s; none was chosen.", len(l.matches), c.name, p.Email, strings.Join(names, "; ")))
	plan.Manual = append(plan.Manual, connector.Manual{System: c.name, Detail: fmt.Sprintf(
		"Decide which %s account belongs to %s (candidates: %s), set the person's %s handle to its object ID, and plan again.",
		c.name, cmp.Or(p.Name, p.Email), strings.Join(names, "; "), c.name)})
	return plan
}

// planBuilder adds one user's actions, kept items and notes to a plan.
type planBuilder struct {
	c    *Connector
	plan *connector.Plan
	user graphUser
}

func (b *planBuilder) add(kind, target, detail string, params map[string]string, after []string, before any) {
	if params == nil {
		params = map[string]string{}
	}
	params["user_id"] = b.user.ID
	params["upn"] = b.user.UserPrincipalName
	b.plan.Actions = append(b.plan.Actions, connector.Action{
		System: b.c.name, Kind: kind, Target: target, Detail: detail,
		Params: params, After: after, Before: compact(before),
	})
}

func (b *planBuilder) keep(target, detail, reason string) {
	b.plan.Kept = append(b.plan.Kept, connector.Kept{System: b.c.name, Target: target, Detail: detail, Reason: reason})
}

func (b *planBuilder) manual(detail string) {
	b.plan.Manual = append(b.plan.Manual, connector.Manual{System: b.c.name, Detail: detail})
}

func compact(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(out)
}

// sessions plans revoking sign-in sessions while the account is enabled. A disabled account
// cannot refresh its tokens, so there is nothing a revocation would add, and planning it
// would leave a fresh plan after offboarding never empty.
func (b *planBuilder) sessions() {
	u := b.user
	if !u.enabled() {
		b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("%s is already disabled: Entra refuses new sign-ins and token refreshes, so sessions are not revoked again.", u.UserPrincipalName))
		return
	}
	b.add(KindRevokeSessions, u.ID,
		fmt.Sprintf("Revoke every sign-in session and refresh token of %s (Teams, Outlook and every app signed in with Entra)", u.UserPrincipalName),
		map[string]string{"valid_from": u.validFrom()}, nil,
		map[string]string{"signInSessionsValidFromDateTime": u.validFrom()})
}

// memberships plans removal from every group Graph lets it change and records the rest. It
// returns the IDs of the groups planned for removal.
func (b *planBuilder) memberships(objs []directoryObject) map[string]bool {
	removable := map[string]bool{}
	objs = slices.Clone(objs)
	slices.SortFunc(objs, func(a, b directoryObject) int { return strings.Compare(a.ID, b.ID) })
	for _, o := range objs {
		switch o.ODataType {
		case odataGroup:
			if b.group(o) {
				removable[o.ID] = true
			}
		case odataRole:
			b.keep(o.ID, "Directory role "+o.DisplayName, "directory role assignments are not changed by this connector (that needs RoleManagement.ReadWrite.Directory, more privilege than offboarding should hold); the role cannot be used once the account is disabled")
			b.manual(fmt.Sprintf("Remove %s's directory role %q in the Entra admin center (Roles and administrators), so the role is not restored with the account.", b.user.UserPrincipalName, o.DisplayName))
		default:
			b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("%s is a member of %s %s (%s), which this connector does not manage.", b.user.UserPrincipalName, strings.TrimPrefix(o.ODataType, "#microsoft.graph."), o.DisplayName, o.ID))
		}
	}
	return removable
}

// group plans or keeps one group membership and reports whether removal was planned.
func (b *planBuilder) group(g directoryObject) bool {
	unified := slices.Contains(g.GroupTypes, "Unified")
	team := slices.Contains(g.ResourceProvisioningOptions, "Team")
	kind := "security group"
	switch {
	case team:
		kind = "Microsoft 365 group (Team)"
	case unified:
		kind = "Microsoft 365 group"
	case isTrue(g.MailEnabled) && isTrue(g.SecurityEnabled):
		kind = "mail-enabled security group"
	case isTrue(g.MailEnabled):
		kind = "distribution list"
	}
	desc := fmt.Sprintf("%s %s (%s)", kind, g.DisplayName, g.ID)
	switch {
	case slices.Contains(g.GroupTypes, "DynamicMembership"):
		b.keep(g.ID, "Member of dynamic "+desc, "dynamic membership: Entra computes the members from the group's rule and refuses manual removal; the membership ends when the rule stops matching the person, and cannot be used once the account is disabled")
		return false
	case isTrue(g.OnPremisesSyncEnabled):
		b.keep(g.ID, "Member of "+desc, "synced from on-premises Active Directory: Graph cannot change it; remove the membership in AD (it then syncs to Entra); it cannot be used once the account is disabled")
		return false
	case !unified && isTrue(g.MailEnabled):
		b.keep(g.ID, "Member of "+desc, "mail-enabled security groups and distribution lists are managed in Exchange Online, not through Graph")
		b.manual(fmt.Sprintf("Remove %s from the %s in the Exchange admin center or with Remove-DistributionGroupMember.", b.user.UserPrincipalName, desc))
		return false
	}
	detail := fmt.Sprintf("Remove %s from %s", b.user.UserPrincipalName, desc)
	if team {
		detail += "; this also removes them from the team in Microsoft Teams"
	}
	params := map[string]string{"group_name": g.DisplayName}
	if isTrue(g.IsAssignableToRole) {
		params["role_assignable"] = "true"
		detail += "; the group can hold directory roles, so removal needs RoleManagement.ReadWrite.Directory"
	}
	b.add(KindRemoveGroup, g.ID, detail, params, nil, g)
	return true
}

// methods plans deleting every authentication method Graph allows: the password cannot be
// deleted, and the default method goes last because Graph refuses to delete it while others
// remain.
func (b *planBuilder) methods(methods []authMethod, preferred string, preferredErr error) {
	methods = slices.Clone(methods)
	slices.SortFunc(methods, func(a, b authMethod) int { return strings.Compare(a.ID, b.ID) })
	for _, m := range methods {
		t := m.methodType()
		desc := fmt.Sprintf("authentication method %s (%s)", m.describe(), m.ID)
		if t == "password" {
			b.keep(m.ID, "Password of "+b.user.UserPrincipalName, "Graph cannot delete the password method; the password cannot be used to sign in once the account is disabled")
			continue
		}
		coll, ok := collections[t]
		if !ok {
			b.keep(m.ID, desc, fmt.Sprintf("method type %q is unknown to this connector, so it is not deleted automatically", m.ODataType))
			b.manual(fmt.Sprintf("Delete %s of %s in the Entra admin center (Users > Authentication methods).", desc, b.user.UserPrincipalName))
			continue
		}
		params := map[string]string{"collection": coll, "method_type": t, "method": m.describe()}
		if m.PhoneType != "" {
			params["phone_type"] = m.PhoneType
		}
		if m.isDefault(preferred) {
			b.add(KindRemoveDefaultMethod, m.ID,
				fmt.Sprintf("Delete %s's default sign-in %s, after every other method", b.user.UserPrincipalName, desc),
				params, []string{KindRemoveMethod}, m)
			continue
		}
		b.add(KindRemoveMethod, m.ID, fmt.Sprintf("Delete %s's %s", b.user.UserPrincipalName, desc), params, nil, m)
	}
	if preferredErr != nil && len(methods) > 1 {
		b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("The default sign-in method of %s could not be read (%v); if Graph refuses to delete one method as the default, that step is retried once the other methods are gone.", b.user.UserPrincipalName, preferredErr))
	}
}

// licenses plans removing each directly assigned licence. A licence inherited from a group
// cannot be removed from the user; it goes when they leave the group.
func (b *planBuilder) licenses(removable map[string]bool, memberOf []directoryObject) {
	names := map[string]string{}
	for _, o := range memberOf {
		names[o.ID] = o.DisplayName
	}
	done := map[string]bool{}
	states := slices.Clone(b.user.LicenseAssignmentStates)
	slices.SortStableFunc(states, func(a, b licenseState) int { return strings.Compare(a.SkuID, b.SkuID) })
	for _, l := range states {
		if l.direct() {
			if !done[l.SkuID] {
				done[l.SkuID] = true
				b.add(KindRemoveLicense, l.SkuID, fmt.Sprintf("Remove the directly assigned licence %s from %s", l.SkuID, b.user.UserPrincipalName), nil, nil, l)
			}
			continue
		}
		gid := *l.AssignedByGroup
		group := gid
		if n := names[gid]; n != "" {
			group = fmt.Sprintf("%s (%s)", n, gid)
		}
		reason := fmt.Sprintf("inherited from group %s by group-based licensing: Graph refuses to remove it from the user directly", group)
		if removable[gid] {
			reason += "; it is released when the planned removal from that group is applied"
		} else {
			reason += "; it stays while the person is a member of that group"
		}
		b.keep(l.SkuID+"@"+gid, fmt.Sprintf("Licence %s via group %s", l.SkuID, group), reason)
	}
}

// disable plans disabling sign-in, unless it is done. It waits for nothing: every other
// removal works on a disabled account, and until sign-in is blocked a leaver who knows the
// password could sign in again and register a new method; a removal that fails must not keep
// the account open. The account is kept, not deleted. An account synced from on-premises AD
// cannot be disabled through Graph and is left to the directory it comes from.
func (b *planBuilder) disable() {
	u := b.user
	if !u.enabled() {
		return
	}
	if u.synced() {
		b.keep(u.ID, "Sign-in of "+u.UserPrincipalName,
			"the account is synced from on-premises Active Directory: Graph refuses to change its accountEnabled, and directory sync would set it back")
		b.manual(fmt.Sprintf("Disable %s in on-premises Active Directory (offboard's ldap connector does so when it is configured for the domain); the change reaches Entra with the next sync.", u.UserPrincipalName))
		return
	}
	b.add(KindDisable, u.ID,
		fmt.Sprintf("Disable sign-in for %s (accountEnabled false); the account is kept, not deleted", u.UserPrincipalName),
		nil, nil, map[string]any{"accountEnabled": true})
}

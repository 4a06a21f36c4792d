package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Group types (GroupType enum, apis.md §1.2).
const (
	typeOktaGroup = "OKTA_GROUP"
	typeAppGroup  = "APP_GROUP"
	typeBuiltIn   = "BUILT_IN"
)

// Plan reads the person's Okta account and lists what to remove (apis.md §1.6): sessions and
// tokens, grants, factors, admin roles and group memberships, and deactivation last. The one
// ordering that matters is declared as a dependency: deactivation waits until everything else
// is verified, because Okta refuses factor removal afterwards and because it is the step that
// makes the rest irreversible for the person. Everything else depends on nothing and is
// removed at the same moment as the sessions, so access goes as soon as possible; a factor a
// live session might enrol in that instant cannot be used once the account is deactivated,
// and deactivation is only verified after it. It never changes anything.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	plan := connector.Plan{System: System, Actions: []connector.Action{}}
	u, tried, err := c.findUser(ctx, p)
	if err != nil {
		return plan, err
	}
	if u == nil {
		plan.NotFound = true
		plan.Notes = []string{fmt.Sprintf("not found in okta: no user with login %s (Okta finds users by login; if this person's login differs, set their okta handle to the login or user ID)", strings.Join(tried, " or "))}
		return plan, nil
	}
	acc, err := c.readAccess(ctx, u.ID)
	if err != nil {
		return plan, err
	}
	b := planBuilder{plan: &plan, user: *u, name: u.Profile.Login}
	if b.name == "" {
		b.name = u.ID
	}
	plan.Account = fmt.Sprintf("%s (%s, %s)", u.ID, b.name, statusText(*u))
	if u.deactivated() {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s is already %s: Okta ended their sessions and will not unenroll their factors any more; remaining group memberships, admin roles and grants are still removed.", b.name, statusText(*u)))
	}
	b.sessions(acc.clients)
	b.grants(acc.grants)
	b.factors(acc.factors)
	b.roles(acc.roles)
	b.groups(acc.groups, acc.rules, acc.rulesErr)
	b.deactivate()
	connector.SortActions(plan.Actions, kindOrder)
	return plan, nil
}

func statusText(u oktaUser) string {
	if u.TransitioningToStatus != "" && u.TransitioningToStatus != u.Status {
		return u.Status + ", transitioning to " + u.TransitioningToStatus
	}
	return u.Status
}

// planBuilder adds one user's actions, kept items and notes to a plan.
type planBuilder struct {
	plan *connector.Plan
	user oktaUser
	name string // the login, for sentences
}

func (b *planBuilder) add(kind, target, detail string, params map[string]string, after []string, before any) {
	if params == nil {
		params = map[string]string{}
	}
	params["user_id"] = b.user.ID
	params["login"] = b.user.Profile.Login
	b.plan.Actions = append(b.plan.Actions, connector.Action{
		System: System, Kind: kind, Target: target, Detail: detail,
		Params: params, After: after, Before: compact(before),
	})
}

func (b *planBuilder) keep(target, detail, reason string) {
	b.plan.Kept = append(b.plan.Kept, connector.Kept{System: System, Target: target, Detail: detail, Reason: reason})
}

// compact renders what the plan's read showed as JSON for Action.Before.
func compact(v any) string {
	if v == nil {
		return ""
	}
	out, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(out)
}

// sessions plans revoke_sessions for any account that is not deactivated. Okta cannot list a
// user's browser sessions, so there is no way to know none exist: the action is always
// planned, and it also revokes OAuth/OIDC tokens (oauthTokens=true).
func (b *planBuilder) sessions(clients []oktaClient) {
	if b.user.deactivated() {
		return
	}
	ids := make([]string, len(clients))
	for i, cl := range clients {
		ids[i] = cl.ClientID
	}
	// The client IDs let verification read their tokens in the same round as the client list.
	b.add(KindRevokeSessions, b.user.ID,
		fmt.Sprintf("Revoke every Okta session and OAuth/OIDC token of %s", b.name),
		map[string]string{"clients": strings.Join(ids, ",")}, nil, map[string]any{"oauth_clients": clients, "browser_sessions": "not listable through the Okta API"})
	b.plan.Notes = append(b.plan.Notes, "Okta has no API that lists a user's browser sessions: revoke_sessions ends them and deactivation blocks new ones, but their absence cannot be read back; verification reads the OAuth refresh tokens instead.")
}

// grants plans revoke_grants only when the user has consent grants. Revoking them is
// idempotent, but an action planned with nothing to revoke would be "verified" before it
// ran, which misleads the reader of the plan; the refresh tokens of clients without grants
// are revoked with the sessions (oauthTokens=true) and read back there.
func (b *planBuilder) grants(grants []oktaGrant) {
	if len(grants) == 0 {
		return
	}
	var scopes []string
	for _, g := range grants {
		scopes = append(scopes, g.ScopeID)
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	b.add(KindRevokeGrants, b.user.ID,
		fmt.Sprintf("Revoke %d OAuth consent grant(s) of %s (scopes %s)", len(grants), b.name, strings.Join(scopes, ", ")),
		map[string]string{"grants": fmt.Sprint(len(grants))}, nil, grants)
}

func (b *planBuilder) factors(factors []oktaFactor) {
	for _, f := range factors {
		desc := fmt.Sprintf("MFA factor %s (%s, %s)", f.FactorType, f.Provider, f.ID)
		if b.user.deactivated() {
			b.keep(f.ID, desc, "Okta refuses to unenroll factors of a deactivated user; the factor cannot be used while the account stays deactivated.")
			continue
		}
		b.add(KindRemoveFactor, f.ID, fmt.Sprintf("Unenroll %s of %s", desc, b.name),
			map[string]string{"factor_type": f.FactorType, "provider": f.Provider}, nil, f)
	}
}

func (b *planBuilder) roles(roles []oktaRole) {
	for _, r := range roles {
		label := r.Label
		if label == "" {
			label = r.Type
		}
		desc := fmt.Sprintf("admin role %s (%s, assignment %s)", label, r.Type, r.ID)
		if r.AssignmentType == "GROUP" {
			b.keep(r.ID, desc, "held through an admin group's role assignment, not assigned to the user: it ends when they leave that group (or, for an imported group, with deactivation).")
			continue
		}
		b.add(KindRemoveRole, r.ID, fmt.Sprintf("Remove %s from %s", desc, b.name),
			map[string]string{"role_type": r.Type, "role_label": label}, nil, r)
	}
}

func (b *planBuilder) groups(groups []oktaGroup, rules []oktaRule, rulesErr error) {
	bySource := map[string][]string{}
	for _, g := range groups {
		desc := fmt.Sprintf("group %s (%s)", g.Profile.Name, g.ID)
		switch g.Type {
		case typeOktaGroup:
			b.oktaGroup(g, desc, rules)
		case typeBuiltIn:
			b.keep(g.ID, "Member of "+desc, g.Profile.Name+": built-in group, removed only by deactivation.")
		case typeAppGroup:
			src := g.source()
			b.keep(g.ID, "Member of "+desc, fmt.Sprintf("imported from %s, managed in the source directory; Okta refuses removal (E0000006); access ends with deactivation.", src))
			bySource[src] = append(bySource[src], g.Profile.Name)
		default:
			b.keep(g.ID, "Member of "+desc, fmt.Sprintf("group type %q is unknown to this connector, so it is not removed automatically; access ends with deactivation.", g.Type))
		}
	}
	// Imported memberships are a note, not manual work for this case: Okta access through
	// them ends with deactivation, which this plan verifies. The membership itself lives in
	// the source directory and is that directory's to remove (its own connector, when
	// configured, plans it there).
	for _, src := range slices.Sorted(maps.Keys(bySource)) {
		b.plan.Notes = append(b.plan.Notes, fmt.Sprintf(
			"%s is still a member of %s in %s. Okta cannot change imported memberships; Okta access through them ends with deactivation, but the memberships remain in the source directory until removed there.",
			b.name, strings.Join(bySource[src], ", "), src))
	}
	if rulesErr != nil {
		b.plan.Notes = append(b.plan.Notes, "Group rules could not be read (the API token lacks okta.groups.read), so rule-managed memberships are not identified: removing one adds the user to that rule's exclusions, which must be cleared on rehire.")
	}
}

// oktaGroup plans removal from an OKTA_GROUP, noting the rules that assign the group: when a
// rule put the user there, Okta records the manual removal as an exclusion on the rule
// ("Except the following users"), residue that keeps a rehired person out of the group.
func (b *planBuilder) oktaGroup(g oktaGroup, desc string, rules []oktaRule) {
	var ids, names []string
	for _, r := range rules {
		if r.Status == "ACTIVE" && slices.Contains(r.Actions.AssignUserToGroups.GroupIDs, g.ID) && !r.excludes(b.user.ID) {
			ids = append(ids, r.ID)
			names = append(names, r.Name)
		}
	}
	params := map[string]string{"group_name": g.Profile.Name}
	detail := fmt.Sprintf("Remove %s from %s", b.name, desc)
	if len(ids) > 0 {
		params["rule_id"] = strings.Join(ids, ",")
		params["rule_name"] = strings.Join(names, ", ")
		detail += fmt.Sprintf("; group rule %q (%s) assigns this group, so removal leaves %s on the rule's exclusion list (clear it on rehire)",
			params["rule_name"], params["rule_id"], b.name)
		b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("Group %s is assigned by group rule %q (%s): removing %s adds them to the rule's exclusions, which stay after offboarding; clear the exclusion if they are rehired.",
			g.Profile.Name, params["rule_name"], params["rule_id"], b.name))
	}
	b.add(KindRemoveGroup, g.ID, detail, params, nil, map[string]any{"id": g.ID, "name": g.Profile.Name, "type": g.Type, "rules": nonNil(ids)})
}

// deactivate plans deactivation (never deletion) unless it is done. A deactivation in progress
// is still planned, so the case waits until Okta shows it complete.
func (b *planBuilder) deactivate() {
	if b.user.Status == deprovisioned && b.user.TransitioningToStatus == "" {
		return
	}
	b.add(KindDeactivate, b.user.ID,
		fmt.Sprintf("Deactivate Okta user %s (%s); the account is kept, not deleted, and no email is sent", b.name, b.user.ID),
		nil, []string{KindRevokeSessions, KindRevokeGrants, KindRemoveFactor, KindRemoveRole, KindRemoveGroup},
		map[string]string{"status": b.user.Status, "transitioningToStatus": b.user.TransitioningToStatus})
}

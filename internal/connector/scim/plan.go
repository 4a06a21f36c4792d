package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Plan finds the person with the configured filter and plans one action: deactivation, or
// deletion when so configured. Group memberships are recorded (Before and a note) but not
// removed one by one: in SCIM they belong to the groups, which the IdP usually owns, and
// deactivation or deletion ends the access they gave. Several matching accounts are never
// guessed between: the plan holds a manual entry instead. It never changes anything.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	plan := connector.Plan{System: c.name, Actions: []connector.Action{}}
	filter, err := ExpandFilter(c.filter, map[string]string{
		"{email}": p.Email, "{worker_id}": p.WorkerID, "{handle}": p.Handle(c.name),
	})
	if errors.Is(err, ErrMissingValue) {
		return plan, connector.Permanent(fmt.Errorf("scim %s: cannot look the person up with filter %s: %w", c.name, c.filter, err))
	}
	if err != nil {
		return plan, err
	}
	users, err := c.api.Find(ctx, filter)
	if err != nil {
		return plan, fmt.Errorf("scim %s: find user (filter %s): %w", c.name, filter, err)
	}
	switch len(users) {
	case 0:
		plan.NotFound = true
		plan.Notes = []string{fmt.Sprintf("not found in %s: no SCIM user matches the filter %s (change connectors.%s.user_filter, or set the person's %s handle, if they are known by another identifier)", c.name, filter, c.name, c.name)}
		return plan, nil
	case 1:
	default:
		return c.ambiguous(plan, filter, users), nil
	}
	u := users[0]
	plan.Account = fmt.Sprintf("%s (%s, %s)", u.ID, u.Name(), u.ActiveText())
	c.noteGroups(&plan, u)
	switch c.mode {
	case ModeDelete:
		plan.Actions = append(plan.Actions, c.action(KindDelete, u,
			fmt.Sprintf("Delete %s user %s (%s); this cannot be undone", c.name, u.Name(), u.ID)))
	default:
		if !u.IsActive() {
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s user %s (%s) is already inactive; nothing to deactivate.", c.name, u.Name(), u.ID))
			break
		}
		plan.Actions = append(plan.Actions, c.action(KindDeactivate, u,
			fmt.Sprintf("Deactivate %s user %s (%s): set active to false; the account is kept, not deleted", c.name, u.Name(), u.ID)))
		if u.Active == nil {
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s does not report the active attribute for %s, so deactivation can only be verified if it starts reporting it; if it never does, consider deprovision: delete.", c.name, u.Name()))
		}
	}
	return plan, nil
}

func (c *Connector) action(kind string, u User, detail string) connector.Action {
	return connector.Action{
		System: c.name,
		Kind:   kind,
		Target: u.ID,
		Detail: detail,
		Params: map[string]string{"user_name": u.UserName},
		Before: beforeOf(u),
	}
}

// beforeOf records what the plan read about the user: identity, active state and groups.
func beforeOf(u User) string {
	groups := u.Groups
	if groups == nil {
		groups = []Group{}
	}
	b, err := json.Marshal(map[string]any{
		"id": u.ID, "userName": u.UserName, "externalId": u.ExternalID,
		"active": u.Active, "groups": groups,
	})
	if err != nil {
		return ""
	}
	return string(b)
}

// noteGroups records the user's group memberships, so the plan shows every access considered.
func (c *Connector) noteGroups(plan *connector.Plan, u User) {
	if len(u.Groups) == 0 {
		return
	}
	names := make([]string, 0, len(u.Groups))
	for _, g := range u.Groups {
		name := g.Display
		if name == "" {
			name = g.Value
		}
		names = append(names, fmt.Sprintf("%s (%s)", name, g.Value))
	}
	sort.Strings(names)
	effect := "deactivation ends the access they give while the memberships stay recorded in the app (and come back with a rehire)"
	if c.mode == ModeDelete {
		effect = "deletion removes them with the account"
	}
	plan.Notes = append(plan.Notes, fmt.Sprintf("%s is a member of %d group(s) in %s: %s; %s. Groups pushed by an IdP are managed there.",
		u.Name(), len(u.Groups), c.name, strings.Join(names, ", "), effect))
}

// ambiguous reports several matching accounts as a finding and manual work, never a guess.
func (c *Connector) ambiguous(plan connector.Plan, filter string, users []User) connector.Plan {
	sort.Slice(users, func(i, j int) bool { return users[i].ID < users[j].ID })
	list := make([]string, len(users))
	for i, u := range users {
		list[i] = fmt.Sprintf("%s (%s, %s)", u.ID, u.Name(), u.ActiveText())
	}
	plan.NotFound = true
	plan.Notes = []string{fmt.Sprintf("ambiguous in %s: %d SCIM users match the filter %s: %s. Nothing is planned, because acting on the wrong one would offboard someone else.",
		c.name, len(users), filter, strings.Join(list, "; "))}
	plan.Manual = []connector.Manual{{System: c.name, Detail: fmt.Sprintf(
		"Decide which %s account belongs to the leaver (%s) and set their %s handle so the filter matches only it, or deprovision it in %s by hand.",
		c.name, strings.Join(list, "; "), c.name, c.name)}}
	return plan
}

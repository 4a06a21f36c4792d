package dockerhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/offboard-dev/offboard/internal/connector"
)

// lookup is what the plan's reads found for one person.
type lookup struct {
	handle, email string
	byHandle      []member
	byEmail       []member
	invites       []invite
	// invitesErr is set when the token may not list invitations (403): the plan goes on
	// without them and asks a person to look.
	invitesErr error
}

// read runs the member searches and the invite listing concurrently.
func (c *Connector) read(ctx context.Context, p connector.Person) (lookup, error) {
	l := lookup{handle: strings.TrimSpace(p.Handle(System)), email: strings.TrimSpace(p.Email)}
	if l.handle == "" && l.email == "" {
		return l, connector.Permanent(errors.New("dockerhub: the person has no dockerhub handle and no email to look their membership up by"))
	}
	g, gctx := errgroup.WithContext(ctx)
	if l.handle != "" {
		g.Go(func() (err error) { l.byHandle, err = c.findMembers(gctx, l.handle, "handle"); return })
	}
	if l.email != "" {
		g.Go(func() (err error) { l.byEmail, err = c.findMembers(gctx, l.email, "email"); return })
	}
	g.Go(func() error {
		invites, err := c.listInvites(gctx)
		if connector.StatusOf(err) == http.StatusForbidden {
			l.invitesErr = err
			return nil
		}
		l.invites = invites
		return err
	})
	return l, g.Wait()
}

// Plan finds the person's membership of the organization (by their dockerhub handle, their
// Docker ID, else by email) and their pending invitations, and plans to cancel the invitations
// and then remove the membership. Removal from the organization removes every team membership
// with it. It never changes anything.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	plan := connector.Plan{System: System, Actions: []connector.Action{}}
	l, err := c.read(ctx, p)
	if err != nil {
		return plan, err
	}
	matched, how := l.byHandle, "Docker ID "+l.handle
	if len(matched) == 0 {
		matched, how = l.byEmail, "email "+l.email
	}
	if len(matched) > 1 {
		names := make([]string, len(matched))
		for i, m := range matched {
			names[i] = m.Username
		}
		plan.NotFound = true
		plan.Notes = append(plan.Notes, fmt.Sprintf("ambiguous in dockerhub: %s matches %d members of %s (%s); nothing is planned until a person decides which account is theirs", how, len(matched), c.org, strings.Join(names, ", ")))
		plan.Manual = append(plan.Manual, connector.Manual{System: System, Detail: fmt.Sprintf("Decide which of the Docker Hub members %s belongs to the leaver, set their dockerhub handle to it, and plan again.", strings.Join(names, ", "))})
		return plan, nil
	}
	var m *member
	if len(matched) == 1 {
		m = &matched[0]
	}
	names := []string{l.handle, l.email}
	if m != nil {
		names = append(names, m.Username, m.Email)
	}
	pending := invitesFor(l.invites, names...)
	if l.invitesErr != nil {
		plan.Notes = append(plan.Notes, fmt.Sprintf("Pending invitations of %s could not be read: the token may not list them (only owners may). An invitation accepted later would bring the person back.", c.org))
		plan.Manual = append(plan.Manual, connector.Manual{System: System, Detail: fmt.Sprintf("In Docker Hub, open %s → Members → Invitees and cancel any invitation for %s.", c.org, strings.Join(nonEmpty(names...), " / "))})
	}
	if m == nil && len(pending) == 0 {
		plan.NotFound = true
		plan.Notes = append(plan.Notes, fmt.Sprintf("not found in dockerhub: no member of organization %s has %s, and no pending invite is addressed to %s", c.org, lookedUp(l), strings.Join(nonEmpty(l.handle, l.email), " or ")))
		if l.email != "" && l.handle == "" {
			plan.Notes = append(plan.Notes, "Docker Hub shows member email addresses only to owners' tokens; if this person's Docker ID is known, set their dockerhub handle to it.")
		}
		return plan, nil
	}
	b := builder{plan: &plan, org: c.org}
	for _, inv := range pending {
		b.cancelInvite(inv, m != nil)
	}
	if m != nil {
		b.removeMember(*m, how)
		c.noteConflicts(&plan, l, *m)
	} else {
		plan.Account = fmt.Sprintf("no membership of %s; %d pending invite(s)", c.org, len(pending))
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s is not a member of %s; only pending invitations were found.", strings.Join(nonEmpty(l.handle, l.email), " / "), c.org))
	}
	connector.SortActions(plan.Actions, kindOrder)
	return plan, nil
}

func lookedUp(l lookup) string {
	var parts []string
	if l.handle != "" {
		parts = append(parts, "Docker ID "+l.handle)
	}
	if l.email != "" {
		parts = append(parts, "email "+l.email)
	}
	return strings.Join(parts, " or ")
}

// nonEmpty returns the distinct (ignoring case) non-empty values of s, in order.
func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" && !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, v) }) {
			out = append(out, v)
		}
	}
	return out
}

// noteConflicts records when the handle and the email point at different members: the handle
// wins, and the other account is left for a person to look at.
func (c *Connector) noteConflicts(plan *connector.Plan, l lookup, m member) {
	for _, other := range l.byEmail {
		if !strings.EqualFold(other.Username, m.Username) {
			plan.Notes = append(plan.Notes, fmt.Sprintf("The email %s belongs to another member of %s, %s; only %s (the dockerhub handle) is removed.", l.email, c.org, other.Username, m.Username))
			plan.Manual = append(plan.Manual, connector.Manual{System: System, Detail: fmt.Sprintf("Check whether Docker Hub member %s (email %s) also belongs to the leaver; remove them from %s if so.", other.Username, l.email, c.org)})
		}
	}
}

// builder adds one person's actions, kept items and notes to a plan.
type builder struct {
	plan *connector.Plan
	org  string
}

// cancelInvite plans cancelling one invite. member says whether the person is a member
// already (invited to another team), so that verification can tell an invite accepted in the
// meantime from one that never could make them a member.
func (b *builder) cancelInvite(inv invite, member bool) {
	team := inv.Team
	if team == "" {
		team = "no team"
	}
	b.plan.Actions = append(b.plan.Actions, connector.Action{
		System: System, Kind: KindCancelInvite, Target: inv.ID,
		Detail: fmt.Sprintf("Cancel the pending invite %s for %s to join %s (team %s)", inv.ID, inv.Invitee, b.org, team),
		Params: map[string]string{"org": b.org, "invitee": inv.Invitee, "team": inv.Team, "member_when_planned": strconv.FormatBool(member)},
		Before: compact(inv),
	})
}

func (b *builder) removeMember(m member, how string) {
	teams := slices.Clone(m.Groups)
	slices.Sort(teams)
	teamText := "no teams"
	if len(teams) > 0 {
		teamText = "teams " + strings.Join(teams, ", ")
	}
	b.plan.Account = fmt.Sprintf("%s (%s, role %s) matched by %s", m.Username, describeMember(m), m.Role, how)
	b.plan.Actions = append(b.plan.Actions, connector.Action{
		System: System, Kind: KindRemoveMember, Target: m.Username,
		Detail: fmt.Sprintf("Remove %s from the Docker Hub organization %s (role %s, %s); this ends every team membership in it", m.Username, b.org, m.Role, teamText),
		Params: map[string]string{"org": b.org, "username": m.Username, "role": m.Role, "teams": strings.Join(teams, ",")},
		// Cancelling invitations first means an invitation cannot bring the person back
		// after the removal is verified.
		After:  []string{KindCancelInvite},
		Before: compact(m),
	})
	b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("Team memberships go with the organization membership: removing %s from %s also removes them from %s; they are not removed one by one.", m.Username, b.org, teamText))
	if strings.EqualFold(m.Role, "Owner") {
		b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("%s is an owner of %s. Docker Hub refuses to remove the last owner; if they are the only one, make another member an owner first.", m.Username, b.org))
	}
	b.plan.Kept = append(b.plan.Kept, connector.Kept{
		System: System, Target: m.Username,
		Detail: fmt.Sprintf("Docker ID %s (the person's own Docker account and its personal access tokens)", m.Username),
		Reason: "a Docker ID belongs to the person, not to the organization; once removed from the organization it, and any personal access token of it, reaches none of the organization's private repositories.",
	})
}

func describeMember(m member) string {
	var parts []string
	if m.FullName != "" {
		parts = append(parts, m.FullName)
	}
	if m.Email != "" {
		parts = append(parts, m.Email)
	}
	if len(parts) == 0 {
		return "no name or email visible"
	}
	return strings.Join(parts, ", ")
}

// compact renders what the plan's read showed as JSON for Action.Before.
func compact(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(out)
}

package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/scim"
)

// Plan finds the person and plans, in order: resetting their sessions (Enterprise Grid, when
// any are listed) and deactivating the account through SCIM once the reset is verified.
//
// Sessions go first although deactivation also signs the user out: the reset takes effect at
// once and does not depend on SCIM, whose budget is shared with the IdP's provisioning and
// which can be throttled or unavailable, so the person is out of Slack even while deactivation
// waits; and a reset planned after deactivation would have nothing left to end or to verify.
// It never changes anything.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	plan := connector.Plan{System: System, Actions: []connector.Action{}}
	u, tried, err := c.findUser(ctx, p)
	if err != nil {
		return plan, err
	}
	if u == nil {
		plan.NotFound = true
		plan.Notes = []string{fmt.Sprintf("not found in slack: no user with %s (set the person's slack handle to their Slack user ID if their Slack email differs)", tried)}
		return plan, nil
	}
	teams := u.teams()
	if p.Handle(System) != "" && p.Email != "" && u.Profile.Email != "" && !strings.EqualFold(p.Email, u.Profile.Email) {
		plan.Notes = append(plan.Notes, fmt.Sprintf("The slack handle %s belongs to %s, not to the person's email %s; check the handle is right before approving.", u.ID, u.Profile.Email, p.Email))
	}
	plan.Account = fmt.Sprintf("%s (%s, %s, workspaces %s)", u.ID, u.label(), u.state(), strings.Join(teams, ","))
	if u.IsPrimaryOwner {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s is the Primary Owner, whom Slack does not let the API sign out or deactivate.", u.label()))
		plan.Manual = append(plan.Manual, connector.Manual{System: System, Detail: fmt.Sprintf(
			"Transfer Primary Ownership of the Slack org away from %s (%s), then run this case again to sign them out and deactivate them.", u.label(), u.ID)})
		return plan, nil
	}
	if u.IsBot {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s (%s) is a bot user; bots are removed by uninstalling their app, not offboarded.", u.label(), u.ID))
		return plan, nil
	}
	if u.IsOwner || u.IsAdmin {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s is an Owner or Admin; deactivation removes those roles with the account.", u.label()))
	}
	if err := c.planSessions(ctx, &plan, *u, teams); err != nil {
		return plan, err
	}
	if err := c.planDeactivation(ctx, &plan, *u, teams); err != nil {
		return plan, err
	}
	connector.SortActions(plan.Actions, kindOrder)
	return plan, nil
}

func (c *Connector) add(plan *connector.Plan, kind string, u slackUser, teams []string, detail string, after []string, before any) {
	b, _ := json.Marshal(before)
	plan.Actions = append(plan.Actions, connector.Action{
		System: System, Kind: kind, Target: u.ID, Detail: detail,
		Params: map[string]string{"email": u.Profile.Email, "teams": strings.Join(teams, ",")},
		After:  after, Before: string(b),
	})
}

// planSessions lists the user's sessions on Enterprise Grid and plans their reset; off Grid it
// says why there is no such step.
func (c *Connector) planSessions(ctx context.Context, plan *connector.Plan, u slackUser, teams []string) error {
	if !c.grid {
		plan.Notes = append(plan.Notes, "Session reset (admin.users.session.reset) exists only on Enterprise Grid; on this plan the user is signed out of every session when the account is deactivated.")
		return nil
	}
	if u.Deleted {
		return nil // Slack ends a deactivated user's sessions.
	}
	sessions, err := c.listSessions(ctx, u.ID, teams)
	if err != nil {
		return err
	}
	if len(sessions) == 0 {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s has no active sessions on workspaces %s.", u.label(), strings.Join(teams, ", ")))
		return nil
	}
	c.add(plan, KindResetSessions, u, teams,
		fmt.Sprintf("Sign %s out of all %d Slack session(s) on every workspace (admin.users.session.reset)", u.label(), len(sessions)),
		nil, map[string]any{"user_id": u.ID, "active_sessions": sessions})
	return nil
}

// planDeactivation reads the SCIM user and plans deactivation unless it is done. A SCIM API
// that refuses the token off Grid is the plan's limit (Business+ or above), not an error.
func (c *Connector) planDeactivation(ctx context.Context, plan *connector.Plan, u slackUser, teams []string) error {
	su, err := c.scim.Get(ctx, u.ID)
	switch {
	case errors.Is(err, connector.ErrNotFound):
		if u.Deleted {
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s is already deactivated.", u.label()))
			return nil
		}
		plan.Manual = append(plan.Manual, connector.Manual{System: System, Detail: fmt.Sprintf(
			"Deactivate %s (%s) in the Slack admin pages: the SCIM API does not return this user, so it cannot deactivate them.", u.label(), u.ID)})
		return nil
	case connector.StatusOf(err) == http.StatusForbidden && !c.grid:
		plan.Notes = append(plan.Notes, "SCIM is not available to this token: "+scimProblem(false, err))
		if !u.Deleted {
			plan.Manual = append(plan.Manual, connector.Manual{System: System, Detail: fmt.Sprintf(
				"Deactivate %s (%s) in the Slack admin pages (Manage members): the SCIM API, the only API that deactivates accounts, needs the Business+ plan or Enterprise Grid.", u.label(), u.ID)})
		}
		return nil
	case connector.StatusOf(err) == http.StatusUnauthorized || connector.StatusOf(err) == http.StatusForbidden:
		return connector.Permanent(fmt.Errorf("slack: read SCIM user %s: %s", u.ID, scimProblem(c.grid, err)))
	case err != nil:
		return fmt.Errorf("slack: read SCIM user %s: %w", u.ID, err)
	}
	if !su.IsActive() {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s is already deactivated (SCIM active: false).", u.label()))
		return nil
	}
	c.add(plan, KindDeactivate, u, teams,
		fmt.Sprintf("Deactivate Slack account %s (%s) on every workspace through SCIM (active: false); the account and its messages are kept", u.label(), u.ID),
		[]string{KindResetSessions}, scimBefore(su))
	return nil
}

func scimBefore(u scim.User) map[string]any {
	return map[string]any{"id": u.ID, "userName": u.UserName, "active": u.Active}
}

package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Apply makes one planned change. Both are idempotent: resetting sessions that are already
// gone succeeds, and setting active to false again changes nothing. A user who no longer
// exists holds nothing, so either action then succeeds.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	if err := ownAction(a); err != nil {
		return err
	}
	switch a.Kind {
	case KindResetSessions:
		_, err := c.call(ctx, "admin.users.session.reset", url.Values{"user_id": {a.Target}}, nil)
		if err == nil || isNotFound(err) {
			return nil
		}
		return fmt.Errorf("slack: %s: %w", describe(a), err)
	default:
		return c.deactivate(ctx, a)
	}
}

// deactivate sends the SCIM PatchOp. A 404 from SCIM is success only when the Web API agrees
// the user is gone or deactivated; otherwise SCIM simply cannot see them and a human must act.
func (c *Connector) deactivate(ctx context.Context, a connector.Action) error {
	err := c.scim.Deactivate(ctx, a.Target)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, connector.ErrNotFound):
		u, ierr := c.userInfo(ctx, a.Target)
		if isNotFound(ierr) || (ierr == nil && u.Deleted) {
			return nil
		}
		if ierr != nil {
			return fmt.Errorf("slack: %s: SCIM answered 404 and users.info failed: %w", describe(a), ierr)
		}
		return connector.Permanent(fmt.Errorf("slack: %s: the SCIM API does not know this user although the Web API does; deactivate them in the Slack admin pages: %w", describe(a), err))
	case connector.StatusOf(err) == http.StatusUnauthorized || connector.StatusOf(err) == http.StatusForbidden:
		return connector.Permanent(fmt.Errorf("slack: %s: %s", describe(a), scimProblem(c.grid, err)))
	}
	return fmt.Errorf("slack: %s: %w", describe(a), err)
}

func ownAction(a connector.Action) error {
	if a.Target == "" {
		return connector.Permanent(fmt.Errorf("slack: action %s has no target user ID", a.Key()))
	}
	if a.Kind != KindResetSessions && a.Kind != KindDeactivate {
		return connector.Permanent(fmt.Errorf("slack: unknown action kind %q (action %s)", a.Kind, a.Key()))
	}
	return nil
}

func describe(a connector.Action) string {
	who := a.Target
	if e := a.Param("email"); e != "" {
		who = e + " (" + a.Target + ")"
	}
	if a.Kind == KindResetSessions {
		return "reset sessions of " + who
	}
	return "deactivate " + who
}

// Verify reads Slack back: the user's active sessions on each workspace for a reset, the SCIM
// user's active attribute for a deactivation.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	if err := ownAction(a); err != nil {
		return connector.Evidence{}, err
	}
	var ev connector.Evidence
	var err error
	if a.Kind == KindResetSessions {
		ev, err = c.verifySessions(ctx, a)
	} else {
		ev, err = c.verifyDeactivated(ctx, a)
	}
	if err != nil {
		return connector.Evidence{}, fmt.Errorf("slack: verify %s: %w", describe(a), err)
	}
	return ev, nil
}

func (c *Connector) evidence(ok bool, observed string, read any) connector.Evidence {
	return connector.Observe(ok, observed, read, c.now())
}

// verifySessions reads the user afresh (for the workspaces they belong to now, which may have
// grown since the plan) and lists their sessions on each.
func (c *Connector) verifySessions(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	u, err := c.userInfo(ctx, a.Target)
	if isNotFound(err) {
		return c.evidence(true, fmt.Sprintf("user %s no longer exists, so has no sessions", a.Target), map[string]any{"user_id": a.Target, "exists": false}), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	teams := u.teams()
	for _, t := range strings.Split(a.Param("teams"), ",") {
		if t != "" && !slices.Contains(teams, t) {
			teams = append(teams, t)
		}
	}
	sessions, err := c.listSessions(ctx, a.Target, teams)
	if err != nil {
		return connector.Evidence{}, err
	}
	read := map[string]any{"user_id": a.Target, "teams": teams, "active_sessions": nonNil(sessions)}
	if len(sessions) > 0 {
		return c.evidence(false, fmt.Sprintf("%s still has %d active session(s)", u.label(), len(sessions)), read), nil
	}
	return c.evidence(true, fmt.Sprintf("%s has no active sessions on workspaces %s", u.label(), strings.Join(teams, ", ")), read), nil
}

func (c *Connector) verifyDeactivated(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	su, err := c.scim.Get(ctx, a.Target)
	if errors.Is(err, connector.ErrNotFound) {
		u, ierr := c.userInfo(ctx, a.Target)
		switch {
		case isNotFound(ierr):
			return c.evidence(true, fmt.Sprintf("user %s no longer exists in Slack", a.Target), map[string]any{"user_id": a.Target, "exists": false}), nil
		case ierr != nil:
			return connector.Evidence{}, ierr
		}
		read := map[string]any{"user_id": u.ID, "scim": "not found", "deleted": u.Deleted}
		return c.evidence(u.Deleted, fmt.Sprintf("SCIM does not return %s; users.info says %s", u.label(), u.state()), read), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	read := json.RawMessage(su.Raw)
	if su.Active != nil && !*su.Active {
		return connector.Evidence{Verified: true, Observed: fmt.Sprintf("Slack user %s (%s) is deactivated (SCIM active: false)", su.Name(), su.ID), Read: read, CheckedAt: c.now().UTC()}, nil
	}
	return connector.Evidence{Verified: false, Observed: fmt.Sprintf("Slack user %s (%s) is %s", su.Name(), su.ID, su.ActiveText()), Read: read, CheckedAt: c.now().UTC()}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

package jenkins

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/offboard-dev/offboard/internal/connector"
)

// revokePath is ApiTokenProperty's descriptor endpoint for revoking one token by UUID.
const revokePath = "descriptorByName/jenkins.security.ApiTokenProperty/revoke"

// Apply makes one planned change. It is idempotent: revoking a token that is gone succeeds
// (Jenkins answers 200 either way), and a user who no longer exists has nothing left.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	uid := a.Param("user_id")
	if uid == "" || a.Target == "" {
		return connector.Permanent(fmt.Errorf("jenkins: action %s has no user_id or target; it was not planned by this connector", a.Key()))
	}
	var err error
	switch a.Kind {
	case KindRevokeToken:
		_, err = c.post(ctx, userPath(uid, revokePath), url.Values{"tokenUuid": {a.Target}})
	case KindDeleteUser:
		return c.deleteUser(ctx, a, uid)
	default:
		return unknownKind(a)
	}
	switch {
	case err == nil, errors.Is(err, connector.ErrNotFound):
		return nil
	case connector.StatusOf(err) == http.StatusBadRequest:
		// "The user does not have any ApiToken yet": nothing is left to revoke, which a
		// fresh read confirms before calling it done.
		if ev, verr := c.Verify(ctx, a); verr == nil && ev.Verified {
			return nil
		}
	case connector.StatusOf(err) == http.StatusForbidden:
		return refused(a, err)
	}
	return fmt.Errorf("jenkins: %s: %w", describe(a), err)
}

// deleteUser deletes the user unless they are already gone. Jenkins answers a deletion with
// a redirect to its dashboard, which the connector does not follow.
func (c *Connector) deleteUser(ctx context.Context, a connector.Action, uid string) error {
	if _, err := c.getUser(ctx, uid); errors.Is(err, connector.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("jenkins: %s: read the user first: %w", describe(a), err)
	}
	_, err := c.post(ctx, userPath(uid, "doDelete"), url.Values{})
	switch {
	case err == nil, errors.Is(err, connector.ErrNotFound), connector.StatusOf(err) == http.StatusFound, connector.StatusOf(err) == http.StatusSeeOther:
		return nil
	case connector.CodeOf(err) == "self":
		return connector.Permanent(fmt.Errorf("jenkins: %s: refused: the API token belongs to %s, and Jenkins does not let a user delete themselves; configure another administrator's token: %w", describe(a), uid, err))
	case connector.StatusOf(err) == http.StatusForbidden:
		return refused(a, err)
	}
	return fmt.Errorf("jenkins: %s: %w", describe(a), err)
}

func refused(a connector.Action, err error) error {
	if connector.CodeOf(err) == "crumb" {
		return connector.Permanent(fmt.Errorf("jenkins: %s: refused: Jenkins rejected the CSRF crumb even after a fresh one was fetched (a proxy may be dropping the session cookie): %w", describe(a), err))
	}
	return connector.Permanent(fmt.Errorf("jenkins: %s: refused: the configured user needs the Overall/Administer permission: %w", describe(a), err))
}

func unknownKind(a connector.Action) error {
	return connector.Permanent(fmt.Errorf("jenkins: unknown action kind %q (action %s)", a.Kind, a.Key()))
}

func describe(a connector.Action) string {
	switch a.Kind {
	case KindRevokeToken:
		return fmt.Sprintf("revoke API token %s of %s", a.Target, a.Param("user_id"))
	case KindDeleteUser:
		return "delete user " + a.Target
	}
	return a.Kind + " " + a.Target
}

// Verify reads Jenkins back: a revoked token must be gone from the user's token list, a
// deleted user must answer 404. A user who no longer exists holds no tokens either.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	uid := a.Param("user_id")
	if uid == "" || a.Target == "" {
		return connector.Evidence{}, connector.Permanent(fmt.Errorf("jenkins: action %s has no user_id or target", a.Key()))
	}
	switch a.Kind {
	case KindRevokeToken:
		toks, err := c.tokens(ctx, uid)
		if errors.Is(err, connector.ErrNotFound) {
			return c.evidence(true, fmt.Sprintf("user %s no longer exists, so it holds no API tokens", uid), map[string]any{"user_id": uid, "exists": false}), nil
		}
		if err != nil {
			return connector.Evidence{}, fmt.Errorf("jenkins: verify %s: %w", describe(a), err)
		}
		for _, t := range toks {
			if t.UUID == a.Target {
				return c.evidence(false, fmt.Sprintf("API token %q (%s) of %s is still listed", t.Name, t.UUID, uid), toks), nil
			}
		}
		return c.evidence(true, fmt.Sprintf("API token %s is not among the %d token(s) %s holds", a.Target, len(toks), uid),
			map[string]any{"user_id": uid, "tokens": toks}), nil
	case KindDeleteUser:
		u, err := c.getUser(ctx, uid)
		if errors.Is(err, connector.ErrNotFound) {
			return c.evidence(true, fmt.Sprintf("user %s no longer exists (GET /user/%s/api/json answers 404)", uid, uid), map[string]any{"user_id": uid, "exists": false}), nil
		}
		if err != nil {
			return connector.Evidence{}, fmt.Errorf("jenkins: verify %s: %w", describe(a), err)
		}
		return c.evidence(false, fmt.Sprintf("user %s still exists", u.ID), u), nil
	}
	return connector.Evidence{}, unknownKind(a)
}

func (c *Connector) evidence(verified bool, observed string, read any) connector.Evidence {
	return connector.Observe(verified, observed, read, c.now())
}

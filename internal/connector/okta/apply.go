package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Apply makes one planned change. It is idempotent: a removal whose target is already gone
// (Okta answers 404) succeeds, and deactivation reads the user first and does nothing when the
// account is already deactivated, so the non-idempotent call is never repeated.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	uid, err := actionUser(a)
	if err != nil {
		return err
	}
	switch a.Kind {
	case KindRevokeSessions:
		// forgetDevices is explicit because it defaults to false on Classic Engine orgs.
		err = c.remove(ctx, userPath(uid, "sessions"), url.Values{"oauthTokens": {"true"}, "forgetDevices": {"true"}})
	case KindRevokeGrants:
		err = c.remove(ctx, userPath(uid, "grants"), nil)
	case KindRemoveFactor:
		err = c.remove(ctx, userPath(uid, "factors", connector.PathSegment(a.Target)), nil)
	case KindRemoveRole:
		err = c.remove(ctx, userPath(uid, "roles", connector.PathSegment(a.Target)), nil)
	case KindRemoveGroup:
		err = c.remove(ctx, "/api/v1/groups/"+connector.PathSegment(a.Target)+"/users/"+connector.PathSegment(uid), nil)
	case KindDeactivate:
		return c.deactivate(ctx, a, uid)
	default:
		return unknownKind(a)
	}
	if err == nil {
		return nil
	}
	if connector.StatusOf(err) == http.StatusForbidden {
		return c.refused(ctx, a, uid, err)
	}
	return fmt.Errorf("okta: %s: %w", describe(a), err)
}

func actionUser(a connector.Action) (string, error) {
	uid := a.Param("user_id")
	if uid == "" || a.Target == "" {
		return "", connector.Permanent(fmt.Errorf("okta: action %s has no user_id or target; it was not planned by this connector", a.Key()))
	}
	return uid, nil
}

func unknownKind(a connector.Action) error {
	return connector.Permanent(fmt.Errorf("okta: unknown action kind %q (action %s)", a.Kind, a.Key()))
}

// remove sends a DELETE; a 404 means the thing is already gone, which is what was wanted.
func (c *Connector) remove(ctx context.Context, path string, query url.Values) error {
	_, err := c.client.Do(ctx, connector.Request{Method: http.MethodDelete, Path: path, Query: query})
	if errors.Is(err, connector.ErrNotFound) {
		return nil
	}
	return err
}

// refused handles a 403 from a removal. When a fresh read shows the effect is already in
// place (a factor of a now-deactivated user that was unenrolled on an earlier attempt, say),
// the action succeeded; otherwise it is permanent, with what a person can do about it.
func (c *Connector) refused(ctx context.Context, a connector.Action, uid string, err error) error {
	var hint string
	switch a.Kind {
	case KindRevokeSessions:
		// Sessions cannot be read back; a deactivated account has none left to revoke.
		if u, rerr := c.getUser(ctx, uid); rerr == nil && u.deactivated() {
			return nil
		}
		hint = "the API token's admin may not manage this user (okta.users.manage)"
	default:
		if ev, verr := c.Verify(ctx, a); verr == nil && ev.Verified {
			return nil
		}
		hint = refusalHint(a.Kind)
		if a.Kind == KindRemoveFactor {
			if u, rerr := c.getUser(ctx, uid); rerr == nil && u.deactivated() {
				hint = "Okta does not unenroll factors of a deactivated user; the factor cannot be used while the account stays deactivated, so this step can be skipped with that reason"
			}
		}
	}
	return connector.Permanent(fmt.Errorf("okta: %s: refused: %s: %w", describe(a), hint, err))
}

func refusalHint(kind string) string {
	switch kind {
	case KindRemoveGroup:
		return "Okta only lets OKTA_GROUP memberships be changed (an imported APP_GROUP is managed in its source directory), or the API token's admin may not manage this group (okta.groups.manage)"
	case KindRemoveRole:
		return "the API token's admin may not unassign admin roles (okta.roles.manage, super administrator), or the role is held through a group"
	case KindRemoveFactor:
		return "the API token's admin may not manage this user's factors (okta.users.manage)"
	default:
		return "the API token's admin may not manage this user (okta.users.manage)"
	}
}

// deactivate deactivates the user unless they already are (or are being) deactivated. The
// call goes through the client that never retries: if its answer is lost, the engine's next
// attempt reads the user again instead of repeating it blindly.
func (c *Connector) deactivate(ctx context.Context, a connector.Action, uid string) error {
	u, err := c.getUser(ctx, uid)
	if errors.Is(err, connector.ErrNotFound) {
		return nil // deleted: nothing is left to deactivate
	}
	if err != nil {
		return fmt.Errorf("okta: %s: read the user first: %w", describe(a), err)
	}
	if u.deactivated() {
		return nil
	}
	_, err = c.once.Do(ctx, connector.Request{
		Method: http.MethodPost,
		Path:   userPath(uid, "lifecycle", "deactivate"),
		// sendEmail would mail the admin (apis.md §1.6); it is off, and said so explicitly.
		Query: url.Values{"sendEmail": {"false"}},
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, connector.ErrNotFound):
		// Okta answers 404 E0000007 to deactivating a user who is already DEPROVISIONED, as
		// when someone else deactivated them since the read above.
		if u, rerr := c.getUser(ctx, uid); errors.Is(rerr, connector.ErrNotFound) || (rerr == nil && u.deactivated()) {
			return nil
		}
	case connector.StatusOf(err) == http.StatusForbidden:
		return connector.Permanent(fmt.Errorf("okta: %s: refused: %s: %w", describe(a), refusalHint(a.Kind), err))
	}
	return fmt.Errorf("okta: %s: %w", describe(a), err)
}

// describe names an action's change briefly, for errors.
func describe(a connector.Action) string {
	who := a.Param("login")
	if who == "" {
		who = a.Param("user_id")
	}
	switch a.Kind {
	case KindRevokeSessions:
		return "revoke sessions and tokens of " + who
	case KindRevokeGrants:
		return "revoke OAuth grants of " + who
	case KindRemoveFactor:
		return fmt.Sprintf("unenroll factor %s (%s) of %s", a.Param("factor_type"), a.Target, who)
	case KindRemoveRole:
		return fmt.Sprintf("remove admin role %s (%s) from %s", a.Param("role_type"), a.Target, who)
	case KindRemoveGroup:
		return fmt.Sprintf("remove %s from group %s (%s)", who, a.Param("group_name"), a.Target)
	case KindDeactivate:
		return "deactivate " + who
	}
	return a.Kind + " " + a.Target
}

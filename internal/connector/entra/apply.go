package entra

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Apply makes one planned change. It is idempotent: a removal whose target is already gone
// (Graph answers 404 Request_ResourceNotFound) succeeds, a licence no longer assigned directly
// is not removed again, and disabling or revoking again changes nothing that matters.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	uid, err := c.actionUser(a)
	if err != nil {
		return err
	}
	switch a.Kind {
	case KindRevokeSessions:
		err = c.send(ctx, http.MethodPost, userPath(uid, "revokeSignInSessions"), nil)
	case KindRemoveGroup:
		err = c.send(ctx, http.MethodDelete, "/groups/"+seg(a.Target)+"/members/"+seg(uid)+"/$ref", nil)
	case KindRemoveMethod, KindRemoveDefaultMethod:
		return c.removeMethod(ctx, a, uid)
	case KindRemoveLicense:
		return c.removeLicense(ctx, a, uid)
	case KindDisable:
		err = c.send(ctx, http.MethodPatch, userPath(uid), map[string]bool{"accountEnabled": false})
	default:
		return c.unknownKind(a)
	}
	if errors.Is(err, connector.ErrNotFound) {
		// The user, the group or the membership is gone: the access is gone with it.
		return nil
	}
	return c.failed(a, err)
}

func (c *Connector) actionUser(a connector.Action) (string, error) {
	uid := a.Param("user_id")
	if uid == "" || a.Target == "" {
		return "", connector.Permanent(fmt.Errorf("%s: action %s has no user_id or target; it was not planned by this connector", c.name, a.Key()))
	}
	return uid, nil
}

func (c *Connector) unknownKind(a connector.Action) error {
	return connector.Permanent(fmt.Errorf("%s: unknown action kind %q (action %s)", c.name, a.Kind, a.Key()))
}

// send makes one write; body, when not nil, is sent as JSON.
func (c *Connector) send(ctx context.Context, method, path string, body any) error {
	_, err := c.do(ctx, c.graph, connector.Request{Method: method, Path: path, JSON: body})
	return err
}

// failed wraps an Apply error with what was being done; a 403 becomes a permanent error
// naming the application permission the app registration lacks.
func (c *Connector) failed(a connector.Action, err error) error {
	if err == nil {
		return nil
	}
	if forbidden(err) {
		return connector.Permanent(fmt.Errorf("%s: %s: refused: the app registration needs the %s application permission (with admin consent): %w",
			c.name, c.describe(a), permissionFor(a), err))
	}
	return fmt.Errorf("%s: %s: %w", c.name, c.describe(a), err)
}

// permissionFor names the least-privileged Graph application permission an action needs.
func permissionFor(a connector.Action) string {
	switch a.Kind {
	case KindRevokeSessions:
		return "User.RevokeSessions.All"
	case KindRemoveGroup:
		if a.Param("role_assignable") == "true" {
			return "GroupMember.ReadWrite.All and RoleManagement.ReadWrite.Directory (the group can hold directory roles)"
		}
		return "GroupMember.ReadWrite.All"
	case KindRemoveMethod, KindRemoveDefaultMethod:
		return "UserAuthenticationMethod.ReadWrite.All"
	case KindRemoveLicense:
		return "LicenseAssignment.ReadWrite.All"
	case KindDisable:
		return "User.EnableDisableAccount.All (and, for a user holding an admin role, a directory role such as Privileged Authentication Administrator for the app)"
	}
	return "required"
}

// removeMethod deletes one authentication method through its type's collection. Graph
// refuses to delete the default method while others remain; that refusal is retryable, as it
// clears once the other methods are gone (the plan orders the known default last, but the
// default may be unknown when planned). A mobile phone goes after any alternate mobile phone,
// which Graph does not allow without it; both are ordinary methods, so the order is kept here.
func (c *Connector) removeMethod(ctx context.Context, a connector.Action, uid string) error {
	coll := a.Param("collection")
	if !slices.Contains(slices.Collect(maps.Values(collections)), coll) {
		return connector.Permanent(fmt.Errorf("%s: action %s names unknown method collection %q", c.name, a.Key(), coll))
	}
	if coll == "phoneMethods" && a.Param("phone_type") == "mobile" {
		if err := c.removeAlternateMobiles(ctx, uid); err != nil {
			return fmt.Errorf("%s: %s: first remove the alternate mobile phone, which cannot exist without it: %w", c.name, c.describe(a), err)
		}
	}
	err := c.send(ctx, http.MethodDelete, userPath(uid, "authentication", coll, seg(a.Target)), nil)
	var apiErr *connector.APIError
	switch {
	case err == nil, errors.Is(err, connector.ErrNotFound):
		return nil
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(apiErr.Summary), "default method"):
		// Not wrapped in Permanent: the engine retries after the other methods are removed.
		return fmt.Errorf("%s: %s: Graph refuses to delete the default method while others remain; retry once they are gone: %w", c.name, c.describe(a), apiErr)
	}
	return c.failed(a, err)
}

// removeAlternateMobiles deletes the user's alternate mobile phone methods, if any.
func (c *Connector) removeAlternateMobiles(ctx context.Context, uid string) error {
	methods, err := list[authMethod](ctx, c, c.graph, userPath(uid, "authentication", "methods"), nil)
	if errors.Is(err, connector.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, p := range methods {
		if p.methodType() != "phone" || p.PhoneType != "alternateMobile" {
			continue
		}
		if err := c.send(ctx, http.MethodDelete, userPath(uid, "authentication", "phoneMethods", seg(p.ID)), nil); err != nil && !errors.Is(err, connector.ErrNotFound) {
			return err
		}
	}
	return nil
}

// removeLicense removes a directly assigned licence. It reads the user first, so a licence
// already removed (or only inherited now) is not sent again, and after a refusal it reads
// again: the removal may have happened on an earlier attempt whose answer was lost.
func (c *Connector) removeLicense(ctx context.Context, a connector.Action, uid string) error {
	held, err := c.directLicense(ctx, uid, a.Target)
	if errors.Is(err, connector.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %s: read the user first: %w", c.name, c.describe(a), err)
	}
	if !held {
		return nil
	}
	err = c.send(ctx, http.MethodPost, userPath(uid, "assignLicense"), map[string][]string{
		// Both parameters are required and non-nullable (apis.md §7).
		"addLicenses": {}, "removeLicenses": {a.Target},
	})
	if err == nil || errors.Is(err, connector.ErrNotFound) {
		return nil
	}
	if connector.StatusOf(err) == http.StatusBadRequest {
		if held, rerr := c.directLicense(ctx, uid, a.Target); rerr == nil && !held {
			return nil
		}
		return connector.Permanent(fmt.Errorf("%s: %s: refused (a licence inherited from a group goes with the group membership): %w", c.name, c.describe(a), err))
	}
	return c.failed(a, err)
}

// directLicense reports whether the user holds sku by direct assignment.
func (c *Connector) directLicense(ctx context.Context, uid, sku string) (bool, error) {
	u, err := c.getUser(ctx, uid)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(u.LicenseAssignmentStates, func(l licenseState) bool { return l.SkuID == sku && l.direct() }), nil
}

// describe names an action's change briefly, for errors.
func (c *Connector) describe(a connector.Action) string {
	who := a.Param("upn")
	if who == "" {
		who = a.Param("user_id")
	}
	switch a.Kind {
	case KindRevokeSessions:
		return "revoke sign-in sessions of " + who
	case KindRemoveGroup:
		return fmt.Sprintf("remove %s from group %s (%s)", who, a.Param("group_name"), a.Target)
	case KindRemoveMethod, KindRemoveDefaultMethod:
		return fmt.Sprintf("delete authentication method %s (%s) of %s", a.Param("method"), a.Target, who)
	case KindRemoveLicense:
		return fmt.Sprintf("remove licence %s from %s", a.Target, who)
	case KindDisable:
		return "disable " + who
	}
	return a.Kind + " " + a.Target
}

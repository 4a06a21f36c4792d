package google

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Verify reads Google back and reports whether the action's effect is in place. An error means
// the read failed, never that the access remains.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	uid, err := actionUser(a)
	if err != nil {
		return connector.Evidence{}, err
	}
	who := a.Param("email")
	if who == "" {
		who = uid
	}
	var ev connector.Evidence
	switch a.Kind {
	case KindTransferData, KindConfirmTransfer:
		ev, err = c.verifyTransfer(ctx, a, uid)
	case KindSignOut:
		ev, err = c.verifySignOut(ctx, uid, who)
	case KindRevokeToken:
		ev, err = c.verifyToken(ctx, a, uid, who)
	case KindDeleteASP:
		ev, err = c.verifyASP(ctx, a, uid, who)
	case KindInvalidateCode:
		ev, err = c.verifyCodes(ctx, uid, who)
	case KindTurnOff2SV:
		ev, err = c.verifyUser(ctx, uid, who, "2-Step Verification", func(u gUser) (bool, string) {
			return !u.IsEnrolledIn2Sv, fmt.Sprintf("isEnrolledIn2Sv %v (isEnforcedIn2Sv %v)", u.IsEnrolledIn2Sv, u.IsEnforcedIn2Sv)
		})
	case KindRemoveGroup:
		ev, err = c.verifyGroup(ctx, a, uid, who)
	case KindSuspend:
		ev, err = c.verifyUser(ctx, uid, who, "account", func(u gUser) (bool, string) {
			if u.Suspended {
				return true, fmt.Sprintf("suspended (reason %s)", u.SuspensionReason)
			}
			return false, "not suspended"
		})
	default:
		return connector.Evidence{}, unknownKind(a)
	}
	if err != nil {
		return connector.Evidence{}, fmt.Errorf("google: verify %s: %w", describe(a), err)
	}
	return ev, nil
}

func (c *Connector) evidence(verified bool, observed string, read any) connector.Evidence {
	return connector.Observe(verified, observed, read, c.now())
}

// gone is the evidence when the user no longer exists: a deleted user holds nothing.
func (c *Connector) gone(uid, who, what string) connector.Evidence {
	return connector.UserGone("Google Workspace", uid, who, what, c.now())
}

func notFound(err error) bool { return errors.Is(err, connector.ErrNotFound) }

// verifyUser reads the user and judges one property of the record.
func (c *Connector) verifyUser(ctx context.Context, uid, who, what string, done func(gUser) (bool, string)) (connector.Evidence, error) {
	u, err := c.getUser(ctx, uid)
	if notFound(err) {
		return c.gone(uid, who, what), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	ok, state := done(u)
	read := map[string]any{"id": u.ID, "primaryEmail": u.PrimaryEmail, "suspended": u.Suspended, "suspensionReason": u.SuspensionReason,
		"isEnrolledIn2Sv": u.IsEnrolledIn2Sv, "isEnforcedIn2Sv": u.IsEnforcedIn2Sv}
	return c.evidence(ok, fmt.Sprintf("user %s (%s): %s", uid, who, state), read), nil
}

// verifySignOut says honestly what can be known. Google has no API that lists a user's
// sessions, so their end cannot be read back; the evidence is that Google accepted the
// sign-out (a 2xx to users.signOut, recorded by this process when it applied the action),
// together with a fresh read of the account. Without such a record, it is not verified, and
// the engine applies it again (harmless: signing out twice changes nothing).
func (c *Connector) verifySignOut(ctx context.Context, uid, who string) (connector.Evidence, error) {
	u, err := c.getUser(ctx, uid)
	if notFound(err) {
		return c.gone(uid, who, "sessions"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	c.mu.Lock()
	at, ok := c.signedOut[uid]
	c.mu.Unlock()
	read := map[string]any{"id": u.ID, "primaryEmail": u.PrimaryEmail, "suspended": u.Suspended, "sessions": "not listable through the Admin SDK"}
	if !ok {
		return c.evidence(false, fmt.Sprintf("no sign-out of %s has been accepted by Google in this run; Google cannot list sessions, so none can be read back", who), read), nil
	}
	read["signOut_accepted_at"] = at.Format(time.RFC3339Nano)
	return c.evidence(true, fmt.Sprintf("Google accepted the sign-out of %s at %s (every web and device session ended, sign-in cookies reset). Google has no API listing sessions, so their end cannot be read back; the account read just now is %s, and suspension (planned after this) blocks any new sign-in",
		who, at.Format(time.RFC3339), map[bool]string{true: "suspended", false: "still active"}[u.Suspended]), read), nil
}

func (c *Connector) verifyToken(ctx context.Context, a connector.Action, uid, who string) (connector.Evidence, error) {
	tokens, err := c.listTokens(ctx, uid)
	if notFound(err) {
		return c.gone(uid, who, "OAuth tokens"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	i := slices.IndexFunc(tokens, func(t gToken) bool { return t.ClientID == a.Target })
	read := map[string]any{"user_id": uid, "client_id": a.Target, "granted": i >= 0, "tokens": nonNil(tokens)}
	if i >= 0 {
		return c.evidence(false, fmt.Sprintf("%s still has OAuth tokens for %s (%s)", who, tokens[i].DisplayText, a.Target), read), nil
	}
	return c.evidence(true, fmt.Sprintf("%s has no OAuth token for %s (%s) any more; %d other client(s) listed", who, a.Param("app"), a.Target, len(tokens)), read), nil
}

func (c *Connector) verifyASP(ctx context.Context, a connector.Action, uid, who string) (connector.Evidence, error) {
	asps, err := c.listASPs(ctx, uid)
	if notFound(err) {
		return c.gone(uid, who, "app-specific passwords"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	i := slices.IndexFunc(asps, func(p gASP) bool { return strconv.Itoa(p.CodeID) == a.Target })
	read := map[string]any{"user_id": uid, "code_id": a.Target, "present": i >= 0, "asps": nonNil(asps)}
	if i >= 0 {
		return c.evidence(false, fmt.Sprintf("app-specific password %q (%s) of %s still exists", asps[i].Name, a.Target, who), read), nil
	}
	return c.evidence(true, fmt.Sprintf("app-specific password %q (%s) of %s no longer exists", a.Param("name"), a.Target, who), read), nil
}

// verifyCodes counts the unused backup codes; the codes themselves are never recorded.
func (c *Connector) verifyCodes(ctx context.Context, uid, who string) (connector.Evidence, error) {
	n, err := c.countCodes(ctx, uid)
	if notFound(err) {
		return c.gone(uid, who, "backup codes"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	read := map[string]any{"user_id": uid, "unused_backup_codes": n}
	if n > 0 {
		return c.evidence(false, fmt.Sprintf("%s still has %d unused backup verification code(s)", who, n), read), nil
	}
	return c.evidence(true, fmt.Sprintf("%s has no unused backup verification codes", who), read), nil
}

func (c *Connector) verifyGroup(ctx context.Context, a connector.Action, uid, who string) (connector.Evidence, error) {
	groups, err := c.listGroupsShared(ctx, uid)
	if notFound(err) {
		return c.gone(uid, who, "group memberships"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	member := slices.ContainsFunc(groups, func(g gGroup) bool { return g.ID == a.Target })
	read := map[string]any{"user_id": uid, "group_id": a.Target, "member": member, "groups_listed": len(groups)}
	if member {
		return c.evidence(false, fmt.Sprintf("%s is still a member of group %s (%s)", who, a.Param("group_email"), a.Target), read), nil
	}
	return c.evidence(true, fmt.Sprintf("%s is no longer a direct member of group %s (%s)", who, a.Param("group_email"), a.Target), read), nil
}

// nonNil keeps an empty list as [] rather than null in evidence.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

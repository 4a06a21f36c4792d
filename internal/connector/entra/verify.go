package entra

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Verify reads Graph back and reports whether the action's effect is in place. An error means
// the read failed, never that the access remains.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	uid, err := c.actionUser(a)
	if err != nil {
		return connector.Evidence{}, err
	}
	who := a.Param("upn")
	if who == "" {
		who = uid
	}
	var ev connector.Evidence
	switch a.Kind {
	case KindRevokeSessions:
		ev, err = c.verifySessions(ctx, a, uid, who)
	case KindRemoveGroup:
		ev, err = c.verifyGroup(ctx, a, uid, who)
	case KindRemoveMethod, KindRemoveDefaultMethod:
		ev, err = c.verifyMethod(ctx, a, uid, who)
	case KindRemoveLicense:
		ev, err = c.verifyLicense(ctx, a, uid, who)
	case KindDisable:
		ev, err = c.verifyDisabled(ctx, uid, who)
	default:
		return connector.Evidence{}, c.unknownKind(a)
	}
	if err != nil {
		return connector.Evidence{}, fmt.Errorf("%s: verify %s: %w", c.name, c.describe(a), err)
	}
	return ev, nil
}

func (c *Connector) evidence(verified bool, observed string, read any) connector.Evidence {
	return connector.Observe(verified, observed, read, c.now())
}

// gone is the evidence when the user no longer exists: a deleted user holds nothing.
func (c *Connector) gone(uid, who, what string) connector.Evidence {
	return connector.UserGone("Entra", uid, who, what, c.now())
}

func notFound(err error) bool { return errors.Is(err, connector.ErrNotFound) }

// verifySessions reads signInSessionsValidFromDateTime: revocation moves it to the moment of
// the call, so a value later than the one the plan read proves the revocation happened. Graph
// cannot list sessions themselves.
func (c *Connector) verifySessions(ctx context.Context, a connector.Action, uid, who string) (connector.Evidence, error) {
	u, err := c.getUser(ctx, uid)
	if notFound(err) {
		return c.gone(uid, who, "sessions"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	before, now := a.Param("valid_from"), u.validFrom()
	read := map[string]any{"id": u.ID, "signInSessionsValidFromDateTime": now, "planned_value": before}
	bt, nt := parseTime(before), parseTime(now)
	if !nt.IsZero() && (bt.IsZero() || nt.After(bt)) {
		return c.evidence(true, fmt.Sprintf("sessions of %s are valid only from %s (was %s): every earlier session and refresh token is revoked", who, now, orNone(before)), read), nil
	}
	return c.evidence(false, fmt.Sprintf("signInSessionsValidFromDateTime of %s is still %s: sessions not revoked yet", who, orNone(now)), read), nil
}

func orNone(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

// verifyGroup reads the user's memberships through a read shared with concurrent
// verifications (see memberReads), which always begins after this call did.
func (c *Connector) verifyGroup(ctx context.Context, a connector.Action, uid, who string) (connector.Evidence, error) {
	objs, err := c.members.read(ctx, uid, func(ctx context.Context) ([]directoryObject, error) {
		return list[directoryObject](ctx, c, c.graph, userPath(uid, "memberOf"), memberOfQuery())
	})
	if notFound(err) {
		return c.gone(uid, who, "group memberships"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	member := slices.ContainsFunc(objs, func(o directoryObject) bool { return o.ID == a.Target })
	read := map[string]any{"user_id": uid, "group_id": a.Target, "member": member, "memberships_listed": len(objs)}
	name := a.Param("group_name")
	if member {
		return c.evidence(false, fmt.Sprintf("%s is still a member of group %s (%s)", who, name, a.Target), read), nil
	}
	return c.evidence(true, fmt.Sprintf("%s is no longer a member of group %s (%s)", who, name, a.Target), read), nil
}

func (c *Connector) verifyMethod(ctx context.Context, a connector.Action, uid, who string) (connector.Evidence, error) {
	methods, err := list[authMethod](ctx, c, c.graph, userPath(uid, "authentication", "methods"), nil)
	if notFound(err) {
		return c.gone(uid, who, "authentication methods"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	i := slices.IndexFunc(methods, func(m authMethod) bool { return m.ID == a.Target })
	read := map[string]any{"user_id": uid, "method_id": a.Target, "registered": i >= 0, "methods": nonNil(methods)}
	if i >= 0 {
		return c.evidence(false, fmt.Sprintf("authentication method %s (%s) of %s is still registered", methods[i].describe(), a.Target, who), read), nil
	}
	return c.evidence(true, fmt.Sprintf("authentication method %s (%s) is no longer registered for %s (%d method(s) left)", a.Param("method"), a.Target, who, len(methods)), read), nil
}

func (c *Connector) verifyLicense(ctx context.Context, a connector.Action, uid, who string) (connector.Evidence, error) {
	u, err := c.getUser(ctx, uid)
	if notFound(err) {
		return c.gone(uid, who, "licences"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	var direct, inherited []licenseState
	for _, l := range u.LicenseAssignmentStates {
		if l.SkuID != a.Target {
			continue
		}
		if l.direct() {
			direct = append(direct, l)
		} else {
			inherited = append(inherited, l)
		}
	}
	read := map[string]any{"user_id": uid, "sku_id": a.Target, "direct": nonNil(direct), "inherited": nonNil(inherited)}
	if len(direct) > 0 {
		return c.evidence(false, fmt.Sprintf("licence %s is still assigned directly to %s", a.Target, who), read), nil
	}
	observed := fmt.Sprintf("licence %s is no longer assigned directly to %s", a.Target, who)
	if len(inherited) > 0 {
		observed += fmt.Sprintf(" (still inherited through %d group(s), which group removal releases)", len(inherited))
	}
	return c.evidence(true, observed, read), nil
}

func (c *Connector) verifyDisabled(ctx context.Context, uid, who string) (connector.Evidence, error) {
	u, err := c.getUser(ctx, uid)
	if notFound(err) {
		return c.gone(uid, who, "account"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	read := map[string]any{"id": u.ID, "userPrincipalName": u.UserPrincipalName, "accountEnabled": u.AccountEnabled}
	if u.AccountEnabled != nil && !*u.AccountEnabled {
		return c.evidence(true, fmt.Sprintf("user %s (%s) accountEnabled false: sign-in is blocked", uid, who), read), nil
	}
	return c.evidence(false, fmt.Sprintf("user %s (%s) is still enabled", uid, who), read), nil
}

// nonNil keeps an empty list as [] rather than null in evidence.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

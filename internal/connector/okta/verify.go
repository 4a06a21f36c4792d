package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/offboard-dev/offboard/internal/connector"
)

// sharedReadTimeout bounds a read shared by several Verify calls, which no single caller's
// context governs.
const sharedReadTimeout = 2 * time.Minute

// Verify reads Okta back and reports whether the action's effect is in place. An error means
// the read failed, never that the access remains.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	uid, err := actionUser(a)
	if err != nil {
		return connector.Evidence{}, err
	}
	who := a.Param("login")
	if who == "" {
		who = uid
	}
	var ev connector.Evidence
	switch a.Kind {
	case KindRevokeSessions:
		ev, err = c.verifySessions(ctx, uid, who, a.Param("clients"))
	case KindRevokeGrants:
		ev, err = c.verifyGrants(ctx, uid, who)
	case KindRemoveFactor:
		ev, err = c.verifyFactor(ctx, a, uid, who)
	case KindRemoveRole:
		ev, err = c.verifyRole(ctx, a, uid, who)
	case KindRemoveGroup:
		ev, err = c.verifyGroup(ctx, a, uid, who)
	case KindDeactivate:
		ev, err = c.verifyDeactivated(ctx, uid, who)
	default:
		return connector.Evidence{}, unknownKind(a)
	}
	if err != nil {
		return connector.Evidence{}, fmt.Errorf("okta: verify %s: %w", describe(a), err)
	}
	return ev, nil
}

func (c *Connector) evidence(verified bool, observed string, read any) connector.Evidence {
	return connector.Observe(verified, observed, read, c.now())
}

// gone is the evidence when the user no longer exists at all: a deleted user holds nothing.
func (c *Connector) gone(uid, who, what string) connector.Evidence {
	return connector.UserGone("Okta", uid, who, what, c.now())
}

func notFound(err error) bool { return errors.Is(err, connector.ErrNotFound) }

// active reports whether a grant or token status still grants access (GrantOrTokenStatus is
// ACTIVE or REVOKED).
func active(status string) bool { return status != "REVOKED" }

type clientTokens struct {
	ClientID      string   `json:"client_id"`
	ClientName    string   `json:"client_name"`
	RefreshTokens []string `json:"active_refresh_tokens"`
}

// verifySessions reads the refresh tokens each of the user's OAuth clients holds. Okta has no
// API listing browser sessions, so those cannot be read back; Observed says so.
func (c *Connector) verifySessions(ctx context.Context, uid, who, planned string) (connector.Evidence, error) {
	// The clients known from the plan are read in the same round as the client list; only a
	// client that appeared since costs a second round.
	var known []string
	if planned != "" {
		known = strings.Split(planned, ",")
	}
	tokens := map[string][]string{}
	var mu sync.Mutex
	readTokens := func(ctx context.Context, clientID string) error {
		toks, err := list[oktaToken](ctx, c.client, userPath(uid, "clients", connector.PathSegment(clientID), "tokens"), limit200())
		if err != nil && !notFound(err) {
			return err
		}
		live := []string{}
		for _, t := range toks {
			if active(t.Status) {
				live = append(live, t.ID)
			}
		}
		mu.Lock()
		tokens[clientID] = live
		mu.Unlock()
		return nil
	}
	var clients []oktaClient
	var gone bool
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	g.Go(func() error {
		var err error
		clients, err = list[oktaClient](gctx, c.client, userPath(uid, "clients"), nil)
		if notFound(err) {
			gone, err = true, nil
		}
		return err
	})
	for _, id := range known {
		g.Go(func() error { return readTokens(gctx, id) })
	}
	if err := g.Wait(); err != nil {
		return connector.Evidence{}, err
	}
	if gone {
		return c.gone(uid, who, "sessions or tokens"), nil
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, cl := range clients {
		if _, read := tokens[cl.ClientID]; !read {
			g.Go(func() error { return readTokens(gctx, cl.ClientID) })
		}
	}
	if err := g.Wait(); err != nil {
		return connector.Evidence{}, err
	}
	found := make([]clientTokens, len(clients))
	for i, cl := range clients {
		found[i] = clientTokens{ClientID: cl.ClientID, ClientName: cl.ClientName, RefreshTokens: tokens[cl.ClientID]}
	}
	var left []string
	for _, f := range found {
		if n := len(f.RefreshTokens); n > 0 {
			left = append(left, fmt.Sprintf("%s (%d)", f.ClientName, n))
		}
	}
	read := map[string]any{"user_id": uid, "oauth_clients": found, "browser_sessions": "not listable through the Okta API"}
	if len(left) > 0 {
		return c.evidence(false, fmt.Sprintf("OAuth refresh tokens of %s are still active for: %s", who, strings.Join(left, ", ")), read), nil
	}
	return c.evidence(true, fmt.Sprintf("no OAuth refresh token of %s remains (%d app client(s) checked). Okta has no API listing browser sessions, so those cannot be read back: the revoke call ended them and deactivation blocks new ones", who, len(clients)), read), nil
}

func (c *Connector) verifyGrants(ctx context.Context, uid, who string) (connector.Evidence, error) {
	grants, err := list[oktaGrant](ctx, c.client, userPath(uid, "grants"), limit200())
	if notFound(err) {
		return c.gone(uid, who, "grants"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	grants = slices.DeleteFunc(grants, func(g oktaGrant) bool { return !active(g.Status) })
	read := map[string]any{"user_id": uid, "active_grants": nonNil(grants)}
	if len(grants) > 0 {
		return c.evidence(false, fmt.Sprintf("%s still has %d active OAuth consent grant(s)", who, len(grants)), read), nil
	}
	return c.evidence(true, fmt.Sprintf("%s has no active OAuth consent grants", who), read), nil
}

func (c *Connector) verifyFactor(ctx context.Context, a connector.Action, uid, who string) (connector.Evidence, error) {
	factors, err := list[oktaFactor](ctx, c.client, userPath(uid, "factors"), nil)
	if notFound(err) {
		return c.gone(uid, who, "factors"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	i := slices.IndexFunc(factors, func(f oktaFactor) bool { return f.ID == a.Target })
	read := map[string]any{"user_id": uid, "factor_id": a.Target, "enrolled": i >= 0, "factors": nonNil(factors)}
	if i >= 0 {
		return c.evidence(false, fmt.Sprintf("factor %s (%s) of %s is still enrolled (%s)", a.Target, factors[i].FactorType, who, factors[i].Status), read), nil
	}
	return c.evidence(true, fmt.Sprintf("factor %s (%s) is no longer enrolled for %s", a.Target, a.Param("factor_type"), who), read), nil
}

func (c *Connector) verifyRole(ctx context.Context, a connector.Action, uid, who string) (connector.Evidence, error) {
	roles, err := list[oktaRole](ctx, c.client, userPath(uid, "roles"), nil)
	if notFound(err) {
		return c.gone(uid, who, "admin roles"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	i := slices.IndexFunc(roles, func(r oktaRole) bool { return r.ID == a.Target })
	read := map[string]any{"user_id": uid, "role_assignment_id": a.Target, "assigned": i >= 0, "roles": nonNil(roles)}
	if i >= 0 {
		return c.evidence(false, fmt.Sprintf("admin role %s (%s) is still assigned to %s", roles[i].Type, a.Target, who), read), nil
	}
	return c.evidence(true, fmt.Sprintf("admin role %s (%s) is no longer assigned to %s", a.Param("role_type"), a.Target, who), read), nil
}

type ruleEvidence struct {
	ID            string `json:"id"`
	Name          string `json:"name,omitempty"`
	Exists        bool   `json:"exists"`
	ExcludesUser  bool   `json:"excludes_user"`
	ReadError     string `json:"read_error,omitempty"`
	observedPhase string
}

// verifyGroup reads the user's groups (one read shared by concurrent calls) and, once the
// membership is gone, the rules that assigned the group, to record the exclusion Okta left.
func (c *Connector) verifyGroup(ctx context.Context, a connector.Action, uid, who string) (connector.Evidence, error) {
	groups, err := c.listGroupsShared(ctx, uid)
	if notFound(err) {
		return c.gone(uid, who, "group memberships"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	name := a.Param("group_name")
	member := slices.ContainsFunc(groups, func(g oktaGroup) bool { return g.ID == a.Target })
	read := map[string]any{"user_id": uid, "group_id": a.Target, "member": member, "groups_listed": len(groups)}
	if member {
		return c.evidence(false, fmt.Sprintf("%s is still a member of group %s (%s)", who, name, a.Target), read), nil
	}
	observed := fmt.Sprintf("%s is no longer a member of group %s (%s)", who, name, a.Target)
	if ids := a.Param("rule_id"); ids != "" {
		var rules []ruleEvidence
		for _, id := range strings.Split(ids, ",") {
			re, err := c.ruleExclusion(ctx, id, uid)
			if err != nil {
				return connector.Evidence{}, err
			}
			rules = append(rules, re)
			observed += "; " + re.observedPhase
		}
		read["rules"] = rules
	}
	return c.evidence(true, observed, read), nil
}

// ruleExclusion reads one group rule and reports whether it excludes the user. A rule that is
// gone, or that the token may not read, is evidence too, not a failed verification.
func (c *Connector) ruleExclusion(ctx context.Context, ruleID, uid string) (ruleEvidence, error) {
	var r oktaRule
	_, err := c.client.JSON(ctx, http.MethodGet, "/api/v1/groups/rules/"+connector.PathSegment(ruleID), nil, nil, &r)
	re := ruleEvidence{ID: ruleID}
	switch {
	case notFound(err):
		re.observedPhase = fmt.Sprintf("group rule %s no longer exists", ruleID)
	case connector.StatusOf(err) == http.StatusForbidden:
		re.Exists, re.ReadError = true, err.Error()
		re.observedPhase = fmt.Sprintf("group rule %s could not be read (okta.groups.read) to confirm the exclusion", ruleID)
	case err != nil:
		return re, err
	default:
		re.Exists, re.Name, re.ExcludesUser = true, r.Name, r.excludes(uid)
		if re.ExcludesUser {
			re.observedPhase = fmt.Sprintf("group rule %q (%s) now excludes the user: clear the exclusion if they are rehired", r.Name, ruleID)
		} else {
			re.observedPhase = fmt.Sprintf("group rule %q (%s) does not exclude the user (the membership was not the rule's)", r.Name, ruleID)
		}
	}
	return re, nil
}

func (c *Connector) verifyDeactivated(ctx context.Context, uid, who string) (connector.Evidence, error) {
	u, err := c.getUser(ctx, uid)
	if notFound(err) {
		return c.gone(uid, who, "account"), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	read := map[string]any{"id": u.ID, "status": u.Status, "transitioningToStatus": u.TransitioningToStatus}
	switch {
	case u.TransitioningToStatus != "":
		return c.evidence(false, "transitioning to "+u.TransitioningToStatus, read), nil
	case u.Status == deprovisioned:
		return c.evidence(true, fmt.Sprintf("user %s (%s) status DEPROVISIONED", uid, who), read), nil
	}
	return c.evidence(false, fmt.Sprintf("user %s (%s) status %s", uid, who, u.Status), read), nil
}

// nonNil keeps an empty list as [] rather than null in evidence.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

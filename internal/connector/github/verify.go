package github

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Verify reads GitHub back and reports whether the action's effect is in place. An error means
// the read failed, never that the access remains.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	if err := c.check(a); err != nil {
		return connector.Evidence{}, err
	}
	var ev connector.Evidence
	var err error
	switch a.Kind {
	case KindRevokeCredential:
		ev, err = c.verifyCredential(ctx, a)
	case KindCancelInvitation:
		ev, err = c.verifyInvitation(ctx, a)
	case KindRemoveOutsideCollaborator:
		ev, err = c.verifyOutside(ctx, a)
	case KindRemoveMember:
		ev, err = c.verifyMember(ctx, a)
	default:
		return connector.Evidence{}, unknownKind(a)
	}
	if err != nil {
		return connector.Evidence{}, fmt.Errorf("github: verify %s: %w", describe(a), err)
	}
	return ev, nil
}

func (c *Connector) evidence(verified bool, observed string, read any) connector.Evidence {
	return connector.Observe(verified, observed, read, c.now())
}

// verifyCredential lists the login's credential authorizations and looks for the one revoked.
func (c *Connector) verifyCredential(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	login := a.Param("login")
	creds, err := c.listCredentials(ctx, login)
	if errors.Is(err, errNoSAML) {
		return c.evidence(true, fmt.Sprintf("organization %s no longer has SAML SSO, so no credential authorization remains", c.org), map[string]any{"saml": false}), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	ids := make([]int64, len(creds))
	for i, k := range creds {
		ids[i] = k.CredentialID
		if strconv.FormatInt(k.CredentialID, 10) == a.Target {
			return c.evidence(false, fmt.Sprintf("%s's %s is still authorized for %s", login, k.describe(), c.org), map[string]any{"login": login, "credential_ids": ids}), nil
		}
	}
	return c.evidence(true, fmt.Sprintf("credential authorization %s is no longer listed for %s in %s (%d remain)", a.Target, login, c.org, len(creds)),
		map[string]any{"login": login, "credential_ids": ids}), nil
}

func (c *Connector) verifyInvitation(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	invs, err := c.listInvitations(ctx)
	if err != nil {
		return connector.Evidence{}, err
	}
	for _, inv := range invs {
		if strconv.FormatInt(inv.ID, 10) == a.Target {
			return c.evidence(false, fmt.Sprintf("invitation %s of %s to %s is still pending", a.Target, a.Param("invitee"), c.org), inv), nil
		}
	}
	// An invitation is also no longer pending once accepted: then the invitee is a member,
	// which no action of this plan removes, and the step must not look done.
	if login := a.Param("invitee_login"); login != "" {
		m, err := c.getMembership(ctx, login)
		if err != nil {
			return connector.Evidence{}, err
		}
		if m != nil && m.State == "active" {
			return c.evidence(false, fmt.Sprintf("invitation %s is no longer pending because %s accepted it: they are now a member of %s (role %s); remove them and plan again", a.Target, login, c.org, m.Role), m), nil
		}
	}
	return c.evidence(true, fmt.Sprintf("invitation %s is no longer pending in %s (%d pending)", a.Target, c.org, len(invs)),
		map[string]any{"invitation_id": a.Target, "pending": false}), nil
}

func (c *Connector) verifyOutside(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	users, err := c.listOutside(ctx)
	if err != nil {
		return connector.Evidence{}, err
	}
	if isOutside(users, a.Target) {
		return c.evidence(false, fmt.Sprintf("%s is still an outside collaborator in %s", a.Target, c.org), map[string]any{"login": a.Target, "outside_collaborator": true}), nil
	}
	return c.evidence(true, fmt.Sprintf("%s is not an outside collaborator in %s", a.Target, c.org), map[string]any{"login": a.Target, "outside_collaborator": false}), nil
}

func (c *Connector) verifyMember(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	m, err := c.getMembership(ctx, a.Target)
	if err != nil {
		return connector.Evidence{}, err
	}
	if m != nil {
		return c.evidence(false, fmt.Sprintf("%s is still a %s member of %s (role %s)", a.Target, m.State, c.org, m.Role), m), nil
	}
	return c.evidence(true, fmt.Sprintf("%s has no membership in %s (GET membership answers 404)", a.Target, c.org), map[string]any{"login": a.Target, "membership": nil}), nil
}

package github

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Apply makes one planned change. It is idempotent: GitHub answers 404 to removing what is
// already gone, which is success.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	if err := c.check(a); err != nil {
		return err
	}
	var err error
	switch a.Kind {
	case KindRevokeCredential:
		err = c.del(ctx, c.orgPath("credential-authorizations", a.Target))
	case KindCancelInvitation:
		err = c.del(ctx, c.orgPath("invitations", a.Target))
	case KindRemoveOutsideCollaborator:
		err = c.del(ctx, c.orgPath("outside_collaborators", a.Target))
		if connector.StatusOf(err) == http.StatusUnprocessableEntity {
			// GitHub's 422: the login has become an organization member since the plan.
			return connector.Permanent(fmt.Errorf("github: %s: %s is now a member of %s, not an outside collaborator; plan again to remove the membership: %w", describe(a), a.Target, c.org, err))
		}
	case KindRemoveMember:
		err = c.del(ctx, c.orgPath("memberships", a.Target))
		if connector.StatusOf(err) == http.StatusForbidden {
			return c.memberRefused(ctx, a, err)
		}
	default:
		return unknownKind(a)
	}
	if err == nil {
		return nil
	}
	if connector.StatusOf(err) == http.StatusForbidden {
		return connector.Permanent(fmt.Errorf("github: %s: refused: the token needs an organization owner with the admin:org scope: %w", describe(a), err))
	}
	return fmt.Errorf("github: %s: %w", describe(a), err)
}

// memberRefused explains a 403 from removing a member: most often the login is the last owner.
func (c *Connector) memberRefused(ctx context.Context, a connector.Action, err error) error {
	if m, rerr := c.getMembership(ctx, a.Target); rerr == nil && m == nil {
		return nil // gone after all
	}
	hint := "the token needs an organization owner with the admin:org scope"
	if n, rerr := c.ownerCount(ctx); rerr == nil && n <= 1 && a.Param("role") == "admin" {
		hint = "it is the organization's last owner, and GitHub refuses to remove the last owner; make someone else an owner first"
	} else if strings.Contains(strings.ToLower(err.Error()), "last owner") {
		hint = "GitHub refuses to remove the organization's last owner; make someone else an owner first"
	}
	return connector.Permanent(fmt.Errorf("github: %s: refused: %s: %w", describe(a), hint, err))
}

// check rejects actions this connector did not plan, or planned for another organization.
func (c *Connector) check(a connector.Action) error {
	if a.Target == "" {
		return connector.Permanent(fmt.Errorf("github: action %s has no target; it was not planned by this connector", a.Key()))
	}
	if org := a.Param("org"); org != "" && !strings.EqualFold(org, c.org) {
		return connector.Permanent(fmt.Errorf("github: action %s was planned for organization %s, but this connector manages %s", a.Key(), org, c.org))
	}
	if a.Kind == KindRevokeCredential || a.Kind == KindCancelInvitation {
		if _, err := strconv.ParseInt(a.Target, 10, 64); err != nil {
			return connector.Permanent(fmt.Errorf("github: action %s: target %q is not a numeric ID", a.Key(), a.Target))
		}
	}
	return nil
}

func unknownKind(a connector.Action) error {
	return connector.Permanent(fmt.Errorf("github: unknown action kind %q (action %s)", a.Kind, a.Key()))
}

// describe names an action's change briefly, for errors.
func describe(a connector.Action) string {
	who := a.Param("login")
	switch a.Kind {
	case KindRevokeCredential:
		return fmt.Sprintf("revoke credential authorization %s of %s", a.Target, who)
	case KindCancelInvitation:
		return fmt.Sprintf("cancel invitation %s of %s", a.Target, a.Param("invitee"))
	case KindRemoveOutsideCollaborator:
		return fmt.Sprintf("remove outside collaborator %s from org %s", a.Target, a.Param("org"))
	case KindRemoveMember:
		return fmt.Sprintf("remove %s from org %s", a.Target, a.Param("org"))
	}
	return a.Kind + " " + a.Target
}

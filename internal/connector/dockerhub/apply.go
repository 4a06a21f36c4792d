package dockerhub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Apply makes one planned change. It is idempotent: Docker Hub answers 404 for an invitation
// already cancelled or a member already removed, and that is success.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	if err := c.owns(a); err != nil {
		return err
	}
	var path string
	switch a.Kind {
	case KindCancelInvite:
		path = "/v2/invites/" + url.PathEscape(a.Target)
	case KindRemoveMember:
		path = c.orgPath("members", url.PathEscape(a.Target))
	default:
		return unknownKind(a)
	}
	_, err := c.do(ctx, connector.Request{Method: http.MethodDelete, Path: path})
	switch {
	case err == nil, errors.Is(err, connector.ErrNotFound):
		return nil
	case connector.StatusOf(err) == http.StatusForbidden:
		return connector.Permanent(fmt.Errorf("dockerhub: %s: refused: the organization access token may not manage %s's members and invites (it must be an organization access token with member management, created by an owner): %w", describe(a), c.org, err))
	case connector.StatusOf(err) == http.StatusBadRequest && a.Kind == KindRemoveMember:
		return connector.Permanent(fmt.Errorf("dockerhub: %s: refused: Docker Hub does not remove the last owner of an organization; make another member an owner, then retry: %w", describe(a), err))
	}
	return fmt.Errorf("dockerhub: %s: %w", describe(a), err)
}

// owns refuses actions that are not this connector's, or were planned for another organization.
func (c *Connector) owns(a connector.Action) error {
	if a.Target == "" {
		return connector.Permanent(fmt.Errorf("dockerhub: action %s has no target; it was not planned by this connector", a.Key()))
	}
	if org := a.Param("org"); org != "" && !strings.EqualFold(org, c.org) {
		return connector.Permanent(fmt.Errorf("dockerhub: action %s was planned for organization %s, but this connector manages %s", a.Key(), org, c.org))
	}
	return nil
}

func unknownKind(a connector.Action) error {
	return connector.Permanent(fmt.Errorf("dockerhub: unknown action kind %q (action %s)", a.Kind, a.Key()))
}

func describe(a connector.Action) string {
	switch a.Kind {
	case KindCancelInvite:
		return fmt.Sprintf("cancel invite %s for %s", a.Target, a.Param("invitee"))
	case KindRemoveMember:
		return fmt.Sprintf("remove %s from organization %s", a.Target, a.Param("org"))
	}
	return a.Kind + " " + a.Target
}

// Verify reads Docker Hub back: the invitation must be gone from the pending list, or the
// username from the organization's members. An error means the read failed.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	if err := c.owns(a); err != nil {
		return connector.Evidence{}, err
	}
	switch a.Kind {
	case KindCancelInvite:
		invites, err := c.listInvites(ctx)
		if err != nil {
			return connector.Evidence{}, fmt.Errorf("dockerhub: verify %s: %w", describe(a), err)
		}
		for _, inv := range invites {
			if inv.ID == a.Target {
				return c.evidence(false, fmt.Sprintf("invite %s for %s to %s is still pending", inv.ID, inv.Invitee, c.org), inv), nil
			}
		}
		// An invite is also no longer pending once accepted: then the invitee is a member,
		// which the step must not hide by looking done.
		if invitee := a.Param("invitee"); invitee != "" && a.Param("member_when_planned") == "false" {
			by := "handle"
			if strings.Contains(invitee, "@") {
				by = "email"
			}
			found, err := c.findMembers(ctx, invitee, by)
			if err != nil {
				return connector.Evidence{}, fmt.Errorf("dockerhub: verify %s: %w", describe(a), err)
			}
			if len(found) > 0 {
				return c.evidence(false, fmt.Sprintf("invite %s is no longer pending because %s accepted it: %s is now a member of %s; remove them and plan again", a.Target, invitee, found[0].Username, c.org), found[0]), nil
			}
		}
		return c.evidence(true, fmt.Sprintf("invite %s is no longer among the %d pending invites of %s", a.Target, len(invites), c.org),
			map[string]any{"invite_id": a.Target, "pending": false, "pending_invites": len(invites)}), nil
	case KindRemoveMember:
		found, err := c.findMembers(ctx, a.Target, "handle")
		if err != nil {
			return connector.Evidence{}, fmt.Errorf("dockerhub: verify %s: %w", describe(a), err)
		}
		if len(found) > 0 {
			m := found[0]
			return c.evidence(false, fmt.Sprintf("%s is still a member of %s (role %s, teams %s)", m.Username, c.org, m.Role, strings.Join(m.Groups, ", ")), m), nil
		}
		return c.evidence(true, fmt.Sprintf("%s is not a member of %s (searched the member list for the username)", a.Target, c.org),
			map[string]any{"org": c.org, "username": a.Target, "member": false}), nil
	}
	return connector.Evidence{}, unknownKind(a)
}

func (c *Connector) evidence(verified bool, observed string, read any) connector.Evidence {
	return connector.Observe(verified, observed, read, c.now())
}

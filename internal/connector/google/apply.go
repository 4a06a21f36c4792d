package google

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Apply makes one planned change. It is idempotent: a removal whose target is already gone
// (Google answers 404) succeeds; turning off 2-Step Verification, suspending and transferring
// data read first and do nothing when the effect is already in place, so a call that is not
// safe to repeat is never repeated blindly; confirming a transfer only reads.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	uid, err := actionUser(a)
	if err != nil {
		return err
	}
	switch a.Kind {
	case KindTransferData:
		return c.transfer(ctx, a, uid)
	case KindConfirmTransfer:
		return c.confirmTransfer(ctx, a, uid)
	case KindSignOut:
		err = c.post(ctx, userPath(uid, "signOut"))
		if err == nil {
			c.mu.Lock()
			c.signedOut[uid] = c.now().UTC()
			c.mu.Unlock()
		}
	case KindRevokeToken:
		err = c.remove(ctx, userPath(uid, "tokens", connector.PathSegment(a.Target)))
	case KindDeleteASP:
		if _, perr := strconv.Atoi(a.Target); perr != nil {
			return connector.Permanent(fmt.Errorf("google: action %s: app-specific password ID %q is not a number", a.Key(), a.Target))
		}
		err = c.remove(ctx, userPath(uid, "asps", connector.PathSegment(a.Target)))
	case KindInvalidateCode:
		err = c.post(ctx, userPath(uid, "verificationCodes", "invalidate"))
	case KindTurnOff2SV:
		return c.turnOff2SV(ctx, a, uid)
	case KindRemoveGroup:
		err = c.remove(ctx, dirPrefix+"/groups/"+connector.PathSegment(a.Target)+"/members/"+connector.PathSegment(uid))
	case KindSuspend:
		return c.suspend(ctx, a, uid)
	default:
		return unknownKind(a)
	}
	if errors.Is(err, connector.ErrNotFound) {
		// The user (or the group, token or password) is gone: nothing is left to remove.
		return nil
	}
	if err != nil {
		return c.refused(a, err)
	}
	return nil
}

func actionUser(a connector.Action) (string, error) {
	uid := a.Param("user_id")
	if uid == "" || a.Target == "" {
		return "", connector.Permanent(fmt.Errorf("google: action %s has no user_id or target; it was not planned by this connector", a.Key()))
	}
	return uid, nil
}

func unknownKind(a connector.Action) error {
	return connector.Permanent(fmt.Errorf("google: unknown action kind %q (action %s)", a.Kind, a.Key()))
}

func (c *Connector) remove(ctx context.Context, path string) error {
	_, err := c.do(ctx, c.client, connector.Request{Method: http.MethodDelete, Path: path}, nil)
	return err
}

func (c *Connector) post(ctx context.Context, path string) error {
	_, err := c.do(ctx, c.client, connector.Request{Method: http.MethodPost, Path: path}, nil)
	return err
}

// refused wraps a failed change with what to do about it: a 403 (never throttling, which the
// client waits out) is a missing permission.
func (c *Connector) refused(a connector.Action, err error) error {
	if connector.StatusOf(err) == http.StatusForbidden {
		return connector.Permanent(fmt.Errorf("google: %s: refused: %s: %w", describe(a), refusalHint(a.Kind, connector.CodeOf(err)), err))
	}
	return fmt.Errorf("google: %s: %w", describe(a), err)
}

func refusalHint(kind, reason string) string {
	if reason == "insufficientPermissions" {
		switch kind {
		case KindRemoveGroup:
			return "the service account lacks the scope admin.directory.group.member (grant it through domain-wide delegation)"
		case KindSuspend:
			return "the service account lacks the scope admin.directory.user"
		case KindTransferData, KindConfirmTransfer:
			return "the service account lacks the scope admin.datatransfer"
		default:
			return "the service account lacks the scope admin.directory.user.security"
		}
	}
	return "the impersonated administrator (admin_email) may not make this change; it must be a super administrator"
}

// turnOff2SV turns 2-Step Verification off unless it already is. Google refuses while a
// policy enforces 2SV for the user; that refusal is reported as such, for a human to decide.
func (c *Connector) turnOff2SV(ctx context.Context, a connector.Action, uid string) error {
	u, err := c.getUser(ctx, uid)
	if errors.Is(err, connector.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("google: %s: read the user first: %w", describe(a), err)
	}
	if !u.IsEnrolledIn2Sv {
		return nil
	}
	err = c.post(ctx, userPath(uid, "twoStepVerification", "turnOff"))
	if err == nil || errors.Is(err, connector.ErrNotFound) {
		return nil
	}
	if s := connector.StatusOf(err); s >= 400 && s < 500 && s != http.StatusForbidden {
		// Google refuses when the user is not enrolled (done meanwhile) or when 2SV became
		// enforced since the read: read again to tell which.
		if u, rerr := c.getUser(ctx, uid); rerr == nil {
			switch {
			case !u.IsEnrolledIn2Sv:
				return nil
			case u.IsEnforcedIn2Sv:
				return connector.Permanent(fmt.Errorf("google: %s: Google refused because 2-Step Verification is enforced by policy for %s's organizational unit; move the user to an organizational unit without enforcement and retry, or skip this step (suspension blocks every sign-in): %w", describe(a), u.PrimaryEmail, err))
			}
		}
		return connector.Permanent(fmt.Errorf("google: %s: Google refused (the user may use Advanced Protection, which the API cannot turn off): %w", describe(a), err))
	}
	return c.refused(a, err)
}

// suspend suspends the user unless they already are.
func (c *Connector) suspend(ctx context.Context, a connector.Action, uid string) error {
	u, err := c.getUser(ctx, uid)
	if errors.Is(err, connector.ErrNotFound) {
		return nil // deleted: nothing is left to suspend
	}
	if err != nil {
		return fmt.Errorf("google: %s: read the user first: %w", describe(a), err)
	}
	if u.Suspended {
		return nil
	}
	_, err = c.do(ctx, c.client, connector.Request{Method: http.MethodPatch, Path: userPath(uid), JSON: map[string]bool{"suspended": true}}, nil)
	if err != nil {
		return c.refused(a, err)
	}
	return nil
}

// describe names an action's change briefly, for errors.
func describe(a connector.Action) string {
	who := a.Param("email")
	if who == "" {
		who = a.Param("user_id")
	}
	switch a.Kind {
	case KindTransferData:
		return fmt.Sprintf("transfer data of %s to %s", who, a.Param("new_owner_email"))
	case KindConfirmTransfer:
		return fmt.Sprintf("confirm the data transfer of %s to %s", who, a.Param("new_owner_email"))
	case KindSignOut:
		return "sign out " + who
	case KindRevokeToken:
		return fmt.Sprintf("revoke OAuth tokens of %s for %s (%s)", who, a.Param("app"), a.Target)
	case KindDeleteASP:
		return fmt.Sprintf("delete app-specific password %s of %s", a.Target, who)
	case KindInvalidateCode:
		return "invalidate backup codes of " + who
	case KindTurnOff2SV:
		return "turn off 2-Step Verification of " + who
	case KindRemoveGroup:
		return fmt.Sprintf("remove %s from group %s (%s)", who, a.Param("group_email"), a.Target)
	case KindSuspend:
		return "suspend " + who
	}
	return a.Kind + " " + a.Target
}

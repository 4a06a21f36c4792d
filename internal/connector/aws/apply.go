package aws

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Apply makes one planned change. It is idempotent: IAM answers NoSuchEntity for something
// already removed (or a user already deleted), which is success; the deny policy and the
// offboarded mark are rewritten with a cutoff that never moves backwards.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	user := a.Param("user")
	if user == "" || a.Target == "" {
		return connector.Permanent(fmt.Errorf("%s: action %s has no user or target; it was not planned by this connector", c.name, a.Key()))
	}
	u := sdk.String(user)
	var err error
	switch a.Kind {
	case KindDenySessions:
		err = c.applyDeny(ctx, user, parseStamp(a.Param("prior_cutoff")))
	case KindDeleteLoginProfile:
		err = remove(ctx, c, "DeleteLoginProfile", func(ctx context.Context) (*iam.DeleteLoginProfileOutput, error) {
			return c.iam.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: u})
		})
	case KindDeactivateAccessKey:
		err = remove(ctx, c, "UpdateAccessKey", func(ctx context.Context) (*iam.UpdateAccessKeyOutput, error) {
			return c.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: u, AccessKeyId: sdk.String(a.Target), Status: types.StatusTypeInactive})
		})
	case KindDeleteAccessKey:
		err = remove(ctx, c, "DeleteAccessKey", func(ctx context.Context) (*iam.DeleteAccessKeyOutput, error) {
			return c.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: u, AccessKeyId: sdk.String(a.Target)})
		})
	case KindRemoveMFADevice:
		err = c.removeMFA(ctx, u, a.Target, a.Param("virtual") == "true")
	case KindDeleteSSHKey:
		err = remove(ctx, c, "DeleteSSHPublicKey", func(ctx context.Context) (*iam.DeleteSSHPublicKeyOutput, error) {
			return c.iam.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: u, SSHPublicKeyId: sdk.String(a.Target)})
		})
	case KindDeleteSigningCert:
		err = remove(ctx, c, "DeleteSigningCertificate", func(ctx context.Context) (*iam.DeleteSigningCertificateOutput, error) {
			return c.iam.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: u, CertificateId: sdk.String(a.Target)})
		})
	case KindDeleteServiceCred:
		err = remove(ctx, c, "DeleteServiceSpecificCredential", func(ctx context.Context) (*iam.DeleteServiceSpecificCredentialOutput, error) {
			return c.iam.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: u, ServiceSpecificCredentialId: sdk.String(a.Target)})
		})
	case KindRemoveGroup:
		err = remove(ctx, c, "RemoveUserFromGroup", func(ctx context.Context) (*iam.RemoveUserFromGroupOutput, error) {
			return c.iam.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: u, GroupName: sdk.String(a.Target)})
		})
	case KindDetachPolicy:
		err = remove(ctx, c, "DetachUserPolicy", func(ctx context.Context) (*iam.DetachUserPolicyOutput, error) {
			return c.iam.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: u, PolicyArn: sdk.String(a.Target)})
		})
	case KindDeleteInlinePolicy:
		if a.Target == DenyPolicyName {
			return connector.Permanent(fmt.Errorf("%s: refusing to delete %s of %s as an ordinary inline policy; it is removed only with the user", c.name, DenyPolicyName, user))
		}
		err = c.deleteInline(ctx, u, a.Target)
	case KindMarkOffboarded:
		err = c.markOffboarded(ctx, user, parseStamp(a.Param("prior_mark")))
	case KindDeleteUser:
		err = c.removeUser(ctx, user)
	default:
		return connector.Permanent(fmt.Errorf("%s: unknown action kind %q (action %s)", c.name, a.Kind, a.Key()))
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", c.name, describe(a), err)
	}
	return nil
}

// remove makes one removal call; NoSuchEntity means it is already gone.
func remove[T any](ctx context.Context, c *Connector, op string, fn func(context.Context) (T, error)) error {
	_, err := call(ctx, c, op, fn)
	if isNotFound(err) {
		return nil
	}
	return err
}

func (c *Connector) deleteInline(ctx context.Context, u *string, policy string) error {
	return remove(ctx, c, "DeleteUserPolicy", func(ctx context.Context) (*iam.DeleteUserPolicyOutput, error) {
		return c.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: u, PolicyName: sdk.String(policy)})
	})
}

// removeMFA deactivates the device (which deletes U2F devices) and then deletes a virtual
// device, which would otherwise linger unassigned in the account. A device already
// deactivated (NoSuchEntity) still has its virtual device deleted on a retry.
func (c *Connector) removeMFA(ctx context.Context, u *string, serial string, virtual bool) error {
	if err := remove(ctx, c, "DeactivateMFADevice", func(ctx context.Context) (*iam.DeactivateMFADeviceOutput, error) {
		return c.iam.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: u, SerialNumber: sdk.String(serial)})
	}); err != nil || !virtual {
		return err
	}
	return remove(ctx, c, "DeleteVirtualMFADevice", func(ctx context.Context) (*iam.DeleteVirtualMFADeviceOutput, error) {
		return c.iam.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: sdk.String(serial)})
	})
}

// cutoff is the issue time the deny policy is written with: now plus skewMargin, rounded up
// to the second, but never earlier than the cutoff already in place (coverage only grows),
// and always later than prior (what the plan saw), so that verification can tell this write
// from an earlier one. IAM compares the cutoff with token issue times on AWS's clock; the
// margin keeps a session issued just before the call covered when this host's clock is
// behind, and denying a leaver's sessions issued a minute later costs nothing.
func (c *Connector) cutoff(existing, prior time.Time) time.Time {
	now := c.now().UTC().Add(skewMargin)
	t := now.Truncate(time.Second)
	if t.Before(now) {
		t = t.Add(time.Second)
	}
	if existing.After(t) {
		t = existing
	}
	if !prior.IsZero() && !t.After(prior) {
		t = prior.Add(time.Second)
	}
	return t
}

func (c *Connector) existingCutoff(ctx context.Context, user string) (time.Time, error) {
	t, _, err := c.denyPolicy(ctx, user)
	if isNotFound(err) {
		return time.Time{}, nil
	}
	return t, err
}

func (c *Connector) applyDeny(ctx context.Context, user string, prior time.Time) error {
	existing, err := c.existingCutoff(ctx, user)
	if err != nil {
		return err
	}
	return c.putDeny(ctx, user, c.cutoff(existing, prior))
}

// putDeny writes the deny policy. A user that no longer exists has no session to end.
func (c *Connector) putDeny(ctx context.Context, user string, cutoff time.Time) error {
	err := remove(ctx, c, "PutUserPolicy", func(ctx context.Context) (*iam.PutUserPolicyOutput, error) {
		return c.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: sdk.String(user), PolicyName: sdk.String(DenyPolicyName), PolicyDocument: sdk.String(denyDocument(cutoff))})
	})
	if connector.CodeOf(err) == "LimitExceeded" {
		return connector.Permanent(fmt.Errorf("the user's inline policies already fill IAM's 2,048-character quota, so %s cannot be added; delete or shorten one of the user's inline policies by hand, then retry: %w", DenyPolicyName, err))
	}
	return err
}

// markOffboarded renews the deny policy to now, which also covers any session issued while
// credentials were being removed, then tags the user offboarded-at with the same time.
func (c *Connector) markOffboarded(ctx context.Context, user string, prior time.Time) error {
	existing, err := c.existingCutoff(ctx, user)
	if err != nil {
		return err
	}
	t := c.cutoff(existing, prior)
	// The renewed deny and the tag are written together: verification accepts the mark only
	// when the deny reaches the tag's time, so a half-done pair is retried, never trusted.
	var denyErr, tagErr error
	var wg sync.WaitGroup
	wg.Go(func() { denyErr = c.putDeny(ctx, user, t) })
	wg.Go(func() {
		tagErr = remove(ctx, c, "TagUser", func(ctx context.Context) (*iam.TagUserOutput, error) {
			return c.iam.TagUser(ctx, &iam.TagUserInput{UserName: sdk.String(user), Tags: []types.Tag{{Key: sdk.String(OffboardedTag), Value: sdk.String(t.Format(time.RFC3339))}}})
		})
	})
	wg.Wait()
	return errors.Join(denyErr, tagErr)
}

// removeUser deletes the deny policy (IAM refuses to delete a user holding any policy) and
// then the user. Should IAM still refuse (something was added meanwhile, or it has not caught
// up with the removals), the deny policy is put back before the error is returned, so the
// user is never left without it.
func (c *Connector) removeUser(ctx context.Context, user string) error {
	if err := c.deleteInline(ctx, sdk.String(user), DenyPolicyName); err != nil {
		return err
	}
	err := remove(ctx, c, "DeleteUser", func(ctx context.Context) (*iam.DeleteUserOutput, error) {
		return c.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: sdk.String(user)})
	})
	if err == nil {
		return nil
	}
	if perr := c.putDeny(ctx, user, c.cutoff(time.Time{}, time.Time{})); perr != nil {
		return fmt.Errorf("%w; and putting %s back failed: %v", err, DenyPolicyName, perr)
	}
	return err
}

func parseStamp(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// describe names an action's change briefly, for errors.
func describe(a connector.Action) string {
	user := a.Param("user")
	switch a.Kind {
	case KindDenySessions:
		return "deny sessions of " + user
	case KindDeleteLoginProfile:
		return "delete the console password of " + user
	case KindDeactivateAccessKey:
		return fmt.Sprintf("deactivate access key %s of %s", a.Target, user)
	case KindDeleteAccessKey:
		return fmt.Sprintf("delete access key %s of %s", a.Target, user)
	case KindRemoveMFADevice:
		return fmt.Sprintf("remove MFA device %s of %s", a.Target, user)
	case KindDeleteSSHKey:
		return fmt.Sprintf("delete SSH public key %s of %s", a.Target, user)
	case KindDeleteSigningCert:
		return fmt.Sprintf("delete signing certificate %s of %s", a.Target, user)
	case KindDeleteServiceCred:
		return fmt.Sprintf("delete service-specific credential %s of %s", a.Target, user)
	case KindRemoveGroup:
		return fmt.Sprintf("remove %s from group %s", user, a.Target)
	case KindDetachPolicy:
		return fmt.Sprintf("detach policy %s from %s", a.Target, user)
	case KindDeleteInlinePolicy:
		return fmt.Sprintf("delete inline policy %s of %s", a.Target, user)
	case KindMarkOffboarded:
		return "mark " + user + " offboarded"
	case KindDeleteUser:
		return "delete IAM user " + user
	}
	return a.Kind + " " + a.Target
}

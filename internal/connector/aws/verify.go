package aws

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Verify reads IAM back and reports whether the action's effect is in place. An error means
// the read failed, never that the access remains. A user that no longer exists holds nothing,
// so every action on it is verified.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	user := a.Param("user")
	if user == "" || a.Target == "" {
		return connector.Evidence{}, connector.Permanent(fmt.Errorf("%s: action %s has no user or target; it was not planned by this connector", c.name, a.Key()))
	}
	var ev connector.Evidence
	var err error
	switch a.Kind {
	case KindDenySessions:
		ev, err = c.verifyDeny(ctx, user, parseStamp(a.Param("prior_cutoff")))
	case KindDeleteLoginProfile:
		ev, err = c.verifyLoginProfile(ctx, user)
	case KindDeactivateAccessKey, KindDeleteAccessKey:
		ev, err = c.verifyKey(ctx, a, user)
	case KindRemoveMFADevice:
		ev, err = verifyAbsent(ctx, c, a, "MFA device", c.mfaDevices, func(d mfaDevice) string { return d.Serial })
	case KindDeleteSSHKey:
		ev, err = verifyAbsent(ctx, c, a, "SSH public key", c.sshKeys, credID)
	case KindDeleteSigningCert:
		ev, err = verifyAbsent(ctx, c, a, "signing certificate", c.signingCerts, credID)
	case KindDeleteServiceCred:
		ev, err = verifyAbsent(ctx, c, a, "service-specific credential", c.serviceCreds, credID)
	case KindRemoveGroup:
		ev, err = verifyAbsent(ctx, c, a, "membership of group", c.groups, func(n named) string { return n.Name })
	case KindDetachPolicy:
		ev, err = verifyAbsent(ctx, c, a, "attached policy", c.attachedPolicies, func(n named) string { return n.ARN })
	case KindDeleteInlinePolicy:
		ev, err = verifyAbsent(ctx, c, a, "inline policy", c.inlinePolicies, func(n string) string { return n })
	case KindMarkOffboarded:
		ev, err = c.verifyMark(ctx, user, parseStamp(a.Param("prior_mark")))
	case KindDeleteUser:
		ev, err = c.verifyUserDeleted(ctx, user)
	default:
		return connector.Evidence{}, connector.Permanent(fmt.Errorf("%s: unknown action kind %q (action %s)", c.name, a.Kind, a.Key()))
	}
	if err != nil {
		return connector.Evidence{}, fmt.Errorf("%s: verify %s: %w", c.name, describe(a), err)
	}
	return ev, nil
}

func credID(k credential) string { return k.ID }

func (c *Connector) evidence(verified bool, observed string, read any) connector.Evidence {
	return connector.Observe(verified, observed, read, c.now())
}

func (c *Connector) userGone(user, what string) connector.Evidence {
	return connector.UserGone(c.name, user, "IAM user", what, c.now())
}

// verifyAbsent lists the user's items of one sort and checks the action's target is not
// among them.
func verifyAbsent[T any](ctx context.Context, c *Connector, a connector.Action, what string, list func(context.Context, string) ([]T, error), id func(T) string) (connector.Evidence, error) {
	user := a.Param("user")
	items, err := list(ctx, user)
	if isNotFound(err) {
		return c.userGone(user, what+" "+a.Target), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	for _, it := range items {
		if id(it) == a.Target {
			return c.evidence(false, fmt.Sprintf("IAM user %s still holds %s %s", user, what, a.Target), it), nil
		}
	}
	if items == nil {
		items = []T{}
	}
	return c.evidence(true, fmt.Sprintf("IAM user %s no longer holds %s %s (%d of that sort left)", user, what, a.Target, len(items)),
		map[string]any{"user": user, "remaining": items}), nil
}

func (c *Connector) verifyLoginProfile(ctx context.Context, user string) (connector.Evidence, error) {
	created, err := c.loginProfile(ctx, user)
	if err != nil {
		return connector.Evidence{}, err
	}
	if created != nil {
		return c.evidence(false, fmt.Sprintf("IAM user %s still has a console password (created %s)", user, stampOrEmpty(*created)),
			map[string]any{"user": user, "login_profile_created": stampOrEmpty(*created)}), nil
	}
	return c.evidence(true, fmt.Sprintf("IAM user %s has no console password (GetLoginProfile: NoSuchEntity)", user),
		map[string]any{"user": user, "login_profile": nil}), nil
}

// verifyKey reads the user's keys: a deactivation is in place when the key is Inactive or
// gone, a deletion when it is gone.
func (c *Connector) verifyKey(ctx context.Context, a connector.Action, user string) (connector.Evidence, error) {
	keys, err := c.accessKeys(ctx, user)
	if isNotFound(err) {
		return c.userGone(user, "access key "+a.Target), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	for _, k := range keys {
		if k.ID != a.Target {
			continue
		}
		if a.Kind == KindDeactivateAccessKey && k.Status == "Inactive" {
			return c.evidence(true, fmt.Sprintf("access key %s of IAM user %s is Inactive", k.ID, user), k), nil
		}
		return c.evidence(false, fmt.Sprintf("access key %s of IAM user %s still exists (%s)", k.ID, user, k.Status), k), nil
	}
	return c.evidence(true, fmt.Sprintf("IAM user %s no longer has access key %s (%d key(s) left)", user, a.Target, len(keys)),
		map[string]any{"user": user, "access_keys": nonNil(keys)}), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// verifyDeny reads the deny policy back: it must be ours and newer than what the plan saw.
func (c *Connector) verifyDeny(ctx context.Context, user string, prior time.Time) (connector.Evidence, error) {
	cutoff, doc, err := c.denyPolicy(ctx, user)
	if isNotFound(err) {
		if u, gerr := c.getUser(ctx, user); gerr != nil || u == nil {
			if gerr != nil {
				return connector.Evidence{}, gerr
			}
			return c.userGone(user, "session"), nil
		}
		return c.evidence(false, fmt.Sprintf("IAM user %s has no inline policy %s", user, DenyPolicyName), map[string]any{"user": user, "policy": nil}), nil
	}
	if err != nil {
		return connector.Evidence{}, err
	}
	read := map[string]any{"user": user, "policy": DenyPolicyName, "document": doc}
	switch {
	case cutoff.IsZero():
		return c.evidence(false, fmt.Sprintf("inline policy %s of IAM user %s is not the deny-everything policy offboard writes", DenyPolicyName, user), read), nil
	case !prior.IsZero() && !cutoff.After(prior):
		return c.evidence(false, fmt.Sprintf("inline policy %s of IAM user %s still denies only credentials issued before %s, as when planned", DenyPolicyName, user, stampOrEmpty(cutoff)), read), nil
	}
	return c.evidence(true, fmt.Sprintf("inline policy %s of IAM user %s denies every action to credentials issued before %s", DenyPolicyName, user, stampOrEmpty(cutoff)), read), nil
}

// verifyMark reads the offboarded-at tag and the deny policy: the tag is newer than the plan
// saw and the deny reaches at least as far. It also reads the console password and access
// keys once more: the removals were verified before the mark, so any found now were created
// after the plan, which no action of this case removes, and the case must not look finished.
func (c *Connector) verifyMark(ctx context.Context, user string, prior time.Time) (connector.Evidence, error) {
	// The reads are independent; made together they cost one round trip.
	var (
		tags                            map[string]string
		cutoff                          time.Time
		password                        *time.Time
		keys                            []accessKey
		tagsErr, denyErr, pwErr, keyErr error
		wg                              sync.WaitGroup
	)
	wg.Go(func() { tags, tagsErr = c.listTags(ctx, user) })
	wg.Go(func() { cutoff, _, denyErr = c.denyPolicy(ctx, user) })
	wg.Go(func() { password, pwErr = c.loginProfile(ctx, user) })
	wg.Go(func() { keys, keyErr = c.accessKeys(ctx, user) })
	wg.Wait()
	if isNotFound(tagsErr) {
		return c.userGone(user, "access"), nil
	}
	for _, err := range []error{tagsErr, pwErr, keyErr} {
		if err != nil && !isNotFound(err) {
			return connector.Evidence{}, err
		}
	}
	if denyErr != nil && !isNotFound(denyErr) {
		return connector.Evidence{}, denyErr
	}
	mark, ok := offboardedAt(tags)
	read := map[string]any{"user": user, "tags": tags, "deny_cutoff": stampOrEmpty(cutoff), "console_password": password != nil, "access_keys": nonNilKeys(keys)}
	var late []string
	if password != nil {
		late = append(late, "a console password")
	}
	for _, k := range keys {
		late = append(late, "access key "+k.ID)
	}
	switch {
	case len(late) > 0:
		return c.evidence(false, fmt.Sprintf("IAM user %s holds %s created after the plan, which this case does not remove (the deny policy keeps them from working); remove them and plan again", user, strings.Join(late, " and ")), read), nil
	case !ok:
		return c.evidence(false, fmt.Sprintf("IAM user %s has no valid %s tag", user, OffboardedTag), read), nil
	case !prior.IsZero() && !mark.After(prior):
		return c.evidence(false, fmt.Sprintf("IAM user %s is still tagged %s=%s, as when planned", user, OffboardedTag, stampOrEmpty(mark)), read), nil
	case cutoff.Before(mark):
		return c.evidence(false, fmt.Sprintf("IAM user %s is tagged %s=%s but %s denies only credentials issued before %q", user, OffboardedTag, stampOrEmpty(mark), DenyPolicyName, stampOrEmpty(cutoff)), read), nil
	}
	return c.evidence(true, fmt.Sprintf("IAM user %s is tagged %s=%s and %s denies everything to credentials issued before %s", user, OffboardedTag, stampOrEmpty(mark), DenyPolicyName, stampOrEmpty(cutoff)), read), nil
}

func (c *Connector) verifyUserDeleted(ctx context.Context, user string) (connector.Evidence, error) {
	u, err := c.getUser(ctx, user)
	if err != nil {
		return connector.Evidence{}, err
	}
	if u != nil {
		return c.evidence(false, fmt.Sprintf("IAM user %s (%s) still exists", u.Name, u.ARN), u), nil
	}
	return c.evidence(true, fmt.Sprintf("IAM user %s no longer exists (GetUser: NoSuchEntity)", user), map[string]any{"user": user, "exists": false}), nil
}

func nonNilKeys(keys []accessKey) []accessKey {
	if keys == nil {
		return []accessKey{}
	}
	return keys
}

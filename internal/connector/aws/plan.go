package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Plan finds the person's IAM user and lists what to remove. The one ordering that matters
// for safety is declared: the deny policy that ends live sessions goes first, and everything
// else waits until it is verified; the removals then run in parallel (deactivating a key
// precedes deleting it), and marking the user offboarded (or deleting it) comes last. It
// never changes anything.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	plan := connector.Plan{System: c.name, Actions: []connector.Action{}}
	u, f, err := c.find(ctx, p)
	if err != nil {
		return plan, err
	}
	if f != nil {
		return c.unplanned(plan, f), nil
	}
	// Whether the user is offboard's own identity, and what it holds, are read at once.
	var (
		self bool
		a    *access
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { self, err = c.isCaller(gctx, u.Name); return })
	g.Go(func() (err error) { a, err = c.readAccess(gctx, u.Name); return })
	if err := g.Wait(); err != nil {
		return plan, err
	}
	if self {
		return c.unplanned(plan, &finding{
			notes:  []string{fmt.Sprintf("IAM user %s is the identity offboard itself uses in %s; it is not touched", u.Name, c.name)},
			manual: []string{fmt.Sprintf("Move offboard to other credentials, then offboard IAM user %s (%s) by hand or plan again", u.Name, u.ARN)},
		}), nil
	}
	plan.Account = fmt.Sprintf("%s (%s, matched by %s)", u.Name, u.ARN, u.How)
	b := &planBuilder{c: c, plan: &plan, user: *u}
	b.build(a)
	connector.SortActions(plan.Actions, kindOrder)
	return plan, nil
}

// unplanned is the plan for a user that is not offboarded: not found, ambiguous, or
// offboard's own identity, with the finding's notes and work for a person.
func (c *Connector) unplanned(plan connector.Plan, f *finding) connector.Plan {
	plan.NotFound = true
	plan.Notes = f.notes
	for _, m := range f.manual {
		plan.Manual = append(plan.Manual, connector.Manual{System: c.name, Detail: m})
	}
	return plan
}

// isCaller reports whether name is the IAM user the connector's credentials belong to, so
// that offboard never locks itself out. GetUser without a name answers for the caller; for
// role credentials IAM refuses (ValidationError), and a caller without iam:GetUser on itself
// is refused too: either way the caller is not a user this connector can see, and planning
// goes on. Any other failure (throttling, an outage) fails the plan, to be retried.
func (c *Connector) isCaller(ctx context.Context, name string) (bool, error) {
	out, err := call(ctx, c, "GetUser", func(ctx context.Context) (*iam.GetUserOutput, error) {
		return c.iam.GetUser(ctx, &iam.GetUserInput{})
	})
	switch {
	case err == nil:
		return out.User != nil && strings.EqualFold(sdk.ToString(out.User.UserName), name), nil
	case connector.IsPermanent(err):
		return false, nil
	}
	return false, fmt.Errorf("%s: read the identity offboard runs as: %w", c.name, err)
}

type planBuilder struct {
	c    *Connector
	plan *connector.Plan
	user iamUser
}

func (b *planBuilder) add(kind, target, detail string, params map[string]string, after []string, before any) {
	if params == nil {
		params = map[string]string{}
	}
	params["user"] = b.user.Name
	params["user_arn"] = b.user.ARN
	b.plan.Actions = append(b.plan.Actions, connector.Action{
		System: b.c.name, Kind: kind, Target: target, Detail: detail,
		Params: params, After: after, Before: compact(before),
	})
}

func compact(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(out)
}

// afterDeny is the dependency of every removal: the deny policy is in place first.
var afterDeny = []string{KindDenySessions}

func (b *planBuilder) build(a *access) {
	name := b.user.Name
	tagTime, tagged := offboardedAt(b.user.Tags)
	credentialFree := a.LoginProfile == nil && len(a.Keys) == 0
	covered := tagged && !a.Deny.IsZero() && !a.Deny.Before(tagTime)
	// Once the user holds no credential and the deny covers everything issued before the
	// offboarding mark, no session can exist that the deny does not reach.
	if !credentialFree || !covered {
		b.add(KindDenySessions, name,
			fmt.Sprintf("Attach inline policy %s to IAM user %s, denying everything to credentials issued before now (plus a minute for clock skew), which ends its console and temporary-credential sessions", DenyPolicyName, name),
			map[string]string{"prior_cutoff": stampOrEmpty(a.Deny)}, nil,
			map[string]any{"deny_policy_cutoff": stampOrEmpty(a.Deny), "sessions": "IAM cannot list console or temporary-credential sessions"})
		b.plan.Notes = append(b.plan.Notes, "IAM cannot list or revoke console sessions or temporary credentials (GetSessionToken, GetFederationToken): the deny policy makes every one issued before it unusable, within the few minutes IAM takes to apply a policy change. Role sessions the person assumed are not IAM user sessions: revoke them on the roles (\"Revoke active sessions\") or in IAM Identity Center.")
	}
	if a.LoginProfile != nil {
		b.add(KindDeleteLoginProfile, name, fmt.Sprintf("Delete the console password of IAM user %s", name),
			nil, afterDeny, map[string]any{"login_profile_created": stampOrEmpty(*a.LoginProfile)})
	}
	b.keys(a)
	for _, d := range a.MFA {
		b.add(KindRemoveMFADevice, d.Serial, fmt.Sprintf("Deactivate MFA device %s of IAM user %s%s", d.Serial, name, map[bool]string{true: " and delete the virtual device", false: ""}[d.virtual()]),
			map[string]string{"virtual": fmt.Sprint(d.virtual())}, afterDeny, d)
	}
	for _, k := range a.SSH {
		b.add(KindDeleteSSHKey, k.ID, fmt.Sprintf("Delete SSH public key %s (%s) of IAM user %s", k.ID, k.Status, name), nil, afterDeny, k)
	}
	for _, k := range a.Certs {
		b.add(KindDeleteSigningCert, k.ID, fmt.Sprintf("Delete signing certificate %s (%s) of IAM user %s", k.ID, k.Status, name), nil, afterDeny, k)
	}
	for _, k := range a.Service {
		b.add(KindDeleteServiceCred, k.ID, fmt.Sprintf("Delete %s credential %s (%s, %s) of IAM user %s", k.Service, k.ID, k.ServiceUserName, k.Status, name),
			map[string]string{"service": k.Service}, afterDeny, k)
	}
	for _, g := range a.Groups {
		b.add(KindRemoveGroup, g.Name, fmt.Sprintf("Remove IAM user %s from group %s", name, g.Name), map[string]string{"group_arn": g.ARN}, afterDeny, g)
	}
	for _, p := range a.Attached {
		b.add(KindDetachPolicy, p.ARN, fmt.Sprintf("Detach managed policy %s (%s) from IAM user %s", p.Name, p.ARN, name), map[string]string{"policy_name": p.Name}, afterDeny, p)
	}
	for _, p := range a.Inline {
		if p != DenyPolicyName {
			b.add(KindDeleteInlinePolicy, p, fmt.Sprintf("Delete inline policy %s of IAM user %s", p, name), nil, afterDeny, map[string]string{"policy_name": p})
		}
	}
	b.finish(tagTime, tagged, covered)
}

// keys plans deactivation, then deletion, of each access key. Deactivating first stops the
// key at once and is undoable, should the deletion need a second look.
func (b *planBuilder) keys(a *access) {
	for _, k := range a.Keys {
		if k.Status != "Inactive" {
			b.add(KindDeactivateAccessKey, k.ID, fmt.Sprintf("Deactivate access key %s of IAM user %s (%s)", k.ID, b.user.Name, lastUse(k)), nil, afterDeny, k)
		}
		b.add(KindDeleteAccessKey, k.ID, fmt.Sprintf("Delete access key %s of IAM user %s (%s)", k.ID, b.user.Name, lastUse(k)),
			nil, []string{KindDenySessions, KindDeactivateAccessKey}, k)
		if why, ok := a.LastUsed[k.ID]; ok {
			b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("The last use of access key %s could not be read (%s); it is removed all the same.", k.ID, why))
		}
	}
}

func lastUse(k accessKey) string {
	if k.LastUsed == nil {
		return "never used"
	}
	return fmt.Sprintf("last used %s with %s in %s", k.LastUsed.Format(time.RFC3339), k.LastService, k.LastRegion)
}

// finish plans the last step: deleting the user when configured, else marking it offboarded
// (tag, and the deny refreshed to the same moment) whenever anything else was planned or the
// mark is missing or not covered by the deny.
func (b *planBuilder) finish(tagTime time.Time, tagged, covered bool) {
	after := append([]string{KindDenySessions}, removalKinds...)
	name := b.user.Name
	if b.c.deleteUser {
		b.add(KindDeleteUser, name, fmt.Sprintf("Delete IAM user %s (%s) once nothing is attached to it", name, b.user.ARN), nil, after,
			map[string]any{"user": b.user})
		return
	}
	b.plan.Kept = append(b.plan.Kept, connector.Kept{System: b.c.name, Target: b.user.ARN, Detail: "IAM user " + name,
		Reason: fmt.Sprintf("deletion is off (delete_user): the user is left in place holding no credential, group or permission, with inline policy %s and tag %s, so it can be inspected or restored", DenyPolicyName, OffboardedTag)})
	if len(b.plan.Actions) == 0 && tagged && covered {
		return
	}
	b.add(KindMarkOffboarded, name, fmt.Sprintf("Tag IAM user %s %s=<now> and renew its deny policy to the same moment", name, OffboardedTag),
		map[string]string{"prior_mark": stampOrEmpty(tagTime)}, after, map[string]any{"tags": b.user.Tags})
}

// offboardedAt reads the offboarded-at tag.
func offboardedAt(tags map[string]string) (time.Time, bool) {
	v, ok := tags[OffboardedTag]
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func stampOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

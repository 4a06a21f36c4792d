// Package aws offboards a person's IAM user from one AWS account: it first attaches an inline
// policy denying everything to credentials issued before the offboarding (which ends console
// and temporary-credential sessions IAM cannot list or revoke), then deletes the console
// password, deactivates and deletes access keys, removes MFA devices, SSH keys, signing
// certificates and service-specific credentials, group memberships and the user's own
// policies, and finally marks the user offboarded (or, when configured, deletes it). Every
// step is verified by reading IAM back.
//
// It uses the AWS SDK for Go v2 (request signing must not be hand-written) with the SDK's own
// retries turned off: throttling and outages are paced and retried here, on the shared Pacer,
// so that one leaver's parallel calls slow down together. The API facts it relies on are in
// the project's apis.md §8; the operator page is docs/connectors/aws.md.
package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/singleflight"

	"github.com/offboard-dev/offboard/internal/connector"
)

// System is the connector's default name in plans, tickets and audit records.
const System = "aws"

// Action kinds. They are part of the stored contract: plans saved today are applied and
// verified by later versions, so these names never change.
const (
	KindDenySessions        = "deny_sessions"
	KindDeleteLoginProfile  = "delete_login_profile"
	KindDeactivateAccessKey = "deactivate_access_key"
	KindDeleteAccessKey     = "delete_access_key"
	KindRemoveMFADevice     = "remove_mfa_device"
	KindDeleteSSHKey        = "delete_ssh_public_key"
	KindDeleteSigningCert   = "delete_signing_certificate"
	KindDeleteServiceCred   = "delete_service_credential"
	KindRemoveGroup         = "remove_group"
	KindDetachPolicy        = "detach_policy"
	KindDeleteInlinePolicy  = "delete_inline_policy"
	KindMarkOffboarded      = "mark_offboarded"
	KindDeleteUser          = "delete_user"
)

const (
	// DenyPolicyName is the inline policy that denies everything to credentials issued before
	// the offboarding. It is never removed by the plan's own policy clean-up.
	DenyPolicyName = "offboard-deny-all"
	// OffboardedTag is the tag that records, on a user left in place, when it was offboarded.
	OffboardedTag = "offboarded-at"
	// DefaultConcurrency is the requests in flight when Config.Concurrency is 0.
	DefaultConcurrency = 8
	// DefaultRegion is IAM's signing region for its global endpoint.
	DefaultRegion = "us-east-1"
)

// Pacing and paging.
const (
	// maxThrottleWaits is how many Throttling answers in a row one call waits out before it
	// hands the wait to the engine (connector.RetryAfter).
	maxThrottleWaits     = 6
	maxTransientRetries  = 2
	firstThrottleBackoff = 200 * time.Millisecond
	throttleRetryAfter   = 5 * time.Second
	// sharedReadTimeout bounds a tag scan shared by several Plans, which no single caller's
	// context governs.
	sharedReadTimeout = 2 * time.Minute
	// permissionProbeUserName is a user name Check asks about to test read permissions; IAM
	// authorises before it looks the user up.
	permissionProbeUserName = "offboard-permission-probe-0"
	// skewMargin is added to the deny policy's cutoff to absorb clock skew (see cutoff).
	skewMargin = time.Minute
	// pageSize is the MaxItems sent (IAM's maximum), so most lists take one round trip.
	pageSize = 1000
	maxPages = 10000
)

// removalKinds are the kinds that take access away once the deny policy is in place; they do
// not depend on each other and run in parallel.
var removalKinds = []string{
	KindDeleteLoginProfile, KindDeactivateAccessKey, KindDeleteAccessKey, KindRemoveMFADevice,
	KindDeleteSSHKey, KindDeleteSigningCert, KindDeleteServiceCred, KindRemoveGroup,
	KindDetachPolicy, KindDeleteInlinePolicy,
}

// kindOrder is the order plans list kinds in: the order they can run in.
var kindOrder = append(append([]string{KindDenySessions}, removalKinds...), KindMarkOffboarded, KindDeleteUser)

// Config is how to reach one AWS account's IAM.
type Config struct {
	// Name is the system name in plans and records (default "aws"); give each account its
	// own, such as "aws-prod", when several are connected. Handles are looked up by it.
	Name string
	// Region is the signing region (default us-east-1, where IAM's global endpoint signs).
	Region string
	// AccessKeyID and SecretAccessKey are static credentials of the IAM principal offboard
	// runs as; SessionToken is added for temporary ones. When AccessKeyID is empty the SDK's
	// default chain is used (environment, shared config, SSO, web identity, ECS/EC2 roles).
	// The secret and the session token never appear in errors, plans or logs.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Endpoint overrides IAM's endpoint (the SDK's BaseEndpoint), e.g. for the simulator.
	Endpoint string
	// HTTP is the transport; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// MatchTag, when set, is the key of a user tag holding the person's email address (e.g.
	// "email"); a user whose tag matches the email is theirs.
	MatchTag string
	// UserName is how to derive the user name when no handle is given and no tag matches:
	// "email_local" (the part before @, the default, as the configuration documents it),
	// "email" (the whole address) or "handle" (only a handle is trusted). A handle
	// (Person.Handles[Name]) always wins.
	UserName string
	// DeleteUser deletes the user once everything else is removed. Off by default: the user
	// is left in place, powerless, with its deny policy and an offboarded-at tag.
	DeleteUser bool
	// Concurrency caps this connector's requests in flight (default 8). IAM publishes no
	// request rate; it throttles with Throttling (HTTP 400), which is paced here.
	Concurrency int
}

// Connector offboards people from one AWS account. It is safe for concurrent use.
type Connector struct {
	name       string
	iam        *iam.Client
	pacer      *connector.Pacer
	matchTag   string
	userName   string
	deleteUser bool
	// concurrency bounds the goroutines of one fan-out; the pacer bounds the requests.
	concurrency int
	secrets     []string
	now         func() time.Time
	// backoff is the first wait after a throttle; tests shorten it.
	backoff time.Duration
	// scans shares one in-flight tag scan of the account among concurrent Plans.
	scans singleflight.Group
}

// New returns a connector for the account cfg describes. It fails on an unknown UserName rule
// or when the SDK's default configuration cannot be loaded.
func New(cfg Config) (*Connector, error) {
	if cfg.Name == "" {
		cfg.Name = System
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	rule, err := connector.NameRule(cfg.UserName)
	if err != nil {
		return nil, fmt.Errorf("%s: user_name %w", cfg.Name, err)
	}
	cfg.UserName = rule
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	httpClient := cfg.HTTP
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	var awsCfg sdk.Config
	if cfg.AccessKeyID != "" {
		if cfg.SecretAccessKey == "" {
			return nil, fmt.Errorf("%s: an access key ID is configured without its secret access key", cfg.Name)
		}
		awsCfg = sdk.Config{
			Region:      cfg.Region,
			Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken),
		}
	} else {
		loaded, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(cfg.Region))
		if err != nil {
			return nil, fmt.Errorf("%s: load the AWS SDK's default configuration: %w", cfg.Name, err)
		}
		awsCfg = loaded
	}
	awsCfg.Credentials = sdk.NewCredentialsCache(markedCredentials{awsCfg.Credentials})
	awsCfg.HTTPClient = httpClient
	// The SDK must not retry on its own: throttles and outages are paced by call, below.
	awsCfg.Retryer = func() sdk.Retryer { return sdk.NopRetryer{} }
	awsCfg.RetryMaxAttempts = 1
	client := iam.NewFromConfig(awsCfg, func(o *iam.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = sdk.String(endpointURL(cfg.Endpoint))
		}
	})
	var secrets []string
	for _, s := range []string{cfg.SecretAccessKey, cfg.SessionToken} {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	return &Connector{
		name: cfg.Name, iam: client, pacer: connector.NewPacer(cfg.Concurrency),
		matchTag: cfg.MatchTag, userName: cfg.UserName, deleteUser: cfg.DeleteUser,
		concurrency: cfg.Concurrency, secrets: secrets, now: time.Now, backoff: firstThrottleBackoff,
	}, nil
}

// endpointURL ends an endpoint that has a path (a proxy or simulator mount such as
// http://host/aws) with a slash: the Query API posts to the endpoint's root, and a server
// mounted at /aws/ redirects a POST to /aws instead of answering it.
func endpointURL(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Path == "" || strings.HasSuffix(u.Path, "/") {
		return endpoint
	}
	u.Path += "/"
	return u.String()
}

// System returns the configured system name ("aws" by default).
func (c *Connector) System() string { return c.name }

// markedCredentials marks a failure to obtain credentials, so that it is reported as a
// configuration problem instead of being retried.
type markedCredentials struct{ inner sdk.CredentialsProvider }

type credentialsError struct{ err error }

func (e *credentialsError) Error() string {
	return "no AWS credentials could be obtained: " + e.err.Error()
}
func (e *credentialsError) Unwrap() error { return e.err }

func (m markedCredentials) Retrieve(ctx context.Context) (sdk.Credentials, error) {
	if m.inner == nil {
		return sdk.Credentials{}, &credentialsError{errors.New("none configured")}
	}
	creds, err := m.inner.Retrieve(ctx)
	if err != nil && ctx.Err() == nil {
		return creds, &credentialsError{err}
	}
	return creds, err
}

// Check proves the credentials work and may read what planning reads: it lists one user, then
// asks each per-user read about a user that does not exist, which IAM answers NoSuchEntity
// when the permission is granted and AccessDenied when it is not. It changes nothing.
func (c *Connector) Check(ctx context.Context) error {
	if _, err := call(ctx, c, "ListUsers", func(ctx context.Context) (*iam.ListUsersOutput, error) {
		return c.iam.ListUsers(ctx, &iam.ListUsersInput{MaxItems: sdk.Int32(1)})
	}); err != nil {
		return fmt.Errorf("%s: check credentials: %w", c.name, err)
	}
	probe := sdk.String(permissionProbeUserName)
	probes := []struct {
		op string
		fn func(context.Context) error
	}{
		{"ListUserTags", func(ctx context.Context) error {
			_, err := c.iam.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: probe})
			return err
		}},
		{"GetLoginProfile", func(ctx context.Context) error {
			_, err := c.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: probe})
			return err
		}},
		{"ListAccessKeys", func(ctx context.Context) error {
			_, err := c.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: probe})
			return err
		}},
		{"ListMFADevices", func(ctx context.Context) error {
			_, err := c.iam.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: probe})
			return err
		}},
		{"ListGroupsForUser", func(ctx context.Context) error {
			_, err := c.iam.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: probe})
			return err
		}},
		{"ListUserPolicies", func(ctx context.Context) error {
			_, err := c.iam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: probe})
			return err
		}},
		{"ListAttachedUserPolicies", func(ctx context.Context) error {
			_, err := c.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: probe})
			return err
		}},
		{"GetUserPolicy", func(ctx context.Context) error {
			_, err := c.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: probe, PolicyName: sdk.String(DenyPolicyName)})
			return err
		}},
		{"ListSSHPublicKeys", func(ctx context.Context) error {
			_, err := c.iam.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: probe})
			return err
		}},
		{"ListSigningCertificates", func(ctx context.Context) error {
			_, err := c.iam.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: probe})
			return err
		}},
		{"ListServiceSpecificCredentials", func(ctx context.Context) error {
			_, err := c.iam.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: probe})
			return err
		}},
	}
	var missing []string
	for _, p := range probes {
		_, err := call(ctx, c, p.op, func(ctx context.Context) (struct{}, error) { return struct{}{}, p.fn(ctx) })
		switch {
		case err == nil, isNotFound(err):
		case isAccessDenied(connector.CodeOf(err)):
			missing = append(missing, "iam:"+p.op)
		default:
			return fmt.Errorf("%s: check permission iam:%s: %w", c.name, p.op, err)
		}
	}
	if len(missing) > 0 {
		return connector.Permanent(fmt.Errorf("%s: the credentials lack %s; grant them (see docs/connectors/aws.md, Permissions)", c.name, strings.Join(missing, ", ")))
	}
	return nil
}

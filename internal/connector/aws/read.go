package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"
)

// The reads of one user's access, shared by Plan and Verify. Each returns IAM's
// NoSuchEntity (connector.ErrNotFound) when the user itself is gone.

type accessKey struct {
	ID          string     `json:"access_key_id"`
	Status      string     `json:"status"`
	Created     time.Time  `json:"created"`
	LastUsed    *time.Time `json:"last_used,omitempty"`
	LastService string     `json:"last_used_service,omitempty"`
	LastRegion  string     `json:"last_used_region,omitempty"`
}

type mfaDevice struct {
	Serial  string    `json:"serial_number"`
	Enabled time.Time `json:"enabled"`
}

// virtual reports whether the device is a virtual (authenticator app) device, whose serial
// is its ARN; those outlive deactivation and are deleted separately. Hardware devices have
// plain serials and U2F/passkey devices are deleted by deactivation.
func (d mfaDevice) virtual() bool { return strings.Contains(d.Serial, ":mfa/") }

type credential struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
	// Service and ServiceUserName are set for service-specific credentials.
	Service         string `json:"service,omitempty"`
	ServiceUserName string `json:"service_user_name,omitempty"`
}

type named struct {
	Name string `json:"name"`
	ARN  string `json:"arn,omitempty"`
}

// access is everything the plan's read found on one user.
type access struct {
	LoginProfile *time.Time  `json:"login_profile_created,omitempty"`
	Keys         []accessKey `json:"access_keys"`
	MFA          []mfaDevice `json:"mfa_devices"`
	SSH          []credential
	Certs        []credential
	Service      []credential
	Groups       []named
	Attached     []named
	Inline       []string
	// Deny is our deny policy's coverage: the issue time before which credentials are
	// denied, zero when the policy is absent or not ours.
	Deny     time.Time
	LastUsed map[string]string // access key ID → why its last use is unknown
}

// readAccess reads the user's credentials, memberships and policies in parallel.
func (c *Connector) readAccess(ctx context.Context, user string) (*access, error) {
	var a access
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { a.LoginProfile, err = c.loginProfile(gctx, user); return })
	g.Go(func() (err error) {
		if a.Keys, err = c.accessKeys(gctx, user); err == nil {
			a.LastUsed = c.keysLastUsed(gctx, a.Keys)
		}
		return
	})
	g.Go(func() (err error) { a.MFA, err = c.mfaDevices(gctx, user); return })
	g.Go(func() (err error) { a.SSH, err = c.sshKeys(gctx, user); return })
	g.Go(func() (err error) { a.Certs, err = c.signingCerts(gctx, user); return })
	g.Go(func() (err error) { a.Service, err = c.serviceCreds(gctx, user); return })
	g.Go(func() (err error) { a.Groups, err = c.groups(gctx, user); return })
	g.Go(func() (err error) { a.Attached, err = c.attachedPolicies(gctx, user); return })
	g.Go(func() (err error) {
		if a.Inline, err = c.inlinePolicies(gctx, user); err == nil {
			for _, n := range a.Inline {
				if n == DenyPolicyName {
					a.Deny, _, err = c.denyPolicy(gctx, user)
				}
			}
		}
		return
	})
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("%s: read the access of IAM user %s: %w", c.name, user, err)
	}
	return &a, nil
}

func (c *Connector) loginProfile(ctx context.Context, user string) (*time.Time, error) {
	out, err := call(ctx, c, "GetLoginProfile", func(ctx context.Context) (*iam.GetLoginProfileOutput, error) {
		return c.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: sdk.String(user)})
	})
	if isNotFound(err) {
		return nil, nil // no console password (or no user): nothing to sign in with
	}
	if err != nil {
		return nil, err
	}
	t := time.Time{}
	if out.LoginProfile != nil {
		t = sdk.ToTime(out.LoginProfile.CreateDate).UTC()
	}
	return &t, nil
}

func (c *Connector) accessKeys(ctx context.Context, user string) ([]accessKey, error) {
	keys, err := pages(ctx, c, "ListAccessKeys", func(ctx context.Context, m *string) ([]types.AccessKeyMetadata, *string, error) {
		out, err := c.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: sdk.String(user), Marker: m, MaxItems: sdk.Int32(pageSize)})
		if err != nil {
			return nil, nil, err
		}
		return out.AccessKeyMetadata, nextMarker(out.IsTruncated, out.Marker), nil
	})
	out := make([]accessKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, accessKey{ID: sdk.ToString(k.AccessKeyId), Status: string(k.Status), Created: sdk.ToTime(k.CreateDate).UTC()})
	}
	return out, err
}

// keysLastUsed fills in when each key was last used, for the plan's evidence. It is
// informative only: a key whose last use cannot be read is still removed, and why is kept.
func (c *Connector) keysLastUsed(ctx context.Context, keys []accessKey) map[string]string {
	unknown := map[string]string{}
	for i := range keys {
		out, err := call(ctx, c, "GetAccessKeyLastUsed", func(ctx context.Context) (*iam.GetAccessKeyLastUsedOutput, error) {
			return c.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: sdk.String(keys[i].ID)})
		})
		if err != nil {
			unknown[keys[i].ID] = err.Error()
			continue
		}
		if lu := out.AccessKeyLastUsed; lu != nil {
			if lu.LastUsedDate != nil {
				t := lu.LastUsedDate.UTC()
				keys[i].LastUsed = &t
			}
			keys[i].LastService, keys[i].LastRegion = sdk.ToString(lu.ServiceName), sdk.ToString(lu.Region)
		}
	}
	return unknown
}

func (c *Connector) mfaDevices(ctx context.Context, user string) ([]mfaDevice, error) {
	devs, err := pages(ctx, c, "ListMFADevices", func(ctx context.Context, m *string) ([]types.MFADevice, *string, error) {
		out, err := c.iam.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: sdk.String(user), Marker: m, MaxItems: sdk.Int32(pageSize)})
		if err != nil {
			return nil, nil, err
		}
		return out.MFADevices, nextMarker(out.IsTruncated, out.Marker), nil
	})
	out := make([]mfaDevice, 0, len(devs))
	for _, d := range devs {
		out = append(out, mfaDevice{Serial: sdk.ToString(d.SerialNumber), Enabled: sdk.ToTime(d.EnableDate).UTC()})
	}
	return out, err
}

func (c *Connector) sshKeys(ctx context.Context, user string) ([]credential, error) {
	keys, err := pages(ctx, c, "ListSSHPublicKeys", func(ctx context.Context, m *string) ([]types.SSHPublicKeyMetadata, *string, error) {
		out, err := c.iam.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: sdk.String(user), Marker: m, MaxItems: sdk.Int32(pageSize)})
		if err != nil {
			return nil, nil, err
		}
		return out.SSHPublicKeys, nextMarker(out.IsTruncated, out.Marker), nil
	})
	out := make([]credential, 0, len(keys))
	for _, k := range keys {
		out = append(out, credential{ID: sdk.ToString(k.SSHPublicKeyId), Status: string(k.Status), Created: sdk.ToTime(k.UploadDate).UTC()})
	}
	return out, err
}

func (c *Connector) signingCerts(ctx context.Context, user string) ([]credential, error) {
	certs, err := pages(ctx, c, "ListSigningCertificates", func(ctx context.Context, m *string) ([]types.SigningCertificate, *string, error) {
		out, err := c.iam.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: sdk.String(user), Marker: m, MaxItems: sdk.Int32(pageSize)})
		if err != nil {
			return nil, nil, err
		}
		return out.Certificates, nextMarker(out.IsTruncated, out.Marker), nil
	})
	out := make([]credential, 0, len(certs))
	for _, k := range certs {
		out = append(out, credential{ID: sdk.ToString(k.CertificateId), Status: string(k.Status), Created: sdk.ToTime(k.UploadDate).UTC()})
	}
	return out, err
}

// serviceCreds lists service-specific credentials; the operation is not paged.
func (c *Connector) serviceCreds(ctx context.Context, user string) ([]credential, error) {
	res, err := call(ctx, c, "ListServiceSpecificCredentials", func(ctx context.Context) (*iam.ListServiceSpecificCredentialsOutput, error) {
		return c.iam.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: sdk.String(user)})
	})
	if err != nil {
		return nil, err
	}
	out := make([]credential, 0, len(res.ServiceSpecificCredentials))
	for _, k := range res.ServiceSpecificCredentials {
		out = append(out, credential{ID: sdk.ToString(k.ServiceSpecificCredentialId), Status: string(k.Status), Created: sdk.ToTime(k.CreateDate).UTC(),
			Service: sdk.ToString(k.ServiceName), ServiceUserName: sdk.ToString(k.ServiceUserName)})
	}
	return out, nil
}

func (c *Connector) groups(ctx context.Context, user string) ([]named, error) {
	gs, err := pages(ctx, c, "ListGroupsForUser", func(ctx context.Context, m *string) ([]types.Group, *string, error) {
		out, err := c.iam.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: sdk.String(user), Marker: m, MaxItems: sdk.Int32(pageSize)})
		if err != nil {
			return nil, nil, err
		}
		return out.Groups, nextMarker(out.IsTruncated, out.Marker), nil
	})
	out := make([]named, 0, len(gs))
	for _, g := range gs {
		out = append(out, named{Name: sdk.ToString(g.GroupName), ARN: sdk.ToString(g.Arn)})
	}
	return out, err
}

func (c *Connector) attachedPolicies(ctx context.Context, user string) ([]named, error) {
	ps, err := pages(ctx, c, "ListAttachedUserPolicies", func(ctx context.Context, m *string) ([]types.AttachedPolicy, *string, error) {
		out, err := c.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: sdk.String(user), Marker: m, MaxItems: sdk.Int32(pageSize)})
		if err != nil {
			return nil, nil, err
		}
		return out.AttachedPolicies, nextMarker(out.IsTruncated, out.Marker), nil
	})
	out := make([]named, 0, len(ps))
	for _, p := range ps {
		out = append(out, named{Name: sdk.ToString(p.PolicyName), ARN: sdk.ToString(p.PolicyArn)})
	}
	return out, err
}

func (c *Connector) inlinePolicies(ctx context.Context, user string) ([]string, error) {
	return pages(ctx, c, "ListUserPolicies", func(ctx context.Context, m *string) ([]string, *string, error) {
		out, err := c.iam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: sdk.String(user), Marker: m, MaxItems: sdk.Int32(pageSize)})
		if err != nil {
			return nil, nil, err
		}
		return out.PolicyNames, nextMarker(out.IsTruncated, out.Marker), nil
	})
}

// denyPolicy reads our deny policy: the issue time it denies credentials before (zero when
// the document is not the one this connector writes) and the decoded document. NoSuchEntity
// means the policy, or the user, is absent.
func (c *Connector) denyPolicy(ctx context.Context, user string) (time.Time, string, error) {
	out, err := call(ctx, c, "GetUserPolicy", func(ctx context.Context) (*iam.GetUserPolicyOutput, error) {
		return c.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: sdk.String(user), PolicyName: sdk.String(DenyPolicyName)})
	})
	if err != nil {
		return time.Time{}, "", err
	}
	doc, err := decodeDocument(sdk.ToString(out.PolicyDocument))
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%s: policy %s of IAM user %s: %w", c.name, DenyPolicyName, user, err)
	}
	return denyCutoff(doc), doc, nil
}

package awssim

import (
	"net/url"
	"slices"
	"strings"
)

// The handlers run with Server.mu held.

type userXML struct {
	Path       string
	UserName   string
	UserId     string
	Arn        string
	CreateDate string
	Tags       *members[Tag] `xml:"Tags,omitempty"`
}

func (s *Server) userXML(u *user, withTags bool) userXML {
	out := userXML{Path: u.path, UserName: u.name, UserId: u.id, Arn: s.userARN(u.path, u.name), CreateDate: stamp(u.created)}
	if withTags && len(u.tags) > 0 {
		t := list(slices.Clone(u.tags))
		out.Tags = &t
	}
	return out
}

// findUser reads the user an action names, refusing a malformed name as IAM does.
func (c *call) findUser(optional bool) (*user, *apiError) {
	name, aerr := c.userName(optional)
	if aerr != nil {
		return nil, aerr
	}
	if !namePattern.MatchString(name) {
		return nil, validation("1 validation error detected: Value '" + name + "' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
	}
	u := c.s.lookup(name)
	if u == nil {
		return nil, noSuchEntity("The user with name " + name + " cannot be found.")
	}
	return u, nil
}

type pageInfo struct {
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

// ListUsers: users sorted by name, without tags (the operation's documentation says it does
// not return them).
func listUsers(c *call) (any, *apiError) {
	prefix := c.param("PathPrefix")
	if prefix == "" {
		prefix = "/"
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range c.s.users {
			if !yield(k) {
				return
			}
		}
	})
	var all []userXML
	for _, n := range names {
		if u := c.s.users[n]; strings.HasPrefix(u.path, prefix) {
			all = append(all, c.s.userXML(u, false))
		}
	}
	items, more, next, aerr := page(c, all)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		Users members[userXML]
		pageInfo
	}{list(items), pageInfo{more, next}}, nil
}

func getUser(c *call) (any, *apiError) {
	u, aerr := c.findUser(true)
	if aerr != nil {
		return nil, aerr
	}
	return struct{ User userXML }{c.s.userXML(u, true)}, nil
}

func listUserTags(c *call) (any, *apiError) {
	u, aerr := c.findUser(false)
	if aerr != nil {
		return nil, aerr
	}
	items, more, next, aerr := page(c, u.tags)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		Tags members[Tag]
		pageInfo
	}{list(items), pageInfo{more, next}}, nil
}

func getLoginProfile(c *call) (any, *apiError) {
	u, aerr := c.findUser(true)
	if aerr != nil {
		return nil, aerr
	}
	if u.loginProfile == nil {
		return nil, noSuchEntity("Login Profile for User " + u.name + " cannot be found.")
	}
	type profile struct {
		UserName              string
		CreateDate            string
		PasswordResetRequired bool
	}
	return struct{ LoginProfile profile }{profile{u.name, stamp(*u.loginProfile), false}}, nil
}

type accessKeyXML struct{ UserName, AccessKeyId, Status, CreateDate string }

func listAccessKeys(c *call) (any, *apiError) {
	u, aerr := c.findUser(true)
	if aerr != nil {
		return nil, aerr
	}
	var all []accessKeyXML
	for _, k := range u.keys {
		all = append(all, accessKeyXML{u.name, k.ID, k.Status, stamp(k.created)})
	}
	items, more, next, aerr := page(c, all)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		AccessKeyMetadata members[accessKeyXML]
		pageInfo
	}{list(items), pageInfo{more, next}}, nil
}

// GetAccessKeyLastUsed declares no errors in the model; for a key ID that belongs to no user
// there is no resource to authorise against, and IAM answers AccessDenied [R].
func getAccessKeyLastUsed(c *call) (any, *apiError) {
	id, aerr := c.required("AccessKeyId")
	if aerr != nil {
		return nil, aerr
	}
	owner := c.s.users[c.s.keyOwner[id]]
	var k *key
	if owner != nil {
		for _, cand := range owner.keys {
			if cand.ID == id {
				k = cand
			}
		}
	}
	if k == nil {
		return nil, apiErr(403, "AccessDenied", "User: "+c.s.userARN("/", c.caller)+" is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key "+id)
	}
	type lastUsed struct {
		LastUsedDate string `xml:",omitempty"`
		ServiceName  string
		Region       string
	}
	lu := lastUsed{ServiceName: "N/A", Region: "N/A"}
	if !k.LastUsed.IsZero() {
		lu = lastUsed{stamp(k.LastUsed), k.LastService, k.LastRegion}
	}
	return struct {
		UserName          string
		AccessKeyLastUsed lastUsed
	}{owner.name, lu}, nil
}

type mfaXML struct{ UserName, SerialNumber, EnableDate string }

func listMFADevices(c *call) (any, *apiError) {
	u, aerr := c.findUser(true)
	if aerr != nil {
		return nil, aerr
	}
	var all []mfaXML
	for _, d := range u.mfa {
		all = append(all, mfaXML{u.name, d.serial, stamp(d.enabled)})
	}
	items, more, next, aerr := page(c, all)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		MFADevices members[mfaXML]
		pageInfo
	}{list(items), pageInfo{more, next}}, nil
}

type sshXML struct{ UserName, SSHPublicKeyId, Status, UploadDate string }

func listSSHPublicKeys(c *call) (any, *apiError) {
	u, aerr := c.findUser(true)
	if aerr != nil {
		return nil, aerr
	}
	var all []sshXML
	for _, k := range u.ssh {
		all = append(all, sshXML{u.name, k.ID, k.Status, stamp(k.created)})
	}
	items, more, next, aerr := page(c, all)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		SSHPublicKeys members[sshXML]
		pageInfo
	}{list(items), pageInfo{more, next}}, nil
}

type certXML struct{ UserName, CertificateId, CertificateBody, Status, UploadDate string }

func listSigningCertificates(c *call) (any, *apiError) {
	u, aerr := c.findUser(true)
	if aerr != nil {
		return nil, aerr
	}
	var all []certXML
	for _, k := range u.certs {
		all = append(all, certXML{u.name, k.ID, "-----BEGIN CERTIFICATE-----\nMIIsimulated\n-----END CERTIFICATE-----", k.Status, stamp(k.created)})
	}
	items, more, next, aerr := page(c, all)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		Certificates members[certXML]
		pageInfo
	}{list(items), pageInfo{more, next}}, nil
}

type serviceCredXML struct {
	UserName, Status, ServiceUserName, CreateDate, ServiceSpecificCredentialId, ServiceName string
}

// supportedServices are the services that issue service-specific credentials.
var supportedServices = []string{"codecommit.amazonaws.com", "cassandra.amazonaws.com", "bedrock.amazonaws.com"}

// ListServiceSpecificCredentials is not paged (apis.md §8.2 step 5).
func listServiceSpecificCredentials(c *call) (any, *apiError) {
	u, aerr := c.findUser(true)
	if aerr != nil {
		return nil, aerr
	}
	svc := c.param("ServiceName")
	if svc != "" && !slices.Contains(supportedServices, svc) {
		return nil, apiErr(404, "NotSupportedService", "The specified service "+svc+" is not supported.")
	}
	all := []serviceCredXML{}
	for _, k := range u.service {
		if svc == "" || k.Service == svc {
			all = append(all, serviceCredXML{u.name, k.Status, u.name + "-at-" + c.s.opts.AccountID, stamp(k.created), k.ID, k.Service})
		}
	}
	return struct{ ServiceSpecificCredentials members[serviceCredXML] }{list(all)}, nil
}

type groupXML struct{ Path, GroupName, GroupId, Arn, CreateDate string }

func listGroupsForUser(c *call) (any, *apiError) {
	u, aerr := c.findUser(false)
	if aerr != nil {
		return nil, aerr
	}
	var all []groupXML
	for _, n := range u.groups {
		g := c.s.groups[n]
		all = append(all, groupXML{g.path, g.name, g.id, "arn:aws:iam::" + c.s.opts.AccountID + ":group" + g.path + g.name, stamp(g.created)})
	}
	items, more, next, aerr := page(c, all)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		Groups members[groupXML]
		pageInfo
	}{list(items), pageInfo{more, next}}, nil
}

type attachedXML struct{ PolicyName, PolicyArn string }

// policyPath is the path of a managed policy ARN: "/" for arn:…:policy/Name.
func policyPath(arn string) string {
	_, rest, _ := strings.Cut(arn, ":policy")
	return rest[:strings.LastIndex(rest, "/")+1]
}

func listAttachedUserPolicies(c *call) (any, *apiError) {
	u, aerr := c.findUser(false)
	if aerr != nil {
		return nil, aerr
	}
	prefix := c.param("PathPrefix")
	if prefix == "" {
		prefix = "/"
	}
	if !pathPattern.MatchString(prefix) {
		return nil, invalidInput("PathPrefix " + prefix + " is not valid.")
	}
	var all []attachedXML
	for _, arn := range u.attached {
		if strings.HasPrefix(policyPath(arn), prefix) {
			all = append(all, attachedXML{c.s.policies[arn], arn})
		}
	}
	items, more, next, aerr := page(c, all)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		AttachedPolicies members[attachedXML]
		pageInfo
	}{list(items), pageInfo{more, next}}, nil
}

func listUserPolicies(c *call) (any, *apiError) {
	u, aerr := c.findUser(false)
	if aerr != nil {
		return nil, aerr
	}
	var all []string
	for _, p := range u.inline {
		all = append(all, p.name)
	}
	items, more, next, aerr := page(c, all)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		PolicyNames members[string]
		pageInfo
	}{list(items), pageInfo{more, next}}, nil
}

// GetUserPolicy returns the document URL-encoded (RFC 3986), as IAM does.
func getUserPolicy(c *call) (any, *apiError) {
	u, aerr := c.findUser(false)
	if aerr != nil {
		return nil, aerr
	}
	name, aerr := c.required("PolicyName")
	if aerr != nil {
		return nil, aerr
	}
	for _, p := range u.inline {
		if strings.EqualFold(p.name, name) {
			return struct{ UserName, PolicyName, PolicyDocument string }{u.name, p.name, strings.ReplaceAll(url.QueryEscape(p.doc), "+", "%20")}, nil
		}
	}
	return nil, noSuchEntity("The user policy with name " + name + " cannot be found.")
}

package awssim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The handlers run with Server.mu held. Actions without output return a nil result.

func deleteLoginProfile(c *call) (any, *apiError) {
	u, aerr := c.findUser(true)
	if aerr != nil {
		return nil, aerr
	}
	if u.loginProfile == nil {
		return nil, noSuchEntity("Login Profile for User " + u.name + " cannot be found.")
	}
	// Deleting the password stops new console sign-ins; sessions already open stay valid
	// (apis.md §8.3), which is why sessions are not touched here.
	u.loginProfile = nil
	return nil, nil
}

func (u *user) key(id string) (int, *apiError) {
	for i, k := range u.keys {
		if k.ID == id {
			return i, nil
		}
	}
	return -1, noSuchEntity("The Access Key with id " + id + " cannot be found.")
}

func updateAccessKey(c *call) (any, *apiError) {
	u, aerr := c.findUser(true)
	if aerr != nil {
		return nil, aerr
	}
	id, aerr := c.required("AccessKeyId")
	if aerr != nil {
		return nil, aerr
	}
	status, aerr := c.required("Status")
	if aerr != nil {
		return nil, aerr
	}
	if status != "Active" && status != "Inactive" {
		return nil, validation("1 validation error detected: Value '" + status + "' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")
	}
	i, aerr := u.key(id)
	if aerr != nil {
		return nil, aerr
	}
	u.keys[i].Status = status
	return nil, nil
}

func deleteAccessKey(c *call) (any, *apiError) {
	u, aerr := c.findUser(true)
	if aerr != nil {
		return nil, aerr
	}
	id, aerr := c.required("AccessKeyId")
	if aerr != nil {
		return nil, aerr
	}
	i, aerr := u.key(id)
	if aerr != nil {
		return nil, aerr
	}
	u.keys = slices.Delete(u.keys, i, i+1)
	delete(c.s.keyOwner, id)
	return nil, nil
}

// removeCred deletes the credential with the ID in parameter idParam from list.
func removeCred(c *call, list func(*user) *[]*cred, idParam, what string, optionalUser bool) (any, *apiError) {
	u, aerr := c.findUser(optionalUser)
	if aerr != nil {
		return nil, aerr
	}
	id, aerr := c.required(idParam)
	if aerr != nil {
		return nil, aerr
	}
	l := list(u)
	i := slices.IndexFunc(*l, func(k *cred) bool { return k.ID == id })
	if i < 0 {
		return nil, noSuchEntity(fmt.Sprintf("The %s with id %s cannot be found.", what, id))
	}
	*l = slices.Delete(*l, i, i+1)
	return nil, nil
}

func deleteSigningCertificate(c *call) (any, *apiError) {
	return removeCred(c, func(u *user) *[]*cred { return &u.certs }, "CertificateId", "Signing Certificate", true)
}

func deleteSSHPublicKey(c *call) (any, *apiError) {
	return removeCred(c, func(u *user) *[]*cred { return &u.ssh }, "SSHPublicKeyId", "Public Key", false)
}

func deleteServiceSpecificCredential(c *call) (any, *apiError) {
	return removeCred(c, func(u *user) *[]*cred { return &u.service }, "ServiceSpecificCredentialId", "Service Specific Credential", true)
}

// DeactivateMFADevice unassigns the device from the user. A virtual device stays in the
// account, unassigned, until DeleteVirtualMFADevice; a hardware device is simply released.
func deactivateMFADevice(c *call) (any, *apiError) {
	u, aerr := c.findUser(true)
	if aerr != nil {
		return nil, aerr
	}
	serial, aerr := c.required("SerialNumber")
	if aerr != nil {
		return nil, aerr
	}
	i := slices.IndexFunc(u.mfa, func(d mfaDevice) bool { return d.serial == serial })
	if i < 0 {
		return nil, noSuchEntity("MFA Device with serial number " + serial + " does not exist.")
	}
	u.mfa = slices.Delete(u.mfa, i, i+1)
	if _, ok := c.s.virtual[serial]; ok {
		c.s.virtual[serial] = ""
	}
	return nil, nil
}

func deleteVirtualMFADevice(c *call) (any, *apiError) {
	serial, aerr := c.required("SerialNumber")
	if aerr != nil {
		return nil, aerr
	}
	owner, ok := c.s.virtual[serial]
	switch {
	case !ok:
		return nil, noSuchEntity("VirtualMFADevice with serial number " + serial + " doesn't exist.")
	case owner != "":
		return nil, deleteConflict("MFA Device is still in use by user " + c.s.users[owner].name + ".")
	}
	delete(c.s.virtual, serial)
	return nil, nil
}

func removeUserFromGroup(c *call) (any, *apiError) {
	u, aerr := c.findUser(false)
	if aerr != nil {
		return nil, aerr
	}
	name, aerr := c.required("GroupName")
	if aerr != nil {
		return nil, aerr
	}
	g := c.s.groups[strings.ToLower(name)]
	if g == nil {
		return nil, noSuchEntity("The group with name " + name + " cannot be found.")
	}
	i := slices.Index(u.groups, strings.ToLower(g.name))
	if i < 0 {
		return nil, noSuchEntity("User " + u.name + " is not in group " + g.name + ".")
	}
	u.groups = slices.Delete(u.groups, i, i+1)
	return nil, nil
}

func detachUserPolicy(c *call) (any, *apiError) {
	u, aerr := c.findUser(false)
	if aerr != nil {
		return nil, aerr
	}
	arn, aerr := c.required("PolicyArn")
	if aerr != nil {
		return nil, aerr
	}
	if _, ok := policyName(arn); !ok {
		return nil, invalidInput("ARN " + arn + " is not valid.")
	}
	i := slices.Index(u.attached, arn)
	if i < 0 {
		return nil, noSuchEntity("Policy " + arn + " was not found.")
	}
	u.attached = slices.Delete(u.attached, i, i+1)
	return nil, nil
}

// PutUserPolicy adds or replaces an inline policy, within the user's inline policy quota.
func putUserPolicy(c *call) (any, *apiError) {
	u, aerr := c.findUser(false)
	if aerr != nil {
		return nil, aerr
	}
	name, aerr := c.required("PolicyName")
	if aerr != nil {
		return nil, aerr
	}
	doc, aerr := c.required("PolicyDocument")
	if aerr != nil {
		return nil, aerr
	}
	if !namePattern.MatchString(name) || len(name) > 128 {
		return nil, validation("1 validation error detected: Value '" + name + "' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
	}
	if _, err := parsePolicy(doc); err != nil {
		return nil, apiErr(400, "MalformedPolicyDocument", err.Error())
	}
	total := policySize(doc)
	for _, p := range u.inline {
		if !strings.EqualFold(p.name, name) {
			total += policySize(p.doc)
		}
	}
	if total > c.s.opts.InlinePolicyQuota {
		return nil, limitExceeded(fmt.Sprintf("Maximum policy size of %d bytes exceeded for user %s", c.s.opts.InlinePolicyQuota, u.name))
	}
	u.putInline(name, doc)
	return nil, nil
}

func deleteUserPolicy(c *call) (any, *apiError) {
	u, aerr := c.findUser(false)
	if aerr != nil {
		return nil, aerr
	}
	name, aerr := c.required("PolicyName")
	if aerr != nil {
		return nil, aerr
	}
	i := slices.IndexFunc(u.inline, func(p inlinePolicy) bool { return strings.EqualFold(p.name, name) })
	if i < 0 {
		return nil, noSuchEntity("The user policy with name " + name + " cannot be found.")
	}
	u.inline = slices.Delete(u.inline, i, i+1)
	return nil, nil
}

// TagUser adds tags (Tags.member.N.Key / .Value), replacing the value of a key already
// present; a user holds at most 50 tags.
func tagUser(c *call) (any, *apiError) {
	u, aerr := c.findUser(false)
	if aerr != nil {
		return nil, aerr
	}
	c.param("Tags") // declares the read of the Tags.member.N.* fields below
	if c.undeclared != nil {
		return nil, c.undeclared
	}
	var tags []Tag
	for n := 1; ; n++ {
		prefix := "Tags.member." + strconv.Itoa(n) + "."
		k, hasKey := c.form[prefix+"Key"]
		if !hasKey {
			break
		}
		tags = append(tags, Tag{Key: k[0], Value: c.form.Get(prefix + "Value")})
	}
	if len(tags) == 0 {
		return nil, validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	next := slices.Clone(u.tags)
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 || strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, invalidInput("The tag key or value is not valid: " + t.Key)
		}
		if i := slices.IndexFunc(next, func(x Tag) bool { return x.Key == t.Key }); i >= 0 {
			next[i].Value = t.Value
		} else {
			next = append(next, t)
		}
	}
	if len(next) > 50 {
		return nil, limitExceeded("The number of tags has reached the maximum limit.")
	}
	u.tags = next
	return nil, nil
}

// DeleteUser refuses with DeleteConflict while anything remains attached to the user
// (apis.md §8.2), naming the first thing found, in the order the API reference lists them.
func deleteUser(c *call) (any, *apiError) {
	u, aerr := c.findUser(false)
	if aerr != nil {
		return nil, aerr
	}
	for _, check := range []struct {
		left bool
		what string
	}{
		{u.loginProfile != nil, "must delete login profile first"},
		{len(u.keys) > 0, "must delete access keys first"},
		{len(u.certs) > 0, "must delete signing certificates first"},
		{len(u.ssh) > 0, "must delete SSH public keys first"},
		{len(u.service) > 0, "must delete service specific credentials first"},
		{len(u.mfa) > 0, "must delete MFA device first"},
		{len(u.inline) > 0, "must delete policies first"},
		{len(u.attached) > 0, "must detach all policies first"},
		{len(u.groups) > 0, "must remove users from group first"},
	} {
		if check.left {
			return nil, deleteConflict("Cannot delete entity, " + check.what + ".")
		}
	}
	delete(c.s.users, strings.ToLower(u.name))
	return nil, nil
}

package awssim

import (
	"maps"
	"slices"
)

// actionSpec is one IAM action the simulator implements: the input members it reads and the
// model-declared error codes it may answer (AWS's common errors are allowed besides). The
// contract test checks each row against the Smithy model.
type actionSpec struct {
	Name     string
	Params   []string
	Errors   []string
	ReadOnly bool
	handle   func(*call) (any, *apiError)
}

func (a *actionSpec) mayReturn(code string) bool {
	return slices.Contains(a.Errors, code) || slices.Contains(commonErrors, code)
}

// ActionSpec describes an action the simulator implements, for contract tests.
type ActionSpec struct {
	Name string
	// Params are the input members the simulator reads.
	Params []string
	// Errors are the operation-specific error codes it may answer.
	Errors []string
	// ReadOnly is true for List* and Get* actions.
	ReadOnly bool
}

// Actions lists the actions the simulator implements; any other Action answers 501.
func Actions() []ActionSpec {
	out := make([]ActionSpec, 0, len(actionTable))
	for _, name := range slices.Sorted(maps.Keys(actionTable)) {
		a := actionTable[name]
		out = append(out, ActionSpec{Name: a.Name, Params: slices.Clone(a.Params), Errors: slices.Clone(a.Errors), ReadOnly: a.ReadOnly})
	}
	return out
}

var (
	paging      = []string{"Marker", "MaxItems"}
	userPaging  = []string{"UserName", "Marker", "MaxItems"}
	notFound    = []string{"NoSuchEntity"}
	notFoundSvc = []string{"NoSuchEntity", "ServiceFailure"}
)

// actionTable holds every action implemented. Each row cites the IAM API Reference page
// (docs.aws.amazon.com/IAM/latest/APIReference/API_<Action>.html) of the same name and
// apis.md §8; parameters and errors are those of the Smithy model's operation.
var actionTable = map[string]*actionSpec{}

func init() {
	for _, a := range []*actionSpec{
		// Finding the user: ListUsers (paged; no tags, per its documentation), GetUser (with
		// tags; no UserName means the caller), ListUserTags (paged).
		{Name: "ListUsers", Params: append([]string{"PathPrefix"}, paging...), Errors: []string{"ServiceFailure"}, ReadOnly: true, handle: listUsers},
		{Name: "GetUser", Params: []string{"UserName"}, Errors: notFoundSvc, ReadOnly: true, handle: getUser},
		{Name: "ListUserTags", Params: userPaging, Errors: notFoundSvc, ReadOnly: true, handle: listUserTags},
		// apis.md §8.2 step 1: console password; NoSuchEntity when there is none.
		{Name: "GetLoginProfile", Params: []string{"UserName"}, Errors: notFoundSvc, ReadOnly: true, handle: getLoginProfile},
		{Name: "DeleteLoginProfile", Params: []string{"UserName"}, Errors: []string{"EntityTemporarilyUnmodifiable", "LimitExceeded", "NoSuchEntity", "ServiceFailure"}, handle: deleteLoginProfile},
		// §8.2 step 2: access keys, deactivated with UpdateAccessKey, then deleted.
		{Name: "ListAccessKeys", Params: userPaging, Errors: notFoundSvc, ReadOnly: true, handle: listAccessKeys},
		{Name: "GetAccessKeyLastUsed", Params: []string{"AccessKeyId"}, ReadOnly: true, handle: getAccessKeyLastUsed},
		{Name: "UpdateAccessKey", Params: []string{"UserName", "AccessKeyId", "Status"}, Errors: []string{"LimitExceeded", "NoSuchEntity", "ServiceFailure"}, handle: updateAccessKey},
		{Name: "DeleteAccessKey", Params: []string{"UserName", "AccessKeyId"}, Errors: []string{"LimitExceeded", "NoSuchEntity", "ServiceFailure"}, handle: deleteAccessKey},
		// §8.2 step 3: signing certificates.
		{Name: "ListSigningCertificates", Params: userPaging, Errors: notFoundSvc, ReadOnly: true, handle: listSigningCertificates},
		{Name: "DeleteSigningCertificate", Params: []string{"UserName", "CertificateId"}, Errors: []string{"ConcurrentModification", "LimitExceeded", "NoSuchEntity", "ServiceFailure"}, handle: deleteSigningCertificate},
		// §8.2 step 4: SSH public keys.
		{Name: "ListSSHPublicKeys", Params: userPaging, Errors: notFound, ReadOnly: true, handle: listSSHPublicKeys},
		{Name: "DeleteSSHPublicKey", Params: []string{"UserName", "SSHPublicKeyId"}, Errors: notFound, handle: deleteSSHPublicKey},
		// §8.2 step 5: service-specific credentials (not paged).
		{Name: "ListServiceSpecificCredentials", Params: []string{"UserName", "ServiceName"}, Errors: []string{"NoSuchEntity", "NotSupportedService"}, ReadOnly: true, handle: listServiceSpecificCredentials},
		{Name: "DeleteServiceSpecificCredential", Params: []string{"UserName", "ServiceSpecificCredentialId"}, Errors: notFound, handle: deleteServiceSpecificCredential},
		// §8.2 step 6: MFA devices, deactivated, then (virtual ones) deleted.
		{Name: "ListMFADevices", Params: userPaging, Errors: notFoundSvc, ReadOnly: true, handle: listMFADevices},
		{Name: "DeactivateMFADevice", Params: []string{"UserName", "SerialNumber"}, Errors: []string{"ConcurrentModification", "EntityTemporarilyUnmodifiable", "LimitExceeded", "NoSuchEntity", "ServiceFailure"}, handle: deactivateMFADevice},
		{Name: "DeleteVirtualMFADevice", Params: []string{"SerialNumber"}, Errors: []string{"ConcurrentModification", "DeleteConflict", "LimitExceeded", "NoSuchEntity", "ServiceFailure"}, handle: deleteVirtualMFADevice},
		// §8.2 step 7: groups.
		{Name: "ListGroupsForUser", Params: userPaging, Errors: notFoundSvc, ReadOnly: true, handle: listGroupsForUser},
		{Name: "RemoveUserFromGroup", Params: []string{"GroupName", "UserName"}, Errors: []string{"LimitExceeded", "NoSuchEntity", "ServiceFailure"}, handle: removeUserFromGroup},
		// §8.2 step 8: attached managed policies.
		{Name: "ListAttachedUserPolicies", Params: append([]string{"UserName", "PathPrefix"}, paging...), Errors: []string{"InvalidInput", "NoSuchEntity", "ServiceFailure"}, ReadOnly: true, handle: listAttachedUserPolicies},
		{Name: "DetachUserPolicy", Params: []string{"UserName", "PolicyArn"}, Errors: []string{"InvalidInput", "LimitExceeded", "NoSuchEntity", "ServiceFailure"}, handle: detachUserPolicy},
		// §8.2 step 9: inline policies; §8.3: the deny policy that ends live sessions.
		{Name: "ListUserPolicies", Params: userPaging, Errors: notFoundSvc, ReadOnly: true, handle: listUserPolicies},
		{Name: "GetUserPolicy", Params: []string{"UserName", "PolicyName"}, Errors: notFoundSvc, ReadOnly: true, handle: getUserPolicy},
		{Name: "PutUserPolicy", Params: []string{"UserName", "PolicyName", "PolicyDocument"}, Errors: []string{"LimitExceeded", "MalformedPolicyDocument", "NoSuchEntity", "ServiceFailure"}, handle: putUserPolicy},
		{Name: "DeleteUserPolicy", Params: []string{"UserName", "PolicyName"}, Errors: []string{"LimitExceeded", "NoSuchEntity", "ServiceFailure"}, handle: deleteUserPolicy},
		// Marking the user offboarded, and §8.2 step 10: deleting it.
		{Name: "TagUser", Params: []string{"UserName", "Tags"}, Errors: []string{"ConcurrentModification", "InvalidInput", "LimitExceeded", "NoSuchEntity", "ServiceFailure"}, handle: tagUser},
		{Name: "DeleteUser", Params: []string{"UserName"}, Errors: []string{"ConcurrentModification", "DeleteConflict", "LimitExceeded", "NoSuchEntity", "ServiceFailure"}, handle: deleteUser},
	} {
		actionTable[a.Name] = a
	}
}

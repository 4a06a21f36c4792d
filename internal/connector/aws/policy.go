package aws

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// policyVersion is the current IAM policy language version.
const policyVersion = "2012-10-17"

// The statements' Sids, so a reader of the user's policies sees who put them there.
const (
	denySid     = "OffboardDenyCredentialsIssuedBefore"
	denyKeysSid = "OffboardDenyLongTermKeys"
)

// denyDocument is the inline policy that takes every use of the user's credentials away at
// once (apis.md §8.3). Its first statement denies every action on every resource to
// temporary credentials issued before cutoff: IAM cannot list or revoke console sessions or
// the temporary credentials of GetSessionToken and GetFederationToken, but it evaluates the
// user's policies on each request, so those sessions stop working (within the few minutes
// IAM takes to propagate a policy change). Requests signed with a long-term access key carry
// no token issue time, so the second statement denies everything where aws:TokenIssueTime is
// absent: the user's keys stop working with the policy, before they are deactivated and
// deleted, and so does any key the user might create in the meantime.
func denyDocument(cutoff time.Time) string {
	doc := map[string]any{
		"Version": policyVersion,
		"Statement": []map[string]any{{
			"Sid":      denySid,
			"Effect":   "Deny",
			"Action":   "*",
			"Resource": "*",
			"Condition": map[string]any{
				"DateLessThan": map[string]string{"aws:TokenIssueTime": cutoff.UTC().Format(time.RFC3339)},
			},
		}, {
			"Sid":      denyKeysSid,
			"Effect":   "Deny",
			"Action":   "*",
			"Resource": "*",
			"Condition": map[string]any{
				"Null": map[string]string{"aws:TokenIssueTime": "true"},
			},
		}},
	}
	out, _ := json.Marshal(doc)
	return string(out)
}

// decodeDocument undoes the URL encoding (RFC 3986) IAM applies to policy documents it
// returns.
func decodeDocument(encoded string) (string, error) {
	doc, err := url.PathUnescape(encoded)
	if err != nil {
		return "", fmt.Errorf("policy document is not URL-encoded: %w", err)
	}
	return doc, nil
}

// denyCutoff returns the issue time before which doc denies everything, when doc is exactly
// the kind of policy denyDocument writes (a Deny of "*" on "*" under a single DateLessThan
// aws:TokenIssueTime, and a Deny of "*" on "*" where aws:TokenIssueTime is null); otherwise
// zero, so that a policy someone edited, or one written before the second statement existed,
// is not mistaken for ours and is written again.
func denyCutoff(doc string) time.Time {
	var p struct {
		Statement []struct {
			Effect    string
			Action    any
			Resource  any
			NotAction any
			Condition map[string]map[string]any
		}
	}
	if json.Unmarshal([]byte(doc), &p) != nil || len(p.Statement) != 2 {
		return time.Time{}
	}
	var cutoff time.Time
	keys := false
	for _, st := range p.Statement {
		if st.Effect != "Deny" || st.Action != "*" || st.Resource != "*" || st.NotAction != nil || len(st.Condition) != 1 {
			return time.Time{}
		}
		if c, ok := st.Condition["DateLessThan"]; ok && len(c) == 1 {
			v, _ := c["aws:TokenIssueTime"].(string)
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				cutoff = t.UTC()
			}
		}
		if c, ok := st.Condition["Null"]; ok && len(c) == 1 && c["aws:TokenIssueTime"] == "true" {
			keys = true
		}
	}
	if !keys {
		return time.Time{}
	}
	return cutoff
}

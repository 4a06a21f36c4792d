package aws

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// policyVersion is the current IAM policy language version.
const policyVersion = "2012-10-17"

// denySid names the statement, so a reader of the user's policies sees who put it there.
const denySid = "OffboardDenyCredentialsIssuedBefore"

// denyDocument is the inline policy that ends the user's live sessions (apis.md §8.3): it
// denies every action on every resource to credentials issued before cutoff. IAM cannot list
// or revoke console sessions or the temporary credentials of GetSessionToken and
// GetFederationToken, but it evaluates the user's policies on each request, so sessions
// issued before the cutoff stop working (within the few minutes IAM takes to propagate a
// policy change). Long-term access keys carry no issue time and are unaffected: they are
// deactivated and deleted by their own actions.
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
// the kind of policy denyDocument writes (one Deny of "*" on "*" under a single
// DateLessThan aws:TokenIssueTime); otherwise zero, so that a policy someone edited is not
// mistaken for ours.
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
	if json.Unmarshal([]byte(doc), &p) != nil || len(p.Statement) != 1 {
		return time.Time{}
	}
	st := p.Statement[0]
	if st.Effect != "Deny" || st.Action != "*" || st.Resource != "*" || st.NotAction != nil || len(st.Condition) != 1 {
		return time.Time{}
	}
	keys, ok := st.Condition["DateLessThan"]
	if !ok || len(keys) != 1 {
		return time.Time{}
	}
	v, ok := keys["aws:TokenIssueTime"].(string)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

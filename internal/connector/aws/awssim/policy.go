package awssim

import (
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode"
)

// policyDoc is the part of the IAM policy grammar the simulator evaluates: enough to validate
// a document and to tell whether it allows anything or denies everything to credentials
// issued at a given time.
type policyDoc struct {
	Version   string
	Statement []statement
}

type statement struct {
	Effect    string
	Action    stringList
	NotAction stringList
	Resource  stringList
	Condition map[string]map[string]stringList
}

// malformed is IAM's MalformedPolicyDocument message, worded as IAM words it.
type malformed string

func (m malformed) Error() string { return string(m) }

// stringList is a policy element that may be a string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("must be a string or a list of strings")
	}
	*l = many
	return nil
}

func (l stringList) has(v string) bool {
	for _, s := range l {
		if s == v {
			return true
		}
	}
	return false
}

// parsePolicy reads a policy document, refusing what IAM refuses as malformed: bad JSON, no
// statement, an effect other than Allow or Deny, a statement with no action.
func parsePolicy(doc string) (policyDoc, error) {
	var raw struct {
		Version   string
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return policyDoc{}, malformed("Syntax errors in policy.")
	}
	var p policyDoc
	p.Version = raw.Version
	var one statement
	switch {
	case len(raw.Statement) == 0:
		return policyDoc{}, malformed("Missing required field Statement")
	case json.Unmarshal(raw.Statement, &p.Statement) == nil:
	case json.Unmarshal(raw.Statement, &one) == nil:
		p.Statement = []statement{one}
	default:
		return policyDoc{}, malformed("Syntax errors in policy.")
	}
	if len(p.Statement) == 0 {
		return policyDoc{}, malformed("Missing required field Statement")
	}
	for _, st := range p.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return policyDoc{}, malformed("Invalid effect: " + st.Effect)
		}
		if len(st.Action) == 0 && len(st.NotAction) == 0 {
			return policyDoc{}, malformed("Policy statement must contain actions.")
		}
	}
	return p, nil
}

// policySize is how IAM counts a policy against the quota: characters other than whitespace.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func (p policyDoc) allowsAnything() bool {
	for _, st := range p.Statement {
		if st.Effect == "Allow" {
			return true
		}
	}
	return false
}

// deniesAllIssuedAt reports whether a statement denies every action on every resource to
// temporary credentials issued at issued: unconditionally, or under a DateLessThan (or
// DateLessThanEquals) condition on aws:TokenIssueTime that the issue time meets. Any other
// condition is not understood and so not counted, to err on the side of "still valid".
func (p policyDoc) deniesAllIssuedAt(issued time.Time) bool {
	for _, st := range p.Statement {
		if st.Effect != "Deny" || !st.Action.has("*") || len(st.NotAction) > 0 || !st.Resource.has("*") {
			continue
		}
		if len(st.Condition) == 0 || conditionMet(st.Condition, issued) {
			return true
		}
	}
	return false
}

// deniesLongTermKeys reports whether a statement denies every action on every resource to
// requests signed with a long-term access key: unconditionally, or where aws:TokenIssueTime
// is null (such requests carry no token issue time).
func (p policyDoc) deniesLongTermKeys() bool {
	for _, st := range p.Statement {
		if st.Effect != "Deny" || !st.Action.has("*") || len(st.NotAction) > 0 || !st.Resource.has("*") {
			continue
		}
		if len(st.Condition) == 0 {
			return true
		}
		if len(st.Condition) == 1 && len(st.Condition["Null"]) == 1 {
			for k, v := range st.Condition["Null"] {
				if strings.EqualFold(k, "aws:TokenIssueTime") && v.has("true") {
					return true
				}
			}
		}
	}
	return false
}

func conditionMet(cond map[string]map[string]stringList, issued time.Time) bool {
	if len(cond) != 1 {
		return false
	}
	for op, keys := range cond {
		if len(keys) != 1 {
			return false
		}
		for k, values := range keys {
			if !strings.EqualFold(k, "aws:TokenIssueTime") {
				return false
			}
			for _, v := range values {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					continue
				}
				switch op {
				case "DateLessThan":
					if issued.Before(t) {
						return true
					}
				case "DateLessThanEquals":
					if !issued.After(t) {
						return true
					}
				}
			}
		}
	}
	return false
}

package connector

import (
	"strings"
	"testing"
)

// TestAccountNameFollowsTheConfiguredRule protects how database logins, LDAP uids and IAM user
// names are derived: a handle wins unless it is missing where only a handle is trusted, and
// what comes from the email is lower-cased.
func TestAccountNameFollowsTheConfiguredRule(t *testing.T) {
	t.Parallel()
	withHandle := Person{Email: "Dana.W@Example.com", Handles: map[string]string{"db": "dwhit"}}
	noHandle := Person{Email: "Dana.W@Example.com"}
	for _, tc := range []struct {
		name     string
		p        Person
		rule     string
		want     string
		whyEmpty bool
	}{
		{"email local part", noHandle, NameFromEmailLocal, "dana.w", false},
		{"handle beats the local part", withHandle, NameFromEmailLocal, "dwhit", false},
		{"whole email", noHandle, NameFromEmail, "dana.w@example.com", false},
		{"handle only", withHandle, NameFromHandle, "dwhit", false},
		{"handle only, none given", noHandle, NameFromHandle, "", true},
		{"no email", Person{}, NameFromEmail, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := tc.p.AccountName("db", tc.rule)
			if got != tc.want || (why != "") != tc.whyEmpty {
				t.Errorf("AccountName = %q, %q; want %q (a reason: %v)", got, why, tc.want, tc.whyEmpty)
			}
		})
	}
}

// TestNameRuleRejectsUnknownRules keeps a typo in a connector's configuration from silently
// matching accounts by another rule.
func TestNameRuleRejectsUnknownRules(t *testing.T) {
	t.Parallel()
	for rule, want := range map[string]string{"": NameFromEmailLocal, "email": NameFromEmail, "handle": NameFromHandle, "email_local": NameFromEmailLocal} {
		if got, err := NameRule(rule); err != nil || got != want {
			t.Errorf("NameRule(%q) = %q, %v; want %q", rule, got, err, want)
		}
	}
	if _, err := NameRule("login"); err == nil || !strings.Contains(err.Error(), `not "login"`) {
		t.Errorf("NameRule(login) = %v, want a refusal naming it", err)
	}
}

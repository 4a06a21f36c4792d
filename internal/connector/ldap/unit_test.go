package ldap

import (
	"strconv"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/connector"
)

// TestADDisableKeepsEveryOtherFlag protects AD accounts' other settings: disabling sets
// ACCOUNTDISABLE (0x2) only, so smartcard, delegation and password flags survive, and the
// modify sent is a single replace of userAccountControl with that value.
func TestADDisableKeepsEveryOtherFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stored   string
		want     uint32
		disabled bool
	}{
		{stored: "512", want: 514},                 // NORMAL_ACCOUNT
		{stored: "66048", want: 66050},             // NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD
		{stored: "262656", want: 262658},           // NORMAL_ACCOUNT | SMARTCARD_REQUIRED
		{stored: "514", want: 514, disabled: true}, // already disabled: unchanged
		{stored: "532480", want: 532482},           // SERVER_TRUST_ACCOUNT | TRUSTED_FOR_DELEGATION
		{stored: "-2147483136", want: 0x80000202},  // signed form with the top bit set
		{stored: " 4260352 ", want: 4260354},       // DONT_REQ_PREAUTH | DONT_EXPIRE | NORMAL, spaces
		{stored: "0", want: 2},                     // no flags at all
	}
	for _, tt := range tests {
		uac, err := parseUAC([]string{tt.stored})
		if err != nil {
			t.Fatalf("parseUAC(%q): %v", tt.stored, err)
		}
		if uacDisabled(uac) != tt.disabled {
			t.Errorf("uacDisabled(%q) = %v", tt.stored, !tt.disabled)
		}
		got := disabledUAC(uac)
		if got != tt.want || got&^uacAccountDisable != uac&^uacAccountDisable {
			t.Errorf("disabledUAC(%q) = %d, want %d with every other bit kept", tt.stored, got, tt.want)
		}
		req := adDisableRequest("CN=Dana,OU=Staff,DC=corp,DC=example", uac)
		if req.DN != "CN=Dana,OU=Staff,DC=corp,DC=example" || len(req.Changes) != 1 {
			t.Fatalf("request %+v, want one change on the user's DN", req)
		}
		ch := req.Changes[0]
		if ch.Operation != goldap.ReplaceAttribute || ch.Modification.Type != "userAccountControl" ||
			len(ch.Modification.Vals) != 1 || ch.Modification.Vals[0] != formatUint(tt.want) {
			t.Errorf("change %+v, want replace userAccountControl=%d", ch, tt.want)
		}
	}
	for _, bad := range [][]string{nil, {"512", "514"}, {"abc"}} {
		if _, err := parseUAC(bad); err == nil {
			t.Errorf("parseUAC(%q) accepted a value that is not one number", bad)
		}
	}
}

// TestADPlansDisableWithPreviousValue protects restore for AD: the action records the value it
// replaces, and an already disabled account gets no action.
func TestADPlansDisableWithPreviousValue(t *testing.T) {
	t.Parallel()
	c, err := New(Config{URL: "ldaps://dc.corp.example", BindDN: "CN=svc,DC=corp", BindPassword: "pw", BaseDN: "DC=corp,DC=example", Flavor: FlavorAD})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.UserFilter != DefaultADUserFilter {
		t.Errorf("AD filter = %q", c.cfg.UserFilter)
	}
	for _, tt := range []struct {
		uac     string
		actions int
	}{{"66048", 1}, {"66050", 0}} {
		var pl connector.Plan
		c.planADDisable(&pl, account{DN: "CN=Dana,DC=corp,DC=example", Attrs: map[string][]string{"userAccountControl": {tt.uac}, "primaryGroupID": {"513"}}})
		if len(pl.Kept) != 1 || pl.Kept[0].Target != "primaryGroupID=513" {
			t.Errorf("uac %s: kept %+v, want the primary group explained", tt.uac, pl.Kept)
		}
		if len(pl.Actions) != tt.actions {
			t.Fatalf("uac %s: %d actions, want %d", tt.uac, len(pl.Actions), tt.actions)
		}
		if tt.actions == 1 {
			a := pl.Actions[0]
			if a.Param(pPrevious) != `["66048"]` || !strings.Contains(a.Before, `"previous":["66048"]`) || a.Param(pFlavor) != FlavorAD {
				t.Errorf("action %+v does not record the previous userAccountControl", a)
			}
		}
	}
}

// TestFilterValuesAreEscaped protects against filter injection through the person's email or
// handle: every special character reaches the server as a literal.
func TestFilterValuesAreEscaped(t *testing.T) {
	t.Parallel()
	got := expandFilter(DefaultUserFilter, "x*)(uid=*", `a\b(c)`)
	want := `(|(mail=x\2a\29\28uid=\2a)(uid=a\5cb\28c\29))`
	if got != want {
		t.Errorf("expandFilter = %s, want %s", got, want)
	}
	if _, err := goldap.CompileFilter(got); err != nil {
		t.Errorf("expanded filter does not compile: %v", err)
	}
}

// TestConfigProblemsAreListed protects operators from a half-valid configuration: New reports
// every problem at once and never echoes the password.
func TestConfigProblemsAreListed(t *testing.T) {
	t.Parallel()
	_, err := New(Config{URL: "http://x", BindPassword: "hunter2-secret", Flavor: "novell", UserFilter: "(mail={email}"})
	if err == nil {
		t.Fatal("New accepted an invalid configuration")
	}
	for _, want := range []string{"scheme", "base_dn", "bind_dn", "flavor", "user_filter"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "hunter2-secret") {
		t.Error("the error shows the password")
	}
	_, err = New(Config{URL: "ldap://x", BindDN: "cn=a", BindPassword: "p", BaseDN: "dc=x", Disable: Disable{Attribute: "a", Value: "b", DisabledOU: "ou=d,dc=x"}})
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("both disable methods: err = %v", err)
	}
	_, err = New(Config{URL: "ldaps://x", BindDN: "cn=a", BindPassword: "p", BaseDN: "dc=x", Flavor: FlavorAD, Disable: Disable{DisabledOU: "ou=d,dc=x"}})
	if err == nil || !strings.Contains(err.Error(), "userAccountControl") {
		t.Errorf("AD with a disabled OU: err = %v", err)
	}
	_, err = New(Config{URL: "ldaps://x", StartTLS: true, BindDN: "cn=a", BindPassword: "p", BaseDN: "dc=x"})
	if err == nil || !strings.Contains(err.Error(), "start_tls") {
		t.Errorf("StartTLS on ldaps: err = %v", err)
	}
}

func formatUint(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

package oktasim

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestGroupRemovalByType(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{})
	tests := []struct {
		name, group string
		want        int
		code        string
	}{
		{"static OKTA_GROUP", "00gstatic", 204, ""},
		{"not a member any more", "00gstatic", 404, "E0000007"},
		{"rule-managed OKTA_GROUP", "00grule", 204, ""},
		{"APP_GROUP refused", "00gad", 403, "E0000006"},
		{"BUILT_IN refused", EveryoneID, 403, "E0000006"},
		{"no such group", "00gnone", 404, "E0000007"},
	}
	for _, tt := range tests {
		r := o.do(t, "DELETE", "/api/v1/groups/"+tt.group+"/users/00ujane")
		if r.status != tt.want {
			t.Errorf("%s: %d, want %d: %s", tt.name, r.status, tt.want, r.body)
		} else if tt.code != "" && r.errorCode(t) != tt.code {
			t.Errorf("%s: want %s", tt.name, tt.code)
		}
	}
	if ex := o.RuleExclusions("0prstaff"); len(ex) != 1 || ex[0] != "00ujane" {
		t.Errorf("rule exclusions after removing a rule-managed member: %v, want [00ujane]", ex)
	}
	var groups []string
	for _, g := range o.GroupsOf("00ujane") {
		groups = append(groups, g.ID)
	}
	if strings.Join(groups, ",") != EveryoneID+",00gad" {
		t.Errorf("groups left: %v", groups)
	}
	var rule struct {
		Conditions struct {
			People struct {
				Users struct{ Exclude []string }
			}
		}
	}
	must(t, json.Unmarshal(o.do(t, "GET", "/api/v1/groups/rules/0prstaff").body, &rule))
	if len(rule.Conditions.People.Users.Exclude) != 1 {
		t.Errorf("GET rule does not show the exclusion: %+v", rule)
	}
}

func TestFactorsAfterDeactivation(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{})
	if r := o.do(t, "DELETE", "/api/v1/users/00ujane/factors/mfapush"); r.status != 204 {
		t.Fatalf("unenroll push while active: %d", r.status)
	}
	if got := o.FactorsOf("00ujane"); len(got) != 1 || got[0].ID != "mfasms" {
		t.Errorf("after unenrolling push, factors %v; Okta also unenrolls Okta Verify TOTP", got)
	}
	if r := o.do(t, "DELETE", "/api/v1/users/00ujane/factors/mfatotp"); r.status != 404 {
		t.Errorf("unenroll a factor already gone: %d, want 404", r.status)
	}
	if r := o.do(t, "POST", "/api/v1/users/00ujane/lifecycle/deactivate?sendEmail=false"); r.status != 200 {
		t.Fatalf("deactivate: %d %s", r.status, r.body)
	}
	r := o.do(t, "DELETE", "/api/v1/users/00ujane/factors/mfasms")
	if r.status != 403 || r.errorCode(t) != "E0000006" {
		t.Errorf("unenroll after deactivation: %d, want 403 E0000006", r.status)
	}
	if len(o.FactorsOf("00ujane")) != 1 {
		t.Error("a refused unenroll removed the factor")
	}
}

func TestDeactivationTransitionsAndEndsSessions(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{TransitionReads: 2})
	if r := o.do(t, "DELETE", "/api/v1/users/00ujane/sessions"); r.status != 204 {
		t.Fatalf("revoke sessions: %d", r.status)
	}
	if o.SessionsOf("00ujane") != 0 || len(o.ClientsOf("00ujane")) != 1 {
		t.Errorf("without oauthTokens: sessions %d, tokens %d; want 0 and 1 (tokens kept)", o.SessionsOf("00ujane"), len(o.ClientsOf("00ujane")))
	}
	if r := o.do(t, "DELETE", "/api/v1/users/00ujane/sessions?oauthTokens=true"); r.status != 204 || len(o.ClientsOf("00ujane")) != 0 {
		t.Errorf("with oauthTokens=true: %d, tokens left %d", r.status, len(o.ClientsOf("00ujane")))
	}
	if r := o.do(t, "POST", "/api/v1/users/00ujane/lifecycle/deactivate"); r.status != 200 || len(r.body) != 0 {
		t.Fatalf("deactivate: %d %q, want 200 with no body", r.status, r.body)
	}
	type view struct{ Status, TransitioningToStatus string }
	wants := []view{{"ACTIVE", "DEPROVISIONED"}, {"ACTIVE", "DEPROVISIONED"}, {"DEPROVISIONED", ""}, {"DEPROVISIONED", ""}}
	for i, want := range wants {
		var got view
		must(t, json.Unmarshal(o.do(t, "GET", "/api/v1/users/00ujane").body, &got))
		if got != want {
			t.Errorf("read %d after deactivation: %+v, want %+v", i+1, got, want)
		}
	}
	r := o.do(t, "POST", "/api/v1/users/00ujane/lifecycle/deactivate")
	if r.status != 404 || r.errorCode(t) != "E0000007" {
		t.Errorf("deactivating a DEPROVISIONED user: %d, want 404 E0000007", r.status)
	}
	if r := o.do(t, "POST", "/api/v1/users/00ujane/lifecycle/suspend"); r.status != 400 {
		t.Errorf("suspending a DEPROVISIONED user: %d, want 400", r.status)
	}
}

func TestDeleteIsTwoStep(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{TransitionReads: -1})
	steps := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantUser   string
	}{
		{"first DELETE deactivates", "DELETE", "/api/v1/users/00ujane", 204, "DEPROVISIONED"},
		{"the user is still readable", "GET", "/api/v1/users/00ujane", 200, "DEPROVISIONED"},
		{"second DELETE deletes", "DELETE", "/api/v1/users/00ujane", 204, ""},
		{"then the user is gone", "GET", "/api/v1/users/00ujane", 404, ""},
		{"and a third DELETE finds nothing", "DELETE", "/api/v1/users/00ujane", 404, ""},
	}
	for _, st := range steps {
		if r := o.do(t, st.method, st.path); r.status != st.wantStatus {
			t.Errorf("%s: %d, want %d", st.name, r.status, st.wantStatus)
		}
		if got := o.UserStatus("00ujane"); got != st.wantUser {
			t.Errorf("%s: status %q, want %q", st.name, got, st.wantUser)
		}
	}
	if len(o.GroupsOf("00ujane")) != 0 {
		t.Error("a deleted user is still in groups")
	}
}

func TestSuspendOnlyFromActive(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{})
	if r := o.do(t, "POST", "/api/v1/users/00ujane/lifecycle/suspend"); r.status != 200 || o.UserStatus("00ujane") != "SUSPENDED" {
		t.Fatalf("suspend: %d, status %s", r.status, o.UserStatus("00ujane"))
	}
	if r := o.do(t, "POST", "/api/v1/users/00ujane/lifecycle/suspend"); r.status != 400 || r.errorCode(t) != "E0000001" {
		t.Errorf("suspending a suspended user: %d, want 400 E0000001", r.status)
	}
}

func TestRolesGrantsAndClients(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{})
	must(t, o.AddRole("00ujane", Role{ID: "ra1", Type: "SUPER_ADMIN"}))
	must(t, o.AddRole("00ujane", Role{ID: "ra2", Type: "HELP_DESK_ADMIN", AssignmentType: "GROUP"}))
	must(t, o.AddGrant("00ujane", Grant{ID: "oag1", ClientID: "0oazoom", ClientName: "Zoom", ScopeID: "okta.users.read"}))
	steps := []struct {
		method, path string
		want         int
	}{
		{"GET", "/api/v1/users/00ujane/clients", 200},
		{"GET", "/api/v1/users/00ujane/clients/0oaslack/tokens", 200},
		{"DELETE", "/api/v1/users/00ujane/roles/ra1", 204},
		{"DELETE", "/api/v1/users/00ujane/roles/ra1", 404},
		{"DELETE", "/api/v1/users/00ujane/roles/ra2", 403},
		{"DELETE", "/api/v1/users/00ujane/grants", 204},
		{"DELETE", "/api/v1/users/00ujane/grants", 204},
		{"GET", "/api/v1/users/00unobody/grants", 404},
	}
	for _, st := range steps {
		if r := o.do(t, st.method, st.path); r.status != st.want {
			t.Errorf("%s %s: %d, want %d: %s", st.method, st.path, r.status, st.want, r.body)
		}
	}
	var clients []struct {
		ClientID   string `json:"client_id"`
		ClientName string `json:"client_name"`
	}
	must(t, json.Unmarshal(o.do(t, "GET", "/api/v1/users/00ujane/clients").body, &clients))
	if len(clients) != 1 || clients[0].ClientID != "0oaslack" || clients[0].ClientName != "Slack" {
		t.Errorf("clients after revoking grants: %+v, want only Slack (it still holds a token)", clients)
	}
	if len(o.GrantsOf("00ujane")) != 0 || len(o.RolesOf("00ujane")) != 1 {
		t.Errorf("grants %v roles %v", o.GrantsOf("00ujane"), o.RolesOf("00ujane"))
	}
}

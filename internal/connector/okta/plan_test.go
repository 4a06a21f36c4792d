package okta

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/okta/oktasim"
)

func keys(p connector.Plan) []string {
	var out []string
	for _, a := range p.Actions {
		out = append(out, a.Kind+"/"+a.Target)
	}
	return out
}

func find(t *testing.T, p connector.Plan, kind, target string) connector.Action {
	t.Helper()
	for _, a := range p.Actions {
		if a.Kind == kind && a.Target == target {
			return a
		}
	}
	t.Fatalf("plan has no %s/%s; it has %v", kind, target, keys(p))
	return connector.Action{}
}

func TestPlanListsEveryAccessInSafeOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{PageSize: 2}, nil)
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)

	want := []string{
		"revoke_sessions/" + janeID,
		"revoke_grants/" + janeID,
		"remove_factor/mfapush",
		"remove_factor/mfasms",
		"remove_role/rasuper",
		"remove_group/00geng",
		"remove_group/00gstaff",
		"deactivate/" + janeID,
	}
	if got := keys(p); !slices.Equal(got, want) {
		t.Fatalf("actions\n got %v\nwant %v", got, want)
	}
	if p.System != "okta" || p.NotFound || !strings.Contains(p.Account, janeID) || !strings.Contains(p.Account, "ACTIVE") {
		t.Errorf("plan header: system %q, not found %v, account %q", p.System, p.NotFound, p.Account)
	}
	// Everything goes at once except deactivation, which waits for everything (Okta refuses
	// factor removal after it).
	after := map[string][]string{
		"revoke_sessions": nil,
		"revoke_grants":   nil,
		"remove_factor":   nil,
		"remove_role":     nil,
		"remove_group":    nil,
		"deactivate":      {"revoke_sessions", "revoke_grants", "remove_factor", "remove_role", "remove_group"},
	}
	for _, a := range p.Actions {
		if !slices.Equal(a.After, after[a.Kind]) {
			t.Errorf("%s waits on %v, want %v", a.Key(), a.After, after[a.Kind])
		}
		if a.Param("user_id") != janeID || a.Detail == "" || a.Before == "" || a.System != "okta" {
			t.Errorf("%s: user_id %q, detail %q, before %q", a.Key(), a.Param("user_id"), a.Detail, a.Before)
		}
	}
}

func TestPlanKeepsWhatOktaWillNotRemove(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	kept := map[string]string{}
	for _, k := range p.Kept {
		kept[k.Target] = k.Reason
	}
	tests := []struct {
		target string
		want   []string
	}{
		{oktasim.EveryoneID, []string{"Everyone", "built-in group, removed only by deactivation"}},
		{"00gvpn", []string{"imported from Active Directory (corp.acme.example)", "managed in the source directory", "E0000006", "access ends with deactivation"}},
		{"rahelp", []string{"admin group"}},
	}
	for _, tt := range tests {
		reason, ok := kept[tt.target]
		if !ok {
			t.Errorf("%s is not kept; kept: %v", tt.target, kept)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(reason, w) {
				t.Errorf("kept %s: reason %q lacks %q", tt.target, reason, w)
			}
		}
	}
	imported := ""
	for _, n := range p.Notes {
		if strings.Contains(n, "VPN Users") && strings.Contains(n, "Active Directory") {
			imported = n
		}
	}
	if imported == "" || len(p.Manual) != 0 {
		t.Errorf("the imported group must be a note naming the source directory (not blocking manual work): notes %q, manual %+v", p.Notes, p.Manual)
	}
}

func TestPlanNamesGroupRuleResidue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	staff := find(t, p, KindRemoveGroup, "00gstaff")
	if staff.Param("rule_id") != "0prstaff" || staff.Param("rule_name") != "Staff by department" {
		t.Errorf("rule params: %v", staff.Params)
	}
	if !strings.Contains(staff.Detail, "exclusion list") {
		t.Errorf("detail does not warn of the exclusion: %q", staff.Detail)
	}
	if eng := find(t, p, KindRemoveGroup, "00geng"); eng.Param("rule_id") != "" {
		t.Errorf("a static group is reported rule-managed: %v", eng.Params)
	}
	if !slices.ContainsFunc(p.Notes, func(n string) bool {
		return strings.Contains(n, "Staff by department") && strings.Contains(n, "rehire")
	}) {
		t.Errorf("no note about the rule exclusion: %q", p.Notes)
	}
}

func TestPlanUnknownPersonIsAFinding(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	p, err := e.conn.Plan(t.Context(), connector.Person{Email: "ghost@acme.example", Handles: map[string]string{"okta": "gh0st"}})
	must(t, err)
	if !p.NotFound || len(p.Actions) != 0 || len(p.Notes) != 1 {
		t.Fatalf("plan for an unknown person: %+v", p)
	}
	for _, w := range []string{"not found in okta", "gh0st", "ghost@acme.example"} {
		if !strings.Contains(p.Notes[0], w) {
			t.Errorf("note %q lacks %q", p.Notes[0], w)
		}
	}
}

func TestPlanLooksUpTheHandleBeforeTheEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	tests := []struct {
		name   string
		person connector.Person
		want   string
	}{
		{"handle wins over a colleague's email", connector.Person{Email: "bob@acme.example", Handles: map[string]string{"okta": janeLogin}}, janeID},
		{"an unknown handle falls back to the email", connector.Person{Email: janeLogin, Handles: map[string]string{"okta": "nobody@acme.example"}}, janeID},
		{"a handle may be the user ID", connector.Person{Handles: map[string]string{"okta": janeID}}, janeID},
		{"logins are escaped", connector.Person{Email: "jane.doe+x@acme.example"}, ""},
	}
	must(t, e.sim.AddUser(oktasim.User{ID: "00uplus", Login: "jane.doe+x@acme.example"}))
	for _, tt := range tests {
		p, err := e.conn.Plan(t.Context(), tt.person)
		must(t, err)
		want := tt.want
		if want == "" {
			want = "00uplus"
		}
		if !strings.HasPrefix(p.Account, want+" ") {
			t.Errorf("%s: account %q, want user %s", tt.name, p.Account, want)
		}
	}
}

func TestPlanRefusesLoginsOktaCannotLookUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	tests := []connector.Person{
		{Handles: map[string]string{"okta": "corp/jane"}, Email: janeLogin},
		{},
	}
	for _, p := range tests {
		_, err := e.conn.Plan(t.Context(), p)
		if err == nil || !connector.IsPermanent(err) {
			t.Errorf("Plan(%+v): %v, want a permanent error rather than a not-found finding", p, err)
		}
	}
}

func TestPlanForADeactivatedUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{TransitionReads: -1}, nil)
	// Someone deactivated Jane by hand, leaving her groups, roles, factors and grants.
	must(t, e.conn.Apply(t.Context(), connector.Action{System: "okta", Kind: KindDeactivate, Target: janeID, Params: map[string]string{"user_id": janeID}}))
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	want := []string{"revoke_grants/" + janeID, "remove_role/rasuper", "remove_group/00geng", "remove_group/00gstaff"}
	if got := keys(p); !slices.Equal(got, want) {
		t.Errorf("actions for a deactivated user\n got %v\nwant %v (no sessions, factors or deactivation)", got, want)
	}
	var keptFactors int
	for _, k := range p.Kept {
		if strings.HasPrefix(k.Target, "mfa") && strings.Contains(k.Reason, "deactivated") {
			keptFactors++
		}
	}
	if keptFactors != 2 {
		t.Errorf("factors of a deactivated user should be kept with the reason: %+v", p.Kept)
	}
	applyAll(t, e.conn, p.Actions)
	again, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	if len(again.Actions) != 0 {
		t.Errorf("after clean-up a fresh plan still has %v", keys(again))
	}
}

func TestPlanWithoutPermissionToReadRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, forbidPath("GET", "/okta/api/v1/groups/rules"))
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	if !slices.ContainsFunc(p.Notes, func(n string) bool { return strings.Contains(n, "okta.groups.read") }) {
		t.Errorf("no note that rules could not be read: %q", p.Notes)
	}
	if staff := find(t, p, KindRemoveGroup, "00gstaff"); staff.Param("rule_id") != "" {
		t.Errorf("rule params without a rules read: %v", staff.Params)
	}
}

// TestPlanFollowsPagination gives Jane more groups than one page of 200 holds.
func TestPlanFollowsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	for i := range 230 {
		id := fmt.Sprintf("00gpage%03d", i)
		must(t, e.sim.AddGroup(oktasim.Group{ID: id, Name: "Page " + id}))
		must(t, e.sim.AddMember(id, janeID))
	}
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	n := 0
	for _, a := range p.Actions {
		if a.Kind == KindRemoveGroup {
			n++
		}
	}
	if n != 232 {
		t.Errorf("planned %d group removals, want 232 (230 + Engineering + All Staff)", n)
	}
	var pages []string
	for _, c := range e.sim.Recorder.Calls() {
		if strings.HasSuffix(c.Path, "/groups") {
			pages = append(pages, c.Query)
		}
	}
	if len(pages) != 2 || pages[0] != "limit=200" || !strings.Contains(pages[1], "after=") {
		t.Errorf("group list reads: %q, want a first page of 200 and a second from the Link cursor", pages)
	}
}

package entra

import (
	"slices"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/entra/entrasim"
)

// TestPlanClassifiesGroups protects the line between what Graph can change and what only
// another system (the rule, on-premises AD, Exchange) can: removable groups are planned, the
// rest are kept with a reason, and Exchange-managed ones are also manual work.
func TestPlanClassifiesGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	pl := plan(t, e.conn, jane)
	tests := []struct {
		group   string
		planned bool
		reason  string // a phrase the kept reason must hold
	}{
		{groupEng, true, ""},
		{groupFalcon, true, ""},
		{groupLicE5, true, ""},
		{groupDynamic, false, "dynamic membership"},
		{groupSynced, false, "on-premises Active Directory"},
		{groupDL, false, "Exchange Online"},
		{groupMailSec, false, "Exchange Online"},
	}
	for _, tt := range tests {
		_, planned := find(pl, KindRemoveGroup, tt.group)
		if planned != tt.planned {
			t.Errorf("group %s: planned %v, want %v", tt.group, planned, tt.planned)
		}
		i := slices.IndexFunc(pl.Kept, func(k connector.Kept) bool { return k.Target == tt.group })
		switch {
		case tt.planned && i >= 0:
			t.Errorf("group %s is both planned and kept", tt.group)
		case !tt.planned && i < 0:
			t.Errorf("group %s is neither planned nor kept", tt.group)
		case !tt.planned && !strings.Contains(pl.Kept[i].Reason, tt.reason):
			t.Errorf("group %s kept with reason %q, want it to mention %q", tt.group, pl.Kept[i].Reason, tt.reason)
		}
	}
	if falcon, _ := find(pl, KindRemoveGroup, groupFalcon); !strings.Contains(falcon.Detail, "Microsoft Teams") {
		t.Errorf("removal from a team's group does not say it removes the team membership: %q", falcon.Detail)
	}
	var manual int
	for _, m := range pl.Manual {
		if strings.Contains(m.Detail, "Remove-DistributionGroupMember") {
			manual++
		}
	}
	if manual != 2 {
		t.Errorf("manual entries for the distribution list and mail-enabled security group: %d, want 2 (%+v)", manual, pl.Manual)
	}
}

// TestPlanDefaultMethodLast protects Graph's rule that the default method cannot be deleted
// while others remain: it gets its own kind, after the others; the password is kept.
func TestPlanDefaultMethodLast(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	pl := plan(t, e.conn, jane)
	def := byKind(pl, KindRemoveDefaultMethod)
	if len(def) != 1 || def[0].Target != "m-authenticator" {
		t.Fatalf("default-method actions %+v, want one for m-authenticator", def)
	}
	if !slices.Equal(def[0].After, []string{KindRemoveMethod}) {
		t.Errorf("default method After = %v, want [%s]", def[0].After, KindRemoveMethod)
	}
	var others []string
	for _, a := range byKind(pl, KindRemoveMethod) {
		others = append(others, a.Target)
	}
	slices.Sort(others)
	if want := []string{"m-email", "m-fido2", "m-phone"}; !slices.Equal(others, want) {
		t.Errorf("other methods planned %v, want %v", others, want)
	}
	i := slices.IndexFunc(pl.Kept, func(k connector.Kept) bool { return strings.HasPrefix(k.Detail, "Password") })
	if i < 0 || !strings.Contains(pl.Kept[i].Reason, "cannot delete") {
		t.Errorf("the password method is not kept with its reason: %+v", pl.Kept)
	}
}

// TestDisableWaitsForNothing protects the order that stops new sign-ins first: a removal that
// fails must not leave the account enabled, where a leaver who knows the password could sign
// in again and register a new method.
func TestDisableWaitsForNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	pl := plan(t, e.conn, jane)
	disable := byKind(pl, KindDisable)
	if len(disable) != 1 || len(disable[0].After) != 0 {
		t.Fatalf("disable must wait for nothing: %+v", disable)
	}
	must(t, e.conn.Apply(t.Context(), disable[0]))
	if e.sim.AccountEnabled(janeID) {
		t.Fatal("the account is still enabled")
	}
	// Everything else still works on the disabled account.
	connectortest.ApplyInOrder(t.Context(), t, e.conn, pl.Actions)
	if held := e.sim.Holdings(janeUPN); len(held) != 0 {
		t.Errorf("after disabling first, Jane still holds %q", held)
	}
}

// TestMobileGoesAfterTheAlternateMobile protects Graph's rule that an alternate mobile phone
// cannot exist without a mobile one: deleting the mobile first, in whatever order the steps
// run, must not fail.
func TestMobileGoesAfterTheAlternateMobile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	must(t, e.sim.AddAuthMethod(janeID, entrasim.AuthMethod{ID: "m-alt", Type: entrasim.Phone, PhoneType: "alternateMobile", Detail: "+1 5555550199"}))
	pl := plan(t, e.conn, jane)
	var mobile connector.Action
	for _, a := range byKind(pl, KindRemoveMethod) {
		if a.Target == "m-phone" {
			mobile = a
		}
	}
	if mobile.Param("phone_type") != "mobile" {
		t.Fatalf("the mobile phone's action does not say it is the mobile: %+v", mobile)
	}
	must(t, e.conn.Apply(t.Context(), mobile))
	if ev, err := e.conn.Verify(t.Context(), mobile); err != nil || !ev.Verified {
		t.Fatalf("mobile phone not verified gone: %+v %v", ev, err)
	}
	connectortest.ApplyInOrder(t.Context(), t, e.conn, pl.Actions)
	if held := e.sim.Holdings(janeUPN); len(held) != 0 {
		t.Errorf("Jane still holds %q", held)
	}
}

// TestSyncedAccountIsLeftToActiveDirectory protects hybrid tenants: Graph refuses to disable a
// user synced from on-premises AD, so the plan says who must, instead of failing for ever.
func TestSyncedAccountIsLeftToActiveDirectory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	const upn = "sam.synced@acme.example"
	must(t, e.sim.AddUser(entrasim.User{ID: "33333333-0000-4000-8000-0000000000sa", UserPrincipalName: upn, Mail: upn, Synced: true, Sessions: 1}))
	pl := plan(t, e.conn, connector.Person{Email: upn})
	if len(byKind(pl, KindDisable)) != 0 {
		t.Fatalf("disabling a synced account is planned, and Graph would refuse it: %+v", pl.Actions)
	}
	if len(byKind(pl, KindRevokeSessions)) != 1 {
		t.Errorf("sessions of a synced account must still be revoked: %+v", pl.Actions)
	}
	if len(pl.Manual) != 1 || !strings.Contains(pl.Manual[0].Detail, "on-premises Active Directory") {
		t.Errorf("manual work %+v, want one item to disable the account in AD", pl.Manual)
	}
}

// TestDefaultMethodRefusalIsRetryable protects the fallback when the default is unknown or
// changed: Graph's 400 for deleting the default first is retried, not a permanent failure.
func TestDefaultMethodRefusalIsRetryable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	pl := plan(t, e.conn, jane)
	def := byKind(pl, KindRemoveDefaultMethod)[0]
	err := e.conn.Apply(t.Context(), def)
	if err == nil {
		t.Fatal("deleting the default method while others remain succeeded; the simulator should refuse")
	}
	if connector.IsPermanent(err) {
		t.Errorf("the default-method refusal is permanent, so the step would stop instead of retrying: %v", err)
	}
	for _, a := range byKind(pl, KindRemoveMethod) {
		must(t, e.conn.Apply(t.Context(), a))
	}
	must(t, e.conn.Apply(t.Context(), def))
	if ev, err := e.conn.Verify(t.Context(), def); err != nil || !ev.Verified {
		t.Errorf("default method not verified gone: %+v %v", ev, err)
	}
}

// TestPlanLicences protects group-based licensing: direct licences are removed, inherited
// ones are kept (they go with the group), and a SKU held both ways is removed directly.
func TestPlanLicences(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	pl := plan(t, e.conn, jane)
	var direct []string
	for _, a := range byKind(pl, KindRemoveLicense) {
		direct = append(direct, a.Target)
	}
	slices.Sort(direct)
	if want := []string{skuE5, skuE3}; !slices.Equal(direct, slices.Sorted(slices.Values(want))) {
		t.Errorf("licences planned %v, want the direct ones %v", direct, want)
	}
	for _, sku := range []string{skuE5, skuVisio} {
		target := sku + "@" + groupLicE5
		i := slices.IndexFunc(pl.Kept, func(k connector.Kept) bool { return k.Target == target })
		if i < 0 {
			t.Errorf("inherited licence %s not kept: %v", sku, keptTargets(pl))
			continue
		}
		if !strings.Contains(pl.Kept[i].Reason, "group-based licensing") || !strings.Contains(pl.Kept[i].Reason, "released when the planned removal") {
			t.Errorf("inherited licence %s kept with reason %q", sku, pl.Kept[i].Reason)
		}
	}
	// A licence that is only inherited is never sent to assignLicense.
	inheritedOnly := connector.Action{System: System, Kind: KindRemoveLicense, Target: skuVisio, Params: map[string]string{"user_id": janeID}}
	before := e.sim.Recorder.Count("POST", "", "/assignLicense")
	must(t, e.conn.Apply(t.Context(), inheritedOnly))
	if n := e.sim.Recorder.Count("POST", "", "/assignLicense"); n != before {
		t.Errorf("removing an inherited-only licence called assignLicense %d time(s)", n-before)
	}
}

// TestPlanPagesMemberships protects @odata.nextLink paging: with two objects a page, every
// membership on every page is planned, through links that keep the /graph mount prefix.
func TestPlanPagesMemberships(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{MaxPage: 2})
	for i := range 5 {
		id := "g-10-extra-" + string(rune('a'+i))
		must(t, e.sim.AddGroup(entrasim.Group{ID: id, DisplayName: "Extra " + id}))
		must(t, e.sim.AddMember(id, janeID))
	}
	pl := plan(t, e.conn, jane)
	if n := len(byKind(pl, KindRemoveGroup)); n != 8 {
		t.Errorf("%d group removals planned, want 8 (3 seeded + 5 extra) across pages", n)
	}
	if n := e.sim.Recorder.Count("GET", "/v1.0/users/"+janeID, "/memberOf"); n < 6 {
		t.Errorf("memberOf read %d time(s), want 6 pages for 12 memberships", n)
	}
	connectortest.ApplyInOrder(t.Context(), t, e.conn, pl.Actions)
	if got := e.sim.Holdings(janeUPN); len(got) != 0 {
		t.Errorf("after offboarding across pages Jane still holds %v", got)
	}
}

// TestPlanFindsTheRightAccount protects identity matching: by handle (object ID or UPN), by
// email against UPN or mail, with a handle naming nobody falling back to email, and never a
// guess when several accounts match.
func TestPlanFindsTheRightAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		person    connector.Person
		extra     []entrasim.User
		wantID    string
		ambiguous bool
	}{
		{name: "by email as UPN", person: jane, wantID: janeID},
		{name: "by object ID handle", person: connector.Person{Handles: map[string]string{System: janeID}}, wantID: janeID},
		{name: "by UPN handle, email differs", person: connector.Person{Email: "jd@other.example", Handles: map[string]string{System: janeUPN}}, wantID: janeID},
		{name: "handle names nobody, email finds her", person: connector.Person{Email: janeUPN, Handles: map[string]string{System: "gone@acme.example"}}, wantID: janeID},
		{name: "by mail when the UPN differs", person: connector.Person{Email: "dana@acme.example"},
			extra: []entrasim.User{{ID: "u-dana", UserPrincipalName: "dana.x@acme.onmicrosoft.com", Mail: "dana@acme.example"}}, wantID: "u-dana"},
		{name: "guest UPN handle with #EXT#", person: connector.Person{Handles: map[string]string{System: "kim_home.example#EXT#@acme.onmicrosoft.com"}},
			extra: []entrasim.User{{ID: "u-kim", UserPrincipalName: "kim_home.example#EXT#@acme.onmicrosoft.com", Mail: "kim@home.example"}}, wantID: "u-kim"},
		{name: "quote in the address", person: connector.Person{Email: "o'neil@acme.example"},
			extra: []entrasim.User{{ID: "u-oneil", UserPrincipalName: "o'neil@acme.example"}}, wantID: "u-oneil"},
		{name: "UPN of one, mail of another", person: connector.Person{Email: "sam@acme.example"},
			extra: []entrasim.User{
				{ID: "u-sam1", UserPrincipalName: "sam@acme.example"},
				{ID: "u-sam2", UserPrincipalName: "sam.admin@acme.example", Mail: "sam@acme.example"},
			}, ambiguous: true},
		{name: "nobody", person: connector.Person{Email: "nobody@acme.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, entrasim.Options{})
			for _, u := range tt.extra {
				must(t, e.sim.AddUser(u))
			}
			pl := plan(t, e.conn, tt.person)
			switch {
			case tt.ambiguous:
				if !pl.NotFound || len(pl.Actions) > 0 || len(pl.Manual) != 1 || !strings.Contains(pl.Manual[0].Detail, "u-sam1") || !strings.Contains(pl.Manual[0].Detail, "u-sam2") {
					t.Errorf("ambiguous match: want a finding with a manual entry naming both accounts and no actions, got %+v", pl)
				}
			case tt.wantID == "":
				if !pl.NotFound || len(pl.Notes) == 0 || len(pl.Actions) > 0 {
					t.Errorf("unknown person: %+v", pl)
				}
			default:
				if pl.NotFound || !strings.HasPrefix(pl.Account, tt.wantID+" ") {
					t.Errorf("account %q (not found %v), want %s", pl.Account, pl.NotFound, tt.wantID)
				}
			}
		})
	}
}

// TestPlanDirectoryRoleIsManual protects admins: a directory role is not silently ignored.
func TestPlanDirectoryRoleIsManual(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	must(t, e.sim.AddRole(janeID, "Global Administrator"))
	pl := plan(t, e.conn, jane)
	if !slices.ContainsFunc(pl.Manual, func(m connector.Manual) bool { return strings.Contains(m.Detail, "Global Administrator") }) {
		t.Errorf("a directory role is not listed as manual work: %+v", pl.Manual)
	}
	if !slices.ContainsFunc(pl.Kept, func(k connector.Kept) bool { return strings.Contains(k.Detail, "Global Administrator") }) {
		t.Errorf("a directory role is not listed as kept: %+v", pl.Kept)
	}
}

// TestPlanDisabledAccount protects re-runs: an account someone already disabled gets no
// session revocation or disable action, but its remaining access is still removed.
func TestPlanDisabledAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, entrasim.Options{})
	must(t, e.sim.AddUser(entrasim.User{ID: "u-old", UserPrincipalName: "old@acme.example", Disabled: true, Licenses: []string{skuE3}}))
	pl := plan(t, e.conn, connector.Person{Email: "old@acme.example"})
	if len(byKind(pl, KindRevokeSessions)) > 0 || len(byKind(pl, KindDisable)) > 0 {
		t.Errorf("a disabled account got session or disable actions: %+v", pl.Actions)
	}
	if len(byKind(pl, KindRemoveLicense)) != 1 {
		t.Errorf("a disabled account's licence is not removed: %+v", pl.Actions)
	}
}

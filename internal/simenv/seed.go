package simenv

import (
	"fmt"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector/okta/oktasim"
)

// Okta group IDs of the demo org.
var groups = []oktasim.Group{
	{ID: "00gengineering000001", Name: "Engineering", Type: "OKTA_GROUP"},
	{ID: "00ggithubusers000002", Name: "GitHub Users", Type: "OKTA_GROUP"},
	{ID: "00gawsprodread000003", Name: "AWS Prod ReadOnly", Type: "OKTA_GROUP"},
	{ID: "00gawsdevadmin000004", Name: "AWS Dev Admin", Type: "OKTA_GROUP"},
	{ID: "00gvpnusers0000000005", Name: "VPN Users", Type: "OKTA_GROUP"},
	{ID: "00goncall00000000006", Name: "On-Call", Type: "OKTA_GROUP"},
	{ID: "00gpayments000000007", Name: "Payments Team", Type: "OKTA_GROUP"},
	{ID: "00gitadmins000000008", Name: "IT Admins", Type: "OKTA_GROUP"},
	{ID: "00gdatasci000000009", Name: "Data Science", Type: "OKTA_GROUP"},
	{ID: "00gadworkstation0010", Name: "ENG-Workstations", Type: "APP_GROUP", Source: "Active Directory (corp.acme.example)"},
}

// memberships lists, per worker, the groups (by name) they are a static member of.
var memberships = map[string][]string{
	"W1001": {"Engineering", "GitHub Users", "AWS Prod ReadOnly", "AWS Dev Admin", "VPN Users", "On-Call", "ENG-Workstations"},
	"W1002": {"IT Admins", "VPN Users", "GitHub Users"},
	"W1003": {"Engineering", "GitHub Users", "VPN Users"},
	"W1004": {"Data Science", "AWS Prod ReadOnly"},
	"W1005": {"VPN Users"},
}

func (e *Env) seed() {
	for _, g := range groups {
		must(e.Okta.AddGroup(g))
	}
	byName := map[string]string{}
	for _, g := range groups {
		byName[g.Name] = g.ID
	}
	for i, p := range people {
		first, last, _ := strings.Cut(p.Name, " ")
		id := fmt.Sprintf("00u%s%011d", strings.ToLower(p.WorkerID), i+1)
		must(e.Okta.AddUser(oktasim.User{ID: id, Login: p.Email, Email: p.Email, FirstName: first, LastName: last, Sessions: 2}))
		for _, g := range memberships[p.WorkerID] {
			must(e.Okta.AddMember(byName[g], id))
		}
		must(e.Okta.AddFactor(id, oktasim.Factor{ID: fmt.Sprintf("opf%s%011d", strings.ToLower(p.WorkerID), 1), Type: "push"}))
		ids := map[string]string{"okta": p.Email}
		for system, id := range identities[p.WorkerID] {
			ids[system] = id
		}
		p.Identities = ids
		e.people = append(e.people, p)
	}
	dana := e.okta("W1001")
	must(e.Okta.AddFactor(dana, oktasim.Factor{ID: "fwfw1001webauthn0002", Type: "webauthn", Provider: "FIDO"}))
	must(e.Okta.AddRole(dana, oktasim.Role{ID: "ra1w1001appadmin0001", Type: "APP_ADMIN", Label: "Application Administrator"}))
	must(e.Okta.AddGrant(dana, oktasim.Grant{ID: "oag1w1001github00001", ClientID: "0oagithubcloud000001", ClientName: "GitHub Enterprise", ScopeID: "okta.users.read.self"}))
	must(e.Okta.AddClientToken(dana, oktasim.ClientToken{ClientID: "0oaslackapp000000002", ClientName: "Slack", TokenID: "oar1w1001slack000001"}))
	// Payments Team membership comes from a group rule, so removing it leaves the person on
	// the rule's exclusion list: the residue offboard records for a rehire.
	must(e.Okta.AddRule(oktasim.Rule{ID: "0prpaymentsrule00001", Name: "Engineering in payments cost centre",
		Expression: `user.costCenter=="PAY-100"`, GroupIDs: []string{byName["Payments Team"]}, Matches: []string{dana}}))
	sam := e.okta("W1002")
	must(e.Okta.AddRole(sam, oktasim.Role{ID: "ra1w1002superadmin01", Type: "SUPER_ADMIN", Label: "Super Administrator"}))
	e.seedDev()
	e.seedWorkspace()
}

// oktaHoldings lists what a person still holds in Okta: an account that is not
// deprovisioned, and its Okta-mastered groups, factors, roles and grants. Built-in and
// app-imported groups are not listed: the deactivation ends the access they give, and their
// memberships are mastered elsewhere.
func (e *Env) oktaHoldings(p Person) []string {
	id := e.okta(p.WorkerID)
	if id == "" {
		return nil
	}
	var out []string
	if st := e.Okta.UserStatus(id); st != "DEPROVISIONED" {
		out = append(out, "account "+id+" status "+st)
	}
	for _, g := range e.Okta.GroupsOf(id) {
		if g.Type == "OKTA_GROUP" {
			out = append(out, "group "+g.Name)
		}
	}
	for range e.Okta.FactorsOf(id) {
		out = append(out, "an MFA factor")
	}
	for range e.Okta.RolesOf(id) {
		out = append(out, "an admin role")
	}
	for range e.Okta.GrantsOf(id) {
		out = append(out, "an OAuth grant")
	}
	return out
}

// okta returns the Okta user ID of a seeded worker.
func (e *Env) okta(workerID string) string {
	for i, p := range people {
		if p.WorkerID == workerID {
			return fmt.Sprintf("00u%s%011d", strings.ToLower(p.WorkerID), i+1)
		}
	}
	return ""
}

// OktaID returns the Okta user ID of a seeded worker, for tests that read the simulator back.
func (e *Env) OktaID(workerID string) string { return e.okta(workerID) }

func must(err error) {
	if err != nil {
		panic("simenv: seeding the demo company: " + err.Error())
	}
}

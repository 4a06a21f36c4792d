package simenv

import (
	"fmt"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector/entra/entrasim"
	"github.com/offboard-dev/offboard/internal/connector/google/googlesim"
	"github.com/offboard-dev/offboard/internal/connector/scim/scimsim"
	"github.com/offboard-dev/offboard/internal/connector/slack/slacksim"
)

// seedWorkspace gives the demo company's people their mail, documents, chat and SaaS apps:
// Google Workspace, Microsoft Entra ID (with Teams), Slack, and two SCIM apps.
func (e *Env) seedWorkspace() {
	e.seedGoogle()
	e.seedEntra()
	e.seedSlack()
	e.seedSCIM()
	e.seedTool()
}

// seedTool gives people accounts in the company's own admin tool; Dana is an admin there
// with two API keys.
func (e *Env) seedTool() {
	for _, p := range e.people {
		user := strings.Split(p.Email, "@")[0]
		_, err := e.Tool.AddAccount(user, p.Email, p.Name)
		must(err)
	}
	must(e.Tool.GrantRole("dana.whitfield", "admin"))
	must(e.Tool.GrantRole("dana.whitfield", "billing"))
	for _, key := range []string{"ci-deploy", "local-dev"} {
		_, err := e.Tool.AddAPIKey("dana.whitfield", key)
		must(err)
	}
}

func (e *Env) seedGoogle() {
	g := e.Google
	_, err := g.AddUser(googlesim.User{Email: GoogleAdmin, Admin: true})
	must(err)
	groups := map[string]string{}
	for _, name := range []string{"engineering", "oncall", "all"} {
		id, err := g.AddGroup(googlesim.Group{Email: name + "@acme.example", Name: strings.ToUpper(name[:1]) + name[1:]})
		must(err)
		groups[name] = id
	}
	for _, p := range e.people {
		_, err := g.AddUser(googlesim.User{Email: p.Email, Enrolled2SV: true, Sessions: 1, OwnsData: true})
		must(err)
		must(g.AddMember(groups["all"], p.Email, "MEMBER"))
	}
	dana := e.Person(DemoLeaver).Email
	must(g.AddMember(groups["engineering"], dana, "MEMBER"))
	must(g.AddMember(groups["oncall"], dana, "OWNER"))
	must(g.AddToken(dana, googlesim.Token{ClientID: "1234567890-github.apps.googleusercontent.com", DisplayText: "GitHub", Scopes: []string{"openid", "email"}}))
	must(g.AddToken(dana, googlesim.Token{ClientID: "9876543210-thunderbird.apps.googleusercontent.com", DisplayText: "Thunderbird", Scopes: []string{"https://mail.google.com/"}, NativeApp: true}))
	_, err = g.AddASP(dana, "phone mail")
	must(err)
	must(g.AddBackupCodes(dana, 10))
}

func (e *Env) seedEntra() {
	x := e.Entra
	groups := []entrasim.Group{
		{ID: "0a1e0000-0000-4000-8000-00000000e001", DisplayName: "Engineering Team", Kind: entrasim.Microsoft365, Team: true},
		{ID: "0a1e0000-0000-4000-8000-00000000e002", DisplayName: "VPN Access", Kind: entrasim.Security},
		{ID: "0a1e0000-0000-4000-8000-00000000e003", DisplayName: "All Employees (dynamic)", Kind: entrasim.Security, Dynamic: true},
		{ID: "0a1e0000-0000-4000-8000-00000000e004", DisplayName: "E5 Licensed", Kind: entrasim.Security, Licenses: []string{"SPE_E5"}},
	}
	for _, g := range groups {
		must(x.AddGroup(g))
	}
	for _, p := range e.people {
		id := entraID(p.WorkerID)
		u := entrasim.User{ID: id, UserPrincipalName: p.Email, Mail: p.Email, DisplayName: p.Name, Sessions: 1}
		if p.WorkerID == DemoLeaver {
			u.Licenses = []string{"POWER_BI_PRO"} // assigned to her directly, beside E5 through a group
		}
		must(x.AddUser(u))
		must(x.AddMember(groups[2].ID, id))
	}
	dana := entraID(DemoLeaver)
	must(x.AddMember(groups[0].ID, dana))
	must(x.AddMember(groups[1].ID, dana))
	must(x.AddMember(groups[3].ID, dana))
	must(x.AddAuthMethod(dana, entrasim.AuthMethod{ID: "b1e5a2c0-0000-4000-8000-0000000d1001", Type: entrasim.MicrosoftAuthenticator, Detail: "Pixel 8", Default: true}))
	must(x.AddAuthMethod(dana, entrasim.AuthMethod{ID: "3179e48a-750b-4051-897c-87b9720928f7", Type: entrasim.Phone, Detail: "+1 555 0100", PhoneType: "mobile"}))
	must(x.AddAuthMethod(dana, entrasim.AuthMethod{ID: "f1d0a2c0-0000-4000-8000-0000000d1003", Type: entrasim.Fido2, Detail: "YubiKey 5C"}))
}

func (e *Env) seedSlack() {
	for i, p := range e.people {
		id := fmt.Sprintf("U0SIM%05d", i+1)
		must(e.Slack.AddUser(slacksim.User{ID: id, TeamID: "T0SIMHOME1", Email: p.Email, Name: strings.Split(p.Email, "@")[0], RealName: p.Name}))
		_, err := e.Slack.AddSession(id, "T0SIMHOME1", "desktop")
		must(err)
	}
	_, err := e.Slack.AddSession("U0SIM00001", "T0SIMHOME1", "iPhone")
	must(err)
}

// scimApps are the demo company's SaaS apps provisioned over SCIM, and who has an account.
var scimApps = []struct {
	name    string
	workers []string
}{
	{name: "zoom", workers: []string{"W1001", "W1002", "W1003", "W1005"}},
	{name: "figma", workers: []string{"W1001", "W1003"}},
}

func (e *Env) seedSCIM() {
	for _, app := range scimApps {
		s := e.SCIM[app.name]
		for _, w := range app.workers {
			p := e.Person(w)
			first, last, _ := strings.Cut(p.Name, " ")
			must(s.AddUser(scimsim.User{UserName: p.Email, Email: p.Email, GivenName: first, FamilyName: last}))
		}
	}
}

// entraID is the Entra object ID of a seeded worker.
func entraID(workerID string) string {
	return "0a1e0000-0000-4000-8000-00000000" + strings.TrimPrefix(workerID, "W")
}

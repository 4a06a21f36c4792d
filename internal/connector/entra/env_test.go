package entra

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/entra/entrasim"
)

// Distinctive credentials, so a leak is found by a plain substring search.
const (
	tenantID     = "2f1a6c1e-0000-4000-8000-000000000001"
	clientID     = "7c3b2d4e-0000-4000-8000-000000000002"
	secret       = "SECRET~entra-client-secret-Qw7vZp2Lx9"
	wrongSecret  = "WRONG~entra-client-secret-Hn4kTs8Rm1"
	janeID       = "11111111-0000-4000-8000-00000000jane"
	janeUPN      = "jane.doe@acme.example"
	bobID        = "22222222-0000-4000-8000-000000000bob"
	skuE3        = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	skuE5        = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
	skuVisio     = "c5928f49-12ba-48f7-ada3-0d743a3601d5"
	groupEng     = "g-01-eng"
	groupFalcon  = "g-02-falcon"
	groupLicE5   = "g-03-lic-e5"
	groupDynamic = "g-04-dynamic"
	groupSynced  = "g-05-synced"
	groupDL      = "g-06-dl"
	groupMailSec = "g-07-mailsec"
)

var jane = connector.Person{WorkerID: "W1", Email: janeUPN, Name: "Jane Doe"}

// env is a connector wired to a fresh simulator mounted under /graph, as in `offboard sim`.
type env struct {
	sim  *entrasim.Server
	conn *Connector
	url  string
}

func newEnv(t testing.TB, opts entrasim.Options) *env {
	t.Helper()
	opts.TenantID, opts.ClientID, opts.ClientSecret = tenantID, clientID, secret
	s := entrasim.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/graph/", http.StripPrefix("/graph", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{sim: s, url: ts.URL + "/graph"}
	e.conn = e.connector(t, secret)
	seedJane(t, s)
	return e
}

func (e *env) connector(t testing.TB, clientSecret string) *Connector {
	t.Helper()
	c, err := New(Config{
		TenantID: tenantID, ClientID: clientID, ClientSecret: clientSecret,
		BaseURL:  e.url + "/v1.0",
		TokenURL: e.url + "/" + tenantID + "/oauth2/v2.0/token",
	})
	must(t, err)
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seedJane gives Jane one of everything the connector handles: a security group, a team, a
// licensing group, a dynamic group, a synced group, a distribution list and a mail-enabled
// security group; an Authenticator (her default), a mobile phone, a FIDO2 key and an email
// method besides the password; a direct licence, a licence both direct and inherited, and one
// only inherited; and three sign-in sessions. Bob shares a group, so removals must be
// precise.
func seedJane(t testing.TB, s *entrasim.Server) {
	t.Helper()
	must(t, s.AddUser(entrasim.User{ID: janeID, UserPrincipalName: janeUPN, Mail: janeUPN, DisplayName: "Jane Doe",
		Sessions: 3, Licenses: []string{skuE3, skuE5}}))
	must(t, s.AddUser(entrasim.User{ID: bobID, UserPrincipalName: "bob@acme.example", Mail: "bob@acme.example", DisplayName: "Bob Roe"}))
	for _, g := range []entrasim.Group{
		{ID: groupEng, DisplayName: "Engineering"},
		{ID: groupFalcon, DisplayName: "Project Falcon", Kind: entrasim.Microsoft365, Team: true},
		{ID: groupLicE5, DisplayName: "Licensing E5 and Visio", Licenses: []string{skuE5, skuVisio}},
		{ID: groupDynamic, DisplayName: "All Staff", Dynamic: true},
		{ID: groupSynced, DisplayName: "VPN Users", Synced: true},
		{ID: groupDL, DisplayName: "all-hands", Kind: entrasim.Distribution},
		{ID: groupMailSec, DisplayName: "Finance Approvers", Kind: entrasim.MailEnabledSecurity},
	} {
		must(t, s.AddGroup(g))
		must(t, s.AddMember(g.ID, janeID))
	}
	must(t, s.AddMember(groupEng, bobID))
	must(t, s.AddAuthMethod(janeID, entrasim.AuthMethod{ID: "m-authenticator", Type: entrasim.MicrosoftAuthenticator, Detail: "Pixel 8", Default: true}))
	must(t, s.AddAuthMethod(janeID, entrasim.AuthMethod{ID: "m-phone", Type: entrasim.Phone, PhoneType: "mobile", Detail: "+1 5555550100"}))
	must(t, s.AddAuthMethod(janeID, entrasim.AuthMethod{ID: "m-fido2", Type: entrasim.Fido2, Detail: "YubiKey 5"}))
	must(t, s.AddAuthMethod(janeID, entrasim.AuthMethod{ID: "m-email", Type: entrasim.Email, Detail: "jane@home.example"}))
}

func plan(t *testing.T, c *Connector, p connector.Person) connector.Plan {
	t.Helper()
	pl, err := c.Plan(t.Context(), p)
	must(t, err)
	return pl
}

func byKind(pl connector.Plan, kind string) []connector.Action {
	var out []connector.Action
	for _, a := range pl.Actions {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

func find(pl connector.Plan, kind, target string) (connector.Action, bool) {
	for _, a := range pl.Actions {
		if a.Kind == kind && a.Target == target {
			return a, true
		}
	}
	return connector.Action{}, false
}

func keptTargets(pl connector.Plan) []string {
	var out []string
	for _, k := range pl.Kept {
		out = append(out, k.Target)
	}
	return out
}

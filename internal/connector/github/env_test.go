package github

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/github/githubsim"
)

// Distinctive credentials, so a leak is found by a plain substring search.
const (
	secretToken = "ghp_SECRETgithubTokenZq8rVwX3pL0000"
	wrongToken  = "ghp_WRONGgithubTokenHj2kLm9Qa11111"
)

// dana is the seeded leaver, found through her SAML identity.
var dana = connector.Person{WorkerID: "W7", Email: "dana@acme.example", Name: "Dana Scully"}

type env struct {
	sim  *githubsim.Server
	conn *Connector
	url  string
	ids  map[string]int64
}

// newEnv starts a simulator mounted under /github (as `offboard sim` mounts it) holding Dana,
// an outside collaborator, a second owner and a bystander.
func newEnv(t *testing.T, opts githubsim.Options) *env {
	t.Helper()
	opts.Token = secretToken
	s := githubsim.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/github/", http.StripPrefix("/github", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{sim: s, url: ts.URL + "/github", ids: map[string]int64{}}
	e.conn = e.connector(t, secretToken)
	e.seed(t)
	return e
}

func (e *env) connector(t *testing.T, token string) *Connector {
	t.Helper()
	c, err := New(Config{BaseURL: e.url, Org: e.sim.Org(), Token: token})
	must(t, err)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) id(t *testing.T, name string, id int64, err error) {
	t.Helper()
	must(t, err)
	e.ids[name] = id
}

func (e *env) seed(t *testing.T) {
	t.Helper()
	s := e.sim
	for _, u := range []githubsim.User{{Login: "dscully"}, {Login: "fmulder"}, {Login: "skinner"}, {Login: "contractor-cj"}} {
		must(t, s.AddUser(u))
	}
	must(t, s.AddMember("dscully", githubsim.RoleMember))
	must(t, s.AddMember("fmulder", githubsim.RoleMember))
	must(t, s.AddMember("skinner", githubsim.RoleOwner))
	must(t, s.AddRepo(githubsim.Repo{Name: "payments", Secrets: []string{"AWS_SECRET_ACCESS_KEY", "STRIPE_KEY"}}))
	must(t, s.AddRepo(githubsim.Repo{Name: "website"}))
	must(t, s.AddRepo(githubsim.Repo{Name: "infra", Secrets: []string{"TF_TOKEN"}}))
	must(t, s.AddCollaborator("payments", "dscully", githubsim.PermAdmin))
	must(t, s.AddCollaborator("website", "dscully", githubsim.PermWrite))
	must(t, s.AddCollaborator("website", "contractor-cj", githubsim.PermWrite))
	must(t, s.AddOrgSecret("NPM_TOKEN"))
	id, err := s.AddCredential(githubsim.Credential{Login: "dscully", Type: githubsim.CredentialPAT, TokenLastEight: "a1b2c3d4", Title: "laptop", Scopes: []string{"repo"}})
	e.id(t, "pat", id, err)
	id, err = s.AddCredential(githubsim.Credential{Login: "dscully", Type: githubsim.CredentialSSHKey, Fingerprint: "SHA256:abcDEF123"})
	e.id(t, "ssh", id, err)
	id, err = s.AddCredential(githubsim.Credential{Login: "fmulder", Type: githubsim.CredentialPAT, TokenLastEight: "zzzz9999"})
	e.id(t, "mulder-pat", id, err)
	id, err = s.AddInvitation(githubsim.Invitation{Email: "Dana@ACME.example"})
	e.id(t, "invite", id, err)
	must(t, s.AddIdentity(githubsim.Identity{Login: "dscully", NameID: "dana@acme.example", Emails: []string{"dana@acme.example"}}))
	must(t, s.AddIdentity(githubsim.Identity{Login: "fmulder", NameID: "fox@acme.example"}))
}

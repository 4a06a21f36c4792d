package dockerhub

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/dockerhub/dockerhubsim"
)

// Distinctive credentials, so a leak is found by a plain substring search.
const (
	secretOAT = "dckr_oat_SECRET-7awgM4jG5SQvxcvm"
	wrongOAT  = "dckr_oat_WRONG-Hj2kLm9QaPz"
	org       = "acme"
)

// Dana is the seeded leaver: a member of two teams with a pending invite to a third.
var dana = connector.Person{WorkerID: "W7", Email: "dana@acme.example", Name: "Dana Scully",
	Handles: map[string]string{"dockerhub": "dscully"}}

// env is a connector wired to a fresh simulator mounted under a path prefix, as `offboard
// sim` mounts it.
type env struct {
	sim  *dockerhubsim.Server
	conn *Connector
	url  string
}

func newEnv(t *testing.T, opts dockerhubsim.Options) *env {
	t.Helper()
	opts.Org = org
	if opts.Token == "" {
		opts.Token = secretOAT
	}
	s := dockerhubsim.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/dockerhub/", http.StripPrefix("/dockerhub", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{sim: s, url: ts.URL + "/dockerhub"}
	e.conn = e.connector(t, secretOAT)
	seed(t, s)
	return e
}

func (e *env) connector(t *testing.T, token string) *Connector {
	t.Helper()
	c, err := New(Config{BaseURL: e.url, Org: org, Token: token})
	must(t, err)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func seed(t *testing.T, s *dockerhubsim.Server) {
	t.Helper()
	must(t, s.AddMember(dockerhubsim.Member{Username: "owner1", Email: "owner@acme.example", FullName: "Olive Owner", Role: dockerhubsim.RoleOwner}))
	must(t, s.AddMember(dockerhubsim.Member{Username: "dscully", Email: "dana@acme.example", FullName: "Dana Scully", Teams: []string{"developers", "release"}}))
	must(t, s.AddMember(dockerhubsim.Member{Username: "fmulder", Email: "fox@acme.example", FullName: "Fox Mulder", Teams: []string{"developers"}}))
	_, err := s.AddInvite(dockerhubsim.Invite{ID: "inv-dana-1", Invitee: "dana@acme.example", Team: "security"})
	must(t, err)
	_, err = s.AddInvite(dockerhubsim.Invite{ID: "inv-fox-1", Invitee: "fox@acme.example", Team: "security"})
	must(t, err)
}

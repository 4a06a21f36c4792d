package scim

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/scim/scimsim"
)

// Distinctive credentials, so a leak is found by a plain substring search.
const (
	secretToken = "scimSECRET-bearer-7Hq2LmZx9Vw"
	wrongToken  = "scimWRONG-bearer-4Kd8PqRt1Yn"
)

const (
	danaID    = "zu-dana"
	danaEmail = "dana.scully@acme.example"
)

var dana = connector.Person{WorkerID: "W100", Email: danaEmail, Name: "Dana Scully"}

// env is a connector wired to a fresh named simulator mounted under a path prefix, as
// `offboard sim` mounts it.
type env struct {
	sim  *scimsim.Server
	conn *Connector
	url  string
}

func newEnv(t *testing.T, opts scimsim.Options, cfg Config) *env {
	t.Helper()
	opts.Token = secretToken
	if opts.Name == "" {
		opts.Name = "zoom"
	}
	s := scimsim.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/zoom/scim2/", http.StripPrefix("/zoom/scim2", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{sim: s, url: ts.URL + "/zoom/scim2"}
	cfg.Name, cfg.BaseURL = opts.Name, e.url
	if cfg.Token == "" {
		cfg.Token = secretToken
	}
	e.conn = mustNew(t, cfg)
	seedDana(t, s)
	return e
}

func mustNew(t *testing.T, cfg Config) *Connector {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// with returns a connector to the same simulator with cfg's changes.
func (e *env) with(t *testing.T, cfg Config) *Connector {
	t.Helper()
	cfg.Name, cfg.BaseURL = e.sim.Name(), e.url
	if cfg.Token == "" {
		cfg.Token = secretToken
	}
	return mustNew(t, cfg)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seedDana gives Dana an active account in two groups, beside a bystander and a former
// employee whose account is already inactive.
func seedDana(t *testing.T, s *scimsim.Server) {
	t.Helper()
	must(t, s.AddUser(scimsim.User{ID: danaID, UserName: danaEmail, Email: danaEmail, ExternalID: "W100", GivenName: "Dana", FamilyName: "Scully"}))
	must(t, s.AddUser(scimsim.User{ID: "zu-fox", UserName: "fox.mulder@acme.example", Email: "fox.mulder@acme.example", ExternalID: "W101"}))
	must(t, s.AddUser(scimsim.User{ID: "zu-old", UserName: "walter.skinner@acme.example", Inactive: true}))
	must(t, s.AddGroup(scimsim.Group{ID: "zg-admins", DisplayName: "Zoom Admins"}))
	must(t, s.AddGroup(scimsim.Group{ID: "zg-webinar", DisplayName: "Webinar Hosts"}))
	must(t, s.AddMember("zg-admins", danaID))
	must(t, s.AddMember("zg-webinar", danaID))
}

package slack

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/slack/slacksim"
	"github.com/offboard-dev/offboard/internal/sim"
)

// Distinctive credentials, so a leak is found by a plain substring search.
const (
	secretToken = "xoxp-SECRET-slack-4417-Qm9TzW"
	wrongToken  = "xoxp-WRONG-slack-9921-Lk3VbN"
)

const (
	janeID    = "U0JANE0001"
	janeEmail = "jane.roe@acme.example"
)

var jane = connector.Person{WorkerID: "W7", Email: janeEmail, Name: "Jane Roe"}

// env is a connector wired to a fresh simulator mounted under a path prefix, as `offboard sim`
// mounts it.
type env struct {
	sim  *slacksim.Server
	conn *Connector
	url  string
}

func newEnv(t *testing.T, opts slacksim.Options) *env {
	t.Helper()
	if opts.Token == "" {
		opts.Token = secretToken
	}
	s := slacksim.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/slack/", http.StripPrefix("/slack", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{sim: s, url: ts.URL + "/slack"}
	e.conn = e.connector(Config{EnterpriseGrid: opts.EnterpriseGrid})
	seedJane(t, s, opts.EnterpriseGrid)
	return e
}

// connector returns a connector to the simulator with cfg's token (default the right one) and
// EnterpriseGrid as given.
func (e *env) connector(cfg Config) *Connector {
	cfg.BaseURL = e.url + "/api"
	cfg.SCIMURL = e.url + "/scim/v2"
	if cfg.Token == "" {
		cfg.Token = secretToken
	}
	return New(cfg)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seedJane gives Jane an active account on two workspaces with three live sessions (on Grid),
// beside a bystander, the Primary Owner and an already deactivated former employee.
func seedJane(t *testing.T, s *slacksim.Server, grid bool) {
	t.Helper()
	must(t, s.AddUser(slacksim.User{ID: janeID, TeamID: "T0HOME", Teams: []string{"T0SALES"}, Email: janeEmail, Name: "jane.roe", RealName: "Jane Roe"}))
	must(t, s.AddUser(slacksim.User{ID: "U0BOB00001", TeamID: "T0HOME", Email: "bob@acme.example", Name: "bob"}))
	must(t, s.AddUser(slacksim.User{ID: "U0OWNER001", TeamID: "T0HOME", Email: "owner@acme.example", Name: "owner", IsPrimaryOwner: true, IsOwner: true, IsAdmin: true}))
	must(t, s.AddUser(slacksim.User{ID: "U0GONE0001", TeamID: "T0HOME", Email: "gone@acme.example", Name: "gone", Deactivated: true}))
	for _, se := range [][2]string{{"T0HOME", "laptop"}, {"T0HOME", "phone"}, {"T0SALES", "laptop"}} {
		_, err := s.AddSession(janeID, se[0], se[1])
		must(t, err)
	}
	_, err := s.AddSession("U0BOB00001", "T0HOME", "laptop")
	must(t, err)
}

// readOnly says which recorded calls change nothing: SCIM GETs and the Web API's read methods,
// which Slack accepts as POST (the connector posts them to keep emails out of URLs).
func readOnly(c sim.Call) bool {
	if c.Method == http.MethodGet {
		return true
	}
	name := strings.TrimPrefix(c.Path, "/api/")
	switch name {
	case "auth.test", "users.lookupByEmail", "users.info", "admin.users.session.list":
		return c.Method == http.MethodPost
	}
	return false
}

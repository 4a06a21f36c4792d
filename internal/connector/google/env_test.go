package google

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/google/googlesim"
)

const (
	adminEmail   = "it-admin@acme.example"
	janeEmail    = "jane.doe@acme.example"
	managerEmail = "maria.lopez@acme.example"
	janeID       = "100000000000000000001"
	managerID    = "100000000000000000002"
	saEmail      = "offboard@acme-prod.iam.gserviceaccount.com"
)

var jane = connector.Person{WorkerID: "W1", Email: janeEmail, Name: "Jane Doe", Manager: managerEmail}

// Keys take a moment to generate, so the tests share two: the service account's real key and
// a wrong one for the same account.
var (
	keysOnce        sync.Once
	goodSA, wrongSA *googlesim.ServiceAccount
	keysErr         error
)

func serviceAccounts(t *testing.T) (good, wrong *googlesim.ServiceAccount) {
	t.Helper()
	keysOnce.Do(func() {
		if goodSA, keysErr = googlesim.NewServiceAccount(saEmail); keysErr != nil {
			return
		}
		wrongSA, keysErr = googlesim.NewServiceAccount(saEmail)
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return goodSA, wrongSA
}

// keyLine is one line of the key's base64 body: distinctive, and the same whether the key
// appears as PEM or JSON-escaped, so a leak is found by a plain substring search.
func keyLine(sa *googlesim.ServiceAccount) string {
	return strings.Split(sa.PrivateKeyPEM(), "\n")[2]
}

// env is a connector wired to a fresh simulator mounted under a path prefix, as in `offboard
// sim` or behind a proxy.
type env struct {
	sim  *googlesim.Server
	conn *Connector
	url  string
	cfg  Config
}

func newEnv(t *testing.T, opts googlesim.Options) *env {
	t.Helper()
	good, _ := serviceAccounts(t)
	opts.ServiceAccount = good
	s := googlesim.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/google/", http.StripPrefix("/google", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{sim: s, url: ts.URL + "/google"}
	e.cfg = Config{
		CredentialsJSON: string(good.KeyJSON(googlesim.TokenURL(e.url))),
		AdminEmail:      adminEmail,
		BaseURL:         e.url,
	}
	e.conn = e.connector(t, e.cfg)
	seed(t, s)
	return e
}

func (e *env) connector(t *testing.T, cfg Config) *Connector {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withKey is the connector signing with another key for the same service account.
func (e *env) withKey(t *testing.T, sa *googlesim.ServiceAccount) *Connector {
	cfg := e.cfg
	cfg.CredentialsJSON = string(sa.KeyJSON(googlesim.TokenURL(e.url)))
	return e.connector(t, cfg)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// errOf drops a seeding method's result and keeps its error.
func errOf[T any](_ T, err error) error { return err }

// seed gives Jane one of everything the connector handles: sessions, two OAuth grants, two
// app-specific passwords, backup codes, 2-Step Verification, three groups and data to hand
// over to her manager; and adds the admin, the manager and a bystander in one of her groups.
func seed(t *testing.T, s *googlesim.Server) {
	t.Helper()
	must(t, errOf(s.AddUser(googlesim.User{Email: adminEmail, Admin: true})))
	must(t, errOf(s.AddUser(googlesim.User{ID: janeID, Email: janeEmail, Aliases: []string{"jane@acme.example"}, Enrolled2SV: true, Sessions: 3, OwnsData: true})))
	must(t, errOf(s.AddUser(googlesim.User{ID: managerID, Email: managerEmail})))
	must(t, errOf(s.AddUser(googlesim.User{Email: "bob@acme.example"})))
	must(t, s.AddToken(janeEmail, googlesim.Token{ClientID: "1234-slack.apps.googleusercontent.com", DisplayText: "Slack", Scopes: []string{"openid", "email"}}))
	must(t, s.AddToken(janeEmail, googlesim.Token{ClientID: "5678-zoom.apps.googleusercontent.com", DisplayText: "Zoom", Scopes: []string{"https://www.googleapis.com/auth/calendar"}}))
	must(t, errOf(s.AddASP(janeEmail, "Thunderbird")))
	must(t, errOf(s.AddASP(janeEmail, "Old iPhone Mail")))
	must(t, s.AddBackupCodes(janeEmail, 10))
	for _, g := range []googlesim.Group{
		{ID: "0eng", Email: "eng@acme.example", Name: "Engineering"},
		{ID: "0all", Email: "all@acme.example", Name: "Everyone"},
		{ID: "0oncall", Email: "oncall@acme.example", Name: "On-call"},
	} {
		must(t, errOf(s.AddGroup(g)))
		must(t, s.AddMember(g.Email, janeEmail, "MEMBER"))
	}
	must(t, s.AddMember("eng@acme.example", "bob@acme.example", "OWNER"))
}

// tokenPath reports whether a recorded call went to the token endpoint.
func tokenPath(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/token") }

// apiOnly limits injected faults to the Admin SDK: the token endpoint's own failures are
// tested apart, since Google's OAuth server answers them in its own (OAuth) form.
func apiOnly(s *googlesim.Server) { s.Faults.Only(func(r *http.Request) bool { return !tokenPath(r) }) }

package jenkins

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/jenkins/jenkinssim"
)

// Distinctive credentials, so a leak is found by a plain substring search.
const (
	admin      = "offboard-admin"
	adminToken = "11SECRETjenkinsApiToken7f3c9a"
	wrongToken = "11WRONGjenkinsApiTokenb82d10"
)

// Dana is the seeded leaver: a Jenkins user with two API tokens and a mail address.
var dana = connector.Person{WorkerID: "W7", Email: "dana@acme.example", Name: "Dana Scully"}

// basic is the encoded Authorization value for a token, which must not leak either.
func basic(token string) string {
	return base64.StdEncoding.EncodeToString([]byte(admin + ":" + token))
}

type env struct {
	sim  *jenkinssim.Server
	conn *Connector
	url  string
}

// newEnv starts a simulator mounted under a prefix (as `offboard sim` does, and as Jenkins
// often runs under a context path) holding Dana and a bystander.
func newEnv(t *testing.T, opts jenkinssim.Options, mode string) *env {
	t.Helper()
	opts.AdminUser, opts.AdminToken = admin, adminToken
	s := jenkinssim.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/jenkins/", http.StripPrefix("/jenkins", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{sim: s, url: ts.URL + "/jenkins/"}
	e.conn = e.connector(t, adminToken, mode)
	must(t, s.AddUser(jenkinssim.User{ID: "dscully", FullName: "Dana Scully", Email: "dana@acme.example",
		Tokens: []jenkinssim.Token{{UUID: "aaaa-1111", Name: "ci laptop", Value: "dana-token-1"}, {UUID: "bbbb-2222", Name: "legacy", Legacy: true}}}))
	must(t, s.AddUser(jenkinssim.User{ID: "fmulder", FullName: "Fox Mulder", Email: "fox@acme.example",
		Tokens: []jenkinssim.Token{{UUID: "cccc-3333", Name: "deploy"}}}))
	return e
}

func (e *env) connector(t *testing.T, token, mode string) *Connector {
	t.Helper()
	c, err := New(Config{BaseURL: e.url, Username: admin, APIToken: token, Mode: mode})
	must(t, err)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

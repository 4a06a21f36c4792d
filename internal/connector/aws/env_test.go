package aws

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/aws/awssim"
)

// Distinctive credentials, so a leak is found by a plain substring search.
const (
	accessKeyID = "AKIAOFFBOARDTEST0001"
	secretKey   = "offboardSECRET/Zq8rVwX3pLk2+exampleKEY0"
	wrongSecret = "offboardWRONG/Hj2kLm9Qa7x1+exampleKEY00"
)

// Jane is the seeded leaver, found by her email tag; her IAM user name is not her email.
const (
	janeUser  = "jdoe"
	janeEmail = "jane.doe@acme.example"
	janeKey1  = "AKIAJANEACTIVE000001"
	janeKey2  = "AKIAJANEINACTIVE0002"
	hwSerial  = "GAHT12345678"
)

var jane = connector.Person{WorkerID: "W1", Email: janeEmail, Name: "Jane Doe"}

// env is a connector wired to a fresh simulator mounted under a path prefix, as in
// production behind a proxy or in `offboard sim`.
type env struct {
	sim  *awssim.Server
	conn *Connector
	url  string
}

func newEnv(t *testing.T, opts awssim.Options, cfg Config) *env {
	t.Helper()
	opts.AccessKeyID, opts.SecretAccessKey = accessKeyID, secretKey
	s := awssim.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/aws/", http.StripPrefix("/aws", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{sim: s, url: ts.URL + "/aws/"}
	if cfg.MatchTag == "" {
		cfg.MatchTag = "email"
	}
	e.conn = e.connector(t, secretKey, cfg)
	seedJane(t, s)
	return e
}

// connector returns a connector to the env's simulator signing with secret.
func (e *env) connector(t *testing.T, secret string, cfg Config) *Connector {
	t.Helper()
	cfg.Endpoint = e.url
	cfg.AccessKeyID = accessKeyID
	cfg.SecretAccessKey = secret
	c, err := New(cfg)
	must(t, err)
	c.backoff = 5 * time.Millisecond
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seedJane gives Jane one of everything the connector removes, and two live sessions, and
// adds a bystander who must be left alone.
func seedJane(t *testing.T, s *awssim.Server) {
	t.Helper()
	must(t, s.AddUser(awssim.User{Name: janeUser, Path: "/staff/", Tags: []awssim.Tag{{Key: "email", Value: janeEmail}, {Key: "team", Value: "payments"}}}))
	must(t, s.AddUser(awssim.User{Name: "bob", Tags: []awssim.Tag{{Key: "email", Value: "bob@acme.example"}}}))
	must(t, s.AddLoginProfile(janeUser))
	must(t, s.AddAccessKey(janeUser, awssim.AccessKey{ID: janeKey1, LastUsed: time.Now().Add(-time.Hour), LastService: "s3", LastRegion: "eu-west-1"}))
	must(t, s.AddAccessKey(janeUser, awssim.AccessKey{ID: janeKey2, Status: "Inactive"}))
	must(t, s.AddAccessKey("bob", awssim.AccessKey{ID: "AKIABOB0000000000001"}))
	_, err := s.AddMFADevice(janeUser, awssim.MFADevice{Virtual: true})
	must(t, err)
	_, err = s.AddMFADevice(janeUser, awssim.MFADevice{Serial: hwSerial})
	must(t, err)
	must(t, s.AddSSHKey(janeUser, awssim.Credential{ID: "APKAJANESSH000000001"}))
	must(t, s.AddSigningCertificate(janeUser, awssim.Credential{ID: "JANECERT000000000000000000000001"}))
	must(t, s.AddServiceCredential(janeUser, awssim.Credential{ID: "ACCAJANECODECOMMIT01"}))
	must(t, s.AddGroup("Developers", ""))
	must(t, s.AddGroup("Admins", "/ops/"))
	must(t, s.AddToGroup(janeUser, "Developers"))
	must(t, s.AddToGroup(janeUser, "Admins"))
	must(t, s.AddToGroup("bob", "Developers"))
	must(t, s.AttachPolicy(janeUser, "arn:aws:iam::aws:policy/ReadOnlyAccess"))
	must(t, s.PutInlinePolicy(janeUser, "s3-payments", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::payments/*"}]}`))
	must(t, s.AddSession(janeUser, awssim.Session{ID: "console-1", IssuedAt: time.Now().Add(-2 * time.Hour)}))
	must(t, s.AddSession(janeUser, awssim.Session{ID: "sts-1", IssuedAt: time.Now().Add(-10 * time.Minute)}))
}

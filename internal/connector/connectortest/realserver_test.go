package connectortest_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
)

// snapshot describes the acme server's state the way a real-server fixture would: a dump of
// the people's entries.
func (s *acmeSim) snapshot(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(s.users)
	return string(b), err
}

// closedURL returns the URL of a port where nothing listens any more.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// newRealServerFixture is the acme fixture as a connector tested against a real server would
// build it: no Faults or Recorder, a Snapshot and an Unreachable connector instead.
func newRealServerFixture(t *testing.T, f flaw) connectortest.Fixture {
	s := newAcmeSim(goodToken)
	s.addUser("u1", "jane@acme.test", 2, map[string]string{"g-eng": "Engineering", "g-ops": "Ops"})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	newConn := func(base, token string) *acme {
		return &acme{token: token, flaw: f, c: &connector.Client{
			System: "acme", BaseURL: base, HTTP: srv.Client(), Retries: 1,
			Authorize: func(r *http.Request) error {
				r.Header.Set("Authorization", "Bearer "+token)
				return nil
			},
		}}
	}
	return connectortest.Fixture{
		Connector:      newConn(srv.URL, goodToken),
		BadCredentials: newConn(srv.URL, badToken),
		Unreachable:    newConn(closedURL(t), goodToken),
		Snapshot:       s.snapshot,
		Person:         connector.Person{WorkerID: "1", Email: "jane@acme.test", Name: "Jane"},
		Unknown:        connector.Person{WorkerID: "2", Email: "nobody@acme.test", Name: "Nobody"},
		Secret:         goodToken,
		OtherSecrets:   []string{badToken},
	}
}

// TestRealServerFixtures proves the suite still guards its promises for connectors tested
// against real servers: a sound one passes, a plan that writes is caught by comparing
// snapshots, and an unreachable server mistaken for "no account" or marked permanent is caught.
func TestRealServerFixtures(t *testing.T) {
	t.Parallel()
	t.Run("sound connector passes", func(t *testing.T) {
		connectortest.Run(t, func(t *testing.T) connectortest.Fixture { return newRealServerFixture(t, sound) })
	})
	cases := []struct {
		flaw  flaw
		check string
		why   string
	}{
		{writesInPlan, "PlanReadsOnly", "planning changed the server"},
		{outageIsNotFound, "ServerErrorIsRetryable", "never a finding"},
		{everythingPermanent, "ServerErrorIsRetryable", "reported as permanent"},
	}
	for _, tc := range cases {
		t.Run(string(tc.flaw), func(t *testing.T) {
			t.Parallel()
			var got error
			for _, c := range connectortest.Checks() {
				if c.Name == tc.check {
					got = c.Run(t.Context(), newRealServerFixture(t, tc.flaw), &connectortest.Transcript{})
				}
			}
			if got == nil || !strings.Contains(got.Error(), tc.why) {
				t.Fatalf("%s against a connector whose %s: got %v, want an error saying %q", tc.check, tc.flaw, got, tc.why)
			}
		})
	}
	t.Run("fixture without Snapshot or Unreachable is rejected", func(t *testing.T) {
		t.Parallel()
		f := newRealServerFixture(t, sound)
		f.Snapshot, f.Unreachable = nil, nil
		var once sync.Once
		for _, c := range connectortest.Checks() {
			err := c.Run(t.Context(), f, &connectortest.Transcript{})
			if err == nil || !strings.Contains(err.Error(), "Snapshot") || !strings.Contains(err.Error(), "Unreachable") {
				once.Do(func() { t.Errorf("%s: got %v, want Snapshot and Unreachable named as missing", c.Name, err) })
			}
		}
	})
}

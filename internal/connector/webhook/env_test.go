package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/webhook/webhooksim"
	"github.com/offboard-dev/offboard/internal/sim"
)

// Distinctive secrets, so a leak is found by a plain substring search.
const (
	sharedSecret = "whsec-SHARED-7f3a9c21e4b8d056XQ"
	wrongSecret  = "whsec-WRONG-0d1e2f3a4b5c6d7eRZ"
	toolName     = "admin-tool"
)

var (
	dana = connector.Person{WorkerID: "W7", Email: "dana@acme.example", Name: "Dana Leaver"}
	sam  = connector.Person{WorkerID: "W8", Email: "sam@acme.example", Name: "Sam Stays"}
)

// env is a connector wired to the simulated example tool, mounted under a path prefix as
// `offboard sim` and the demo mount it.
type env struct {
	sim  *webhooksim.Server
	conn *Connector
	url  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := webhooksim.New(webhooksim.Options{Secret: sharedSecret})
	mux := http.NewServeMux()
	mux.Handle("/webhook-example/", http.StripPrefix("/webhook-example", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{sim: s, url: ts.URL + "/webhook-example/"}
	e.conn = e.connector(t, sharedSecret)
	seed(t, s)
	return e
}

func (e *env) connector(t *testing.T, secret string) *Connector {
	t.Helper()
	c, err := New(Config{Name: toolName, URL: e.url, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seed gives Dana two roles and two API keys, and Sam (who stays) a role and a key.
func seed(t *testing.T, s *webhooksim.Server) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.AddAccount("dana", dana.Email, dana.Name)
	must(err)
	_, err = s.AddAccount("sam", sam.Email, sam.Name)
	must(err)
	must(s.GrantRole("dana", "admin"))
	must(s.GrantRole("dana", "billing"))
	_, err = s.AddAPIKey("dana", "ci-deploy")
	must(err)
	_, err = s.AddAPIKey("dana", "laptop")
	must(err)
	must(s.GrantRole("sam", "admin"))
	_, err = s.AddAPIKey("sam", "ci")
	must(err)
}

// readOnly reports whether a recorded request was of a phase that only reads.
func readOnly(c sim.Call) bool {
	q, _ := url.ParseQuery(c.Query)
	switch q.Get("phase") {
	case PhasePlan, PhaseVerify, PhaseCheck:
		return true
	}
	return false
}

// fakeClock makes the connector's pacer wait without real time passing, records the waits
// it asked for, and is also the clock the connector signs with.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func useFakeClock(c *Connector) *fakeClock {
	fc := &fakeClock{now: time.Now()}
	c.now = fc.Now
	c.client.Pacer.SetClock(fc.Now, fc.Wait)
	return fc
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Wait(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	f.now = f.now.Add(d)
	return ctx.Err()
}

func (f *fakeClock) total() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var sum time.Duration
	for _, w := range f.waits {
		sum += w
	}
	return sum
}

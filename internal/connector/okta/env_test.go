package okta

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/okta/oktasim"
)

// Distinctive credentials, so a leak is found by a plain substring search.
const (
	secretToken = "00SECRET-okta-api-token-Zq8rVwX3pL"
	wrongToken  = "00WRONG-okta-api-token-Hj2kLm9Qa"
)

// Jane is the seeded leaver; her IDs are used by the tests.
const (
	janeID    = "00ujane0000000000001"
	janeLogin = "jane.doe@acme.example"
)

var jane = connector.Person{WorkerID: "W1", Email: janeLogin, Name: "Jane Doe"}

// env is a connector wired to a fresh simulator mounted under a path prefix, as in
// production behind a proxy or in `offboard sim`.
type env struct {
	sim  *oktasim.Server
	conn *Connector
	url  string
}

// newEnv starts a simulator (wrapped by wrap, if given) holding Jane and a bystander.
func newEnv(t *testing.T, opts oktasim.Options, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	opts.Token = secretToken
	s := oktasim.New(opts)
	var h http.Handler = http.StripPrefix("/okta", s)
	if wrap != nil {
		h = wrap(h)
	}
	mux := http.NewServeMux()
	mux.Handle("/okta/", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{sim: s, url: ts.URL + "/okta"}
	e.conn = e.connector(secretToken)
	seedJane(t, s)
	return e
}

func (e *env) connector(token string) *Connector {
	return New(Config{BaseURL: e.url, Token: token})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seedJane gives Jane one of everything the connector handles: a static group, a
// rule-managed group, an imported AD group, Everyone, two factors, a direct and a
// group-held admin role, a consent grant, and an OAuth client holding a refresh token.
func seedJane(t *testing.T, s *oktasim.Server) {
	t.Helper()
	must(t, s.AddUser(oktasim.User{ID: janeID, Login: janeLogin, FirstName: "Jane", LastName: "Doe", Sessions: 2}))
	must(t, s.AddUser(oktasim.User{ID: "00ubob00000000000001", Login: "bob@acme.example", FirstName: "Bob", LastName: "Roe"}))
	must(t, s.AddGroup(oktasim.Group{ID: "00geng", Name: "Engineering"}))
	must(t, s.AddGroup(oktasim.Group{ID: "00gstaff", Name: "All Staff"}))
	must(t, s.AddGroup(oktasim.Group{ID: "00gvpn", Name: "VPN Users", Type: oktasim.AppGroup, Source: "Active Directory (corp.acme.example)"}))
	must(t, s.AddMember("00geng", janeID))
	must(t, s.AddMember("00gvpn", janeID))
	must(t, s.AddMember("00geng", "00ubob00000000000001"))
	must(t, s.AddRule(oktasim.Rule{ID: "0prstaff", Name: "Staff by department", GroupIDs: []string{"00gstaff"},
		Matches: []string{janeID, "00ubob00000000000001"}}))
	must(t, s.AddFactor(janeID, oktasim.Factor{ID: "mfapush", Type: "push"}))
	must(t, s.AddFactor(janeID, oktasim.Factor{ID: "mfasms", Type: "sms"}))
	must(t, s.AddRole(janeID, oktasim.Role{ID: "rasuper", Type: "SUPER_ADMIN", Label: "Super Administrator"}))
	must(t, s.AddRole(janeID, oktasim.Role{ID: "rahelp", Type: "HELP_DESK_ADMIN", Label: "Help Desk Administrator", AssignmentType: "GROUP"}))
	must(t, s.AddGrant(janeID, oktasim.Grant{ID: "oagzoom", ClientID: "0oazoom", ClientName: "Zoom", ScopeID: "okta.users.read"}))
	must(t, s.AddClientToken(janeID, oktasim.ClientToken{ClientID: "0oaslack", ClientName: "Slack", TokenID: "oarslack1"}))
}

// fakeClock is a clock whose waits pass at once by moving it forward, shared by the
// simulator and the connector so rate-limit windows can be waited out without real time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return nil
}

// useClock drives the connector's pacing and rate-limit waits with clock.
func (c *Connector) useClock(clock *fakeClock) {
	for _, cl := range []*connector.Client{c.client, c.once} {
		cl.Now = clock.Now
	}
	c.client.Pacer.SetClock(clock.Now, clock.wait)
	c.now = clock.Now
}

// applyAll applies and verifies every action, each kind once the kinds it waits on are done,
// and the actions of one wave concurrently, as the engine does.
func applyAll(t *testing.T, c *Connector, actions []connector.Action) {
	t.Helper()
	ctx := t.Context()
	left := append([]connector.Action(nil), actions...)
	for len(left) > 0 {
		var wave, rest []connector.Action
		for _, a := range left {
			ready := true
			for _, k := range a.After {
				for _, other := range left {
					if other.Kind == k {
						ready = false
					}
				}
			}
			if ready {
				wave = append(wave, a)
			} else {
				rest = append(rest, a)
			}
		}
		if len(wave) == 0 {
			t.Fatalf("actions wait on each other: %v", rest)
		}
		errs := make([]error, len(wave))
		var wg sync.WaitGroup
		for i, a := range wave {
			wg.Go(func() {
				if err := c.Apply(ctx, a); err != nil {
					errs[i] = err
					return
				}
				errs[i] = verifyEventually(ctx, c, a)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("%s: %v", wave[i].Key(), err)
			}
		}
		left = rest
	}
}

// verifyEventually reads an action back until verified; Okta deactivates asynchronously.
func verifyEventually(ctx context.Context, c *Connector, a connector.Action) error {
	var ev connector.Evidence
	for range 5 {
		var err error
		if ev, err = c.Verify(ctx, a); err != nil || ev.Verified {
			return err
		}
	}
	return &notVerified{a.Key(), ev.Observed}
}

type notVerified struct{ key, observed string }

func (e *notVerified) Error() string { return e.key + " not verified: " + e.observed }

// forbidPath answers Okta's 403 E0000006 to one method and path (prefix included), as an org
// does when the token's admin lacks a permission.
func forbidPath(method, path string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == method && r.URL.Path == path {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, `{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action","errorLink":"E0000006","errorId":"oaetest","errorCauses":[]}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

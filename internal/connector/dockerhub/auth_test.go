package dockerhub

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/dockerhub/dockerhubsim"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func exchanges(e *env) int { return e.sim.Recorder.Count(http.MethodPost, "/v2/auth/token", "") }

// TestTokenIsCachedAndRefreshedBeforeExpiry protects the JWT cache: one exchange serves many
// calls, and a token about to expire is replaced before Docker Hub would refuse it.
func TestTokenIsCachedAndRefreshedBeforeExpiry(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Now()}
	e := newEnv(t, dockerhubsim.Options{Now: clk.Now})
	e.conn.tokens.now = clk.Now
	ctx := context.Background()
	for range 3 {
		must(t, e.conn.Check(ctx))
	}
	if n := exchanges(e); n != 1 {
		t.Fatalf("%d token exchanges for three checks, want 1", n)
	}
	clk.Add(9*time.Minute + 30*time.Second) // within the last minute of the 10-minute life
	must(t, e.conn.Check(ctx))
	if n := exchanges(e); n != 2 {
		t.Fatalf("%d token exchanges after the token neared expiry, want 2", n)
	}
	if n := e.sim.Recorder.Count("", "/v2/orgs", ""); n == 0 || countStatus(e, http.StatusUnauthorized) != 0 {
		t.Errorf("no organization call should have been refused (%d 401s)", countStatus(e, http.StatusUnauthorized))
	}
}

func countStatus(e *env, status int) int {
	n := 0
	for _, c := range e.sim.Recorder.Calls() {
		if c.Status == status {
			n++
		}
	}
	return n
}

// TestReauthenticatesOnceOn401 protects against calling good credentials bad when Docker Hub
// ends a JWT early: one 401 leads to a fresh exchange and a retry.
func TestReauthenticatesOnceOn401(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Now()}
	e := newEnv(t, dockerhubsim.Options{Now: clk.Now})
	ctx := context.Background()
	must(t, e.conn.Check(ctx))
	clk.Add(11 * time.Minute) // the simulator's clock only: the connector thinks the token is fresh
	must(t, e.conn.Check(ctx))
	if n := exchanges(e); n != 2 {
		t.Errorf("%d exchanges, want 2 (the first, then one after the 401)", n)
	}
	if n := countStatus(e, http.StatusUnauthorized); n != 1 {
		t.Errorf("%d refused calls, want exactly 1", n)
	}
}

// TestPersistent401IsPermanent protects the other side: when even a fresh token is refused
// the step stops, after one retry rather than forever.
func TestPersistent401IsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dockerhubsim.Options{TokenTTL: time.Nanosecond})
	err := e.conn.Check(context.Background())
	if !connector.IsPermanent(err) {
		t.Fatalf("Check with tokens that are always expired: %v, want permanent", err)
	}
	if n := exchanges(e); n != 2 {
		t.Errorf("%d exchanges, want 2", n)
	}
}

// TestCheckExplainsRefusals protects the operator's first contact: a personal access token and
// a wrong organization name each fail permanently with what to fix.
func TestCheckExplainsRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dockerhubsim.Options{PATUser: "admin", PAT: "dckr_pat_personal-1234"})
	pat, err := New(Config{BaseURL: e.url, Org: org, Username: "admin", Token: "dckr_pat_personal-1234"})
	must(t, err)
	err = pat.Check(context.Background())
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "organization access token") {
		t.Errorf("Check with a PAT: %v", err)
	}
	if strings.Contains(err.Error(), "dckr_pat_personal-1234") {
		t.Error("the PAT appears in the error")
	}
	wrong, err := New(Config{BaseURL: e.url, Org: "other", Username: org, Token: secretOAT})
	must(t, err)
	if err := wrong.Check(context.Background()); !connector.IsPermanent(err) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Check with a wrong organization: %v", err)
	}
	if _, err := New(Config{BaseURL: e.url}); err == nil || !strings.Contains(err.Error(), "org, token") {
		t.Errorf("New without org and token: %v", err)
	}
}

// TestThrottleShapesAreWaitedOut protects both documented 429 shapes, Retry-After seconds and
// the older X-Retry-After unix timestamp: each is waited out, never an error.
func TestThrottleShapesAreWaitedOut(t *testing.T) {
	t.Parallel()
	for name, legacy := range map[string]bool{"Retry-After": false, "X-Retry-After": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, dockerhubsim.Options{LegacyRetryHeader: legacy})
			e.sim.Faults.ThrottleNext(2)
			must(t, e.conn.Check(context.Background()))
			if n := countStatus(e, http.StatusTooManyRequests); n != 2 {
				t.Errorf("%d throttled answers, want 2", n)
			}
		})
	}
}

// TestJWTExpiry protects the refresh schedule's input: exp is read from the token, and a
// token without a readable exp gets the documented ten minutes.
func TestJWTExpiry(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	enc := base64.RawURLEncoding.EncodeToString
	good := enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(`{"exp":1700000300}`)) + ".sig"
	if got := jwtExpiry(good, now); !got.Equal(time.Unix(1_700_000_300, 0)) {
		t.Errorf("exp read as %v", got)
	}
	for _, bad := range []string{"opaque", "a.b.c", enc([]byte(`{}`)) + "." + enc([]byte(`{"exp":1}`)) + ".s"} {
		if got := jwtExpiry(bad, now); !got.Equal(now.Add(defaultTokenLife)) {
			t.Errorf("%q: expiry %v, want the default life", bad, got)
		}
	}
}

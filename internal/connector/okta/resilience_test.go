package okta

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/okta/oktasim"
)

// TestRateLimitStormCompletes offboards Jane through a budget of 8 requests a minute and a
// burst of injected 429s. Simulator and connector share a fake clock whose waits pass at
// once, so the test waits out many minute windows in no real time.
func TestRateLimitStormCompletes(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	e := newEnv(t, oktasim.Options{PerMinute: 8, Now: clock.Now}, nil)
	e.conn.useClock(clock)
	e.sim.Faults.ThrottleNext(5)
	start := clock.Now()

	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	applyAll(t, e.conn, p.Actions)

	if got := e.sim.UserStatus(janeID); got != "DEPROVISIONED" {
		t.Errorf("status after the storm: %s", got)
	}
	throttled := 0
	for _, c := range e.sim.Recorder.Calls() {
		if c.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled < 5 {
		t.Errorf("saw %d 429s, want at least the 5 injected", throttled)
	}
	// With 8 requests a minute, the work spans several windows: the connector waited.
	if calls := len(e.sim.Recorder.Calls()) - throttled; clock.Now().Sub(start) < time.Duration(calls/8-1)*time.Minute {
		t.Errorf("%d requests went through in %s of simulated time, over the budget", calls, clock.Now().Sub(start))
	}
}

func TestBadTokenIsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	bad := e.connector(wrongToken)
	_, err := bad.Plan(t.Context(), jane)
	if !connector.IsPermanent(err) || connector.StatusOf(err) != http.StatusUnauthorized {
		t.Errorf("Plan with a bad token: %v, want a permanent 401", err)
	}
	err = bad.Check(t.Context())
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "API token was refused") || !strings.Contains(err.Error(), "E0000011") {
		t.Errorf("Check with a bad token: %v", err)
	}
	if n := e.sim.Recorder.Count("GET", "/api/v1/users/me", ""); n != 1 {
		t.Errorf("a 401 was retried: %d calls to /users/me", n)
	}
	must(t, e.conn.Check(t.Context()))
}

func TestServerErrorsAreRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktasim.Options{}, nil)
	e.sim.Faults.FailNext(2, http.StatusServiceUnavailable)
	if _, err := e.conn.Plan(t.Context(), jane); err != nil {
		t.Fatalf("two 503s should be retried away: %v", err)
	}
	e.sim.Faults.FailNext(100, http.StatusBadGateway)
	_, err := e.conn.Plan(t.Context(), jane)
	if err == nil || connector.IsPermanent(err) || connector.StatusOf(err) != http.StatusBadGateway {
		t.Errorf("a lasting outage: %v, want a retryable 502 error", err)
	}
	// Each Plan starts with the lookup: 503, 503, 200, then 502 three times.
	if n := e.sim.Recorder.Count("GET", "/api/v1/users/"+janeLogin, ""); n != 6 {
		t.Errorf("the lookup was sent %d times, want 6 (each Plan retries it twice)", n)
	}
}

// inflight counts requests being served at once.
type inflight struct {
	now, max atomic.Int64
}

func (f *inflight) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.now.Add(1)
		defer f.now.Add(-1)
		for {
			m := f.max.Load()
			if n <= m || f.max.CompareAndSwap(m, n) {
				break
			}
		}
		next.ServeHTTP(w, r)
	})
}

// TestManyGroupsAreRemovedConcurrently removes 100 groups as the engine does, all at once,
// and checks that the connector really sends the removals in parallel.
func TestManyGroupsAreRemovedConcurrently(t *testing.T) {
	t.Parallel()
	var f inflight
	e := newEnv(t, oktasim.Options{}, f.wrap)
	for i := range 100 {
		id := fmt.Sprintf("00gbulk%03d", i)
		must(t, e.sim.AddGroup(oktasim.Group{ID: id, Name: "Bulk " + id}))
		must(t, e.sim.AddMember(id, janeID))
	}
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	var groups []connector.Action
	for _, a := range p.Actions {
		if a.Kind == KindRemoveGroup {
			groups = append(groups, a)
		}
	}
	if len(groups) != 102 {
		t.Fatalf("planned %d group removals, want 102", len(groups))
	}
	e.sim.Faults.SetLatency(50 * time.Millisecond)
	f.max.Store(0)
	applyAll(t, e.conn, groups)
	if m := f.max.Load(); m <= 1 {
		t.Errorf("at most %d request in flight while removing 102 groups; removals are serialised", m)
	}
	if left := len(e.sim.GroupsOf(janeID)); left != 2 {
		t.Errorf("%d groups left, want Everyone and the imported one", left)
	}
}

// TestConcurrentGroupVerifiesShareOneRead holds the first read of Jane's groups until ten
// Verify calls are waiting, then checks they did not each read the list.
func TestConcurrentGroupVerifiesShareOneRead(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 100)
	release := make(chan struct{})
	gate := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/groups") {
				arrived <- struct{}{}
				<-release
			}
			next.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, oktasim.Options{}, nil)
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	gated := newEnv(t, oktasim.Options{}, gate)
	a := find(t, p, KindRemoveGroup, "00geng")
	var wg sync.WaitGroup
	results := make([]connector.Evidence, 10)
	for i := range results {
		wg.Go(func() {
			ev, err := gated.conn.Verify(t.Context(), a)
			if err != nil {
				t.Error(err)
			}
			results[i] = ev
		})
	}
	<-arrived
	time.Sleep(100 * time.Millisecond) // let the other nine join the read in flight
	close(release)
	wg.Wait()
	if n := gated.sim.Recorder.Count("GET", "", "/groups"); n >= len(results) {
		t.Errorf("%d Verify calls made %d reads of the same group list; concurrent reads are not shared", len(results), n)
	}
	for _, ev := range results {
		if ev.Verified {
			t.Errorf("a membership still in place was verified gone: %q", ev.Observed)
		}
	}
}

// TestTokenNeverLeaks looks for the API token in everything the connector produces, across
// success, refusals, outages and an Okta error that echoes the request's credentials.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	echo := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "DELETE" && strings.HasSuffix(r.URL.Path, "/roles/rasuper") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(map[string]any{
					"errorCode": "E0000001", "errorSummary": "Api validation failed: " + r.Header.Get("Authorization"),
					"errorCauses": []map[string]string{{"errorSummary": "token " + strings.TrimPrefix(r.Header.Get("Authorization"), "SSWS ")}},
				})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, oktasim.Options{}, echo)
	ctx := t.Context()
	var texts []string
	record := func(v any, err error) {
		if err != nil {
			texts = append(texts, err.Error())
		}
		if v != nil {
			b, _ := json.Marshal(v)
			texts = append(texts, string(b))
		}
	}
	p, err := e.conn.Plan(ctx, jane)
	record(p, err)
	for _, a := range p.Actions {
		record(nil, e.conn.Apply(ctx, a))
		ev, err := e.conn.Verify(ctx, a)
		record(ev, err)
	}
	bad := e.connector(wrongToken)
	pl, err := bad.Plan(ctx, jane)
	record(pl, err)
	record(nil, bad.Check(ctx))
	e.sim.Faults.FailNext(10, http.StatusInternalServerError)
	pl, err = e.conn.Plan(ctx, jane)
	record(pl, err)

	var echoed bool
	for _, s := range texts {
		for _, secret := range []string{secretToken, wrongToken} {
			if strings.Contains(s, secret) {
				t.Errorf("a token appears in: %s", strings.ReplaceAll(s, secret, "<TOKEN>"))
			}
		}
		echoed = echoed || strings.Contains(s, "Api validation failed: [REDACTED]")
	}
	if !echoed {
		t.Error("the echoed-credentials error was not seen; the test did not exercise redaction")
	}
}

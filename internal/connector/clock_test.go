package connector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock whose time moves only when something waits on it, so rate-limit waits
// are asserted as durations the code asked for, never measured on the wall.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.t = c.t.Add(d)
	return nil
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

func (c *fakeClock) Total() time.Duration {
	var sum time.Duration
	for _, d := range c.Slept() {
		sum += d
	}
	return sum
}

const testToken = "tok-3f9a7c1e5b2d8e4f"

// testServer serves h and counts the requests it answered.
type testServer struct {
	*httptest.Server
	calls atomic.Int64
}

func newTestServer(t *testing.T, h http.HandlerFunc) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// newTestClient returns a client for srv that pays its waits on clk and authorizes with
// testToken.
func newTestClient(srv *httptest.Server, clk *fakeClock) *Client {
	p := NewPacer(4)
	p.SetClock(clk.Now, clk.Sleep)
	return &Client{
		System:  "vendor",
		BaseURL: srv.URL,
		HTTP:    srv.Client(),
		Authorize: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+testToken)
			return nil
		},
		Retries: 2,
		Pacer:   p,
		Now:     clk.Now,
	}
}

// sequence answers the requests in turn with the handlers given, repeating the last one.
func sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(hs) {
			i = len(hs) - 1
		}
		hs[i](w, r)
	}
}

func ok(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok":true}`))
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

// within reports whether d lies in [lo, hi]; waits carry up to 10% jitter.
func within(d, lo, hi time.Duration) bool { return d >= lo && d <= hi }

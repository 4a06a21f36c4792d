// Package sim is the toolkit the in-process simulators are built with: a mux that answers 501
// to anything not implemented, fault injection (latency, 5xx, the vendor's own 429, dropped
// connections), per-minute request budgets, cursor pagination and a request log for tests.
//
// Simulators are written from the vendors' documentation, never from our connectors, so a
// misunderstanding cannot hide in both.
package sim

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Mux routes a simulator's endpoints (Go 1.22 patterns such as "DELETE /api/v1/users/{id}")
// and answers 501 Not Implemented to any request no pattern matches, so a connector calling an
// endpoint the simulator does not know fails loudly instead of seeing a plausible 404.
type Mux struct {
	mux *http.ServeMux
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{mux: http.NewServeMux()} }

// HandleFunc registers h for pattern.
func (m *Mux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.mux.HandleFunc(pattern, h)
}

// Handle registers h for pattern.
func (m *Mux) Handle(pattern string, h http.Handler) { m.mux.Handle(pattern, h) }

func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := m.mux.Handler(r); pattern == "" {
		NotImplemented(w, r)
		return
	}
	m.mux.ServeHTTP(w, r)
}

// NotImplemented answers 501 naming the request, for endpoints a simulator does not have.
func NotImplemented(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusNotImplemented, map[string]string{
		"error": fmt.Sprintf("not implemented by simulator: %s %s", r.Method, r.URL.Path),
	})
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// Faults injects failures and latency into a simulator. The zero value injects nothing; all
// methods are safe for concurrent use.
type Faults struct {
	mu       sync.Mutex
	latency  time.Duration
	fail     int
	failCode int
	throttle int
	drop     int
	only     func(*http.Request) bool
}

// SetLatency delays every response by d (honouring the request's context).
func (f *Faults) SetLatency(d time.Duration) {
	f.mu.Lock()
	f.latency = d
	f.mu.Unlock()
}

// FailNext makes the next n requests answer status (a 5xx) without reaching the simulator.
func (f *Faults) FailNext(n, status int) {
	f.mu.Lock()
	f.fail, f.failCode = n, status
	f.mu.Unlock()
}

// ThrottleNext makes the next n requests answer the vendor's own 429.
func (f *Faults) ThrottleNext(n int) {
	f.mu.Lock()
	f.throttle = n
	f.mu.Unlock()
}

// DropNext makes the next n requests lose their connection without an answer.
func (f *Faults) DropNext(n int) {
	f.mu.Lock()
	f.drop = n
	f.mu.Unlock()
}

// Only limits the counted faults (not latency) to requests for which match returns true; nil
// means every request.
func (f *Faults) Only(match func(*http.Request) bool) {
	f.mu.Lock()
	f.only = match
	f.mu.Unlock()
}

type faultKind int

const (
	noFault faultKind = iota
	failFault
	throttleFault
	dropFault
)

func (f *Faults) next(r *http.Request) (time.Duration, faultKind, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.only != nil && !f.only(r) {
		return f.latency, noFault, 0
	}
	switch {
	case f.drop > 0:
		f.drop--
		return f.latency, dropFault, 0
	case f.fail > 0:
		f.fail--
		return f.latency, failFault, f.failCode
	case f.throttle > 0:
		f.throttle--
		return f.latency, throttleFault, 0
	}
	return f.latency, noFault, 0
}

// Wrap applies the faults in front of next. throttled writes the vendor's own 429 response
// (status, headers and body); it is called for injected throttling. A nil throttled answers a
// bare 429 with "Retry-After: 1", for simulators of vendors that document nothing more.
func (f *Faults) Wrap(next http.Handler, throttled http.HandlerFunc) http.Handler {
	if throttled == nil {
		throttled = func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "1")
			WriteJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many requests"})
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		latency, kind, code := f.next(r)
		if latency > 0 {
			t := time.NewTimer(latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch kind {
		case dropFault:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		case failFault:
			if code == 0 {
				code = http.StatusServiceUnavailable
			}
			WriteJSON(w, code, map[string]string{"error": "injected fault"})
		case throttleFault:
			throttled(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// Budget is a fixed-window per-minute request budget, as Okta and others enforce. A zero
// PerMinute means unlimited.
type Budget struct {
	mu        sync.Mutex
	perMinute int
	window    time.Time
	used      int
	now       func() time.Time
}

// NewBudget returns a budget of perMinute requests per minute window.
func NewBudget(perMinute int) *Budget { return &Budget{perMinute: perMinute, now: time.Now} }

// SetPerMinute changes the budget; 0 means unlimited.
func (b *Budget) SetPerMinute(n int) {
	b.mu.Lock()
	b.perMinute = n
	b.mu.Unlock()
}

// SetClock replaces the clock (tests).
func (b *Budget) SetClock(now func() time.Time) {
	b.mu.Lock()
	b.now = now
	b.mu.Unlock()
}

// Take spends one request. It returns the limit, what remains after this request, when the
// window resets, and whether the request is within the budget.
func (b *Budget) Take() (limit, remaining int, reset time.Time, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	start := now.Truncate(time.Minute)
	if !start.Equal(b.window) {
		b.window, b.used = start, 0
	}
	reset = start.Add(time.Minute)
	if b.perMinute <= 0 {
		return 1 << 30, 1 << 30, reset, true
	}
	if b.used >= b.perMinute {
		return b.perMinute, 0, reset, false
	}
	b.used++
	return b.perMinute, b.perMinute - b.used, reset, true
}

// Page returns the slice of items after the opaque cursor, at most limit long, and the cursor
// of the next page ("" at the end). A bad cursor starts from the beginning, as the cursor is
// only ever one the simulator produced.
func Page[T any](items []T, cursor string, limit int) ([]T, string) {
	start, _ := strconv.Atoi(cursor)
	if start < 0 || start > len(items) {
		start = 0
	}
	end := len(items)
	if limit > 0 && start+limit < end {
		end = start + limit
	}
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next
}

// Call is one request a simulator received, for tests that count or inspect calls.
type Call struct {
	Method string
	Path   string
	Query  string
	Status int
	At     time.Time
}

// Recorder logs the requests a simulator answers. Safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	calls  []Call
	notify []chan struct{}
}

// Wrap records every request that passes through next.
func (rec *Recorder) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		rec.mu.Lock()
		rec.calls = append(rec.calls, Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: sw.status, At: time.Now()})
		for _, ch := range rec.notify {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
		rec.mu.Unlock()
	})
}

// Calls returns a copy of the calls so far.
func (rec *Recorder) Calls() []Call {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]Call(nil), rec.calls...)
}

// Count returns how many calls matched method (or any, if "") and whose path has the prefix
// and suffix given.
func (rec *Recorder) Count(method, prefix, suffix string) int {
	n := 0
	for _, c := range rec.Calls() {
		if (method == "" || c.Method == method) && strings.HasPrefix(c.Path, prefix) && strings.HasSuffix(c.Path, suffix) {
			n++
		}
	}
	return n
}

// WaitFor blocks until cond holds for the calls recorded, or ctx ends.
func (rec *Recorder) WaitFor(ctx context.Context, cond func([]Call) bool) error {
	ch := make(chan struct{}, 1)
	rec.mu.Lock()
	rec.notify = append(rec.notify, ch)
	rec.mu.Unlock()
	defer func() {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.notify = slices.DeleteFunc(rec.notify, func(c chan struct{}) bool { return c == ch })
	}()
	for {
		if cond(rec.Calls()) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

type statusWriter struct {
	http.ResponseWriter
	status  int
	written bool
}

// WriteHeader records the status the client sees: the first one, as net/http ignores later
// calls. 1xx informational headers are not the response's status.
func (s *statusWriter) WriteHeader(code int) {
	if !s.written && code >= 200 {
		s.status, s.written = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.written = true
	return s.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer, for flushing and deadlines.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack lets Faults drop connections through the recorder.
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	s.status = 0
	return hj.Hijack()
}

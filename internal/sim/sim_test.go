package sim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// reached counts the requests that got past the faults to the simulator itself.
type reached struct{ n atomic.Int64 }

func (h *reached) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.n.Add(1)
	WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

// TestMuxAnswers501ForWhatIsNotImplemented protects simulator fidelity: an endpoint a
// simulator lacks fails loudly instead of answering a plausible 404 or 405.
func TestMuxAnswers501ForWhatIsNotImplemented(t *testing.T) {
	t.Parallel()
	m := NewMux()
	m.HandleFunc("GET /api/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})
	m.Handle("DELETE /api/v1/groups/{gid}/users/{uid}", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	cases := []struct {
		method, path string
		want         int
		body         string
	}{
		{"GET", "/api/v1/users/00u1", 200, `{"id":"00u1"}`},
		{"DELETE", "/api/v1/groups/00g1/users/00u1", 204, ""},
		{"GET", "/api/v1/groups", 501, "not implemented by simulator: GET /api/v1/groups"},
		{"DELETE", "/api/v1/users/00u1", 501, "not implemented by simulator: DELETE /api/v1/users/00u1"},
		{"POST", "/", 501, "not implemented by simulator: POST /"},
	}
	for _, tc := range cases {
		w := serve(m, tc.method, tc.path)
		if w.Code != tc.want || !strings.Contains(w.Body.String(), tc.body) {
			t.Errorf("%s %s = %d %q, want %d containing %q", tc.method, tc.path, w.Code, w.Body.String(), tc.want, tc.body)
		}
		if tc.want == 501 && w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: 501 is not JSON", tc.method, tc.path)
		}
	}
}

func TestFailNextAnswersTheStatusThenRecovers(t *testing.T) {
	t.Parallel()
	f := &Faults{}
	next := &reached{}
	h := f.Wrap(next, nil)
	f.FailNext(2, http.StatusBadGateway)
	for i, want := range []int{502, 502, 200} {
		if got := serve(h, "GET", "/x").Code; got != want {
			t.Errorf("request %d = %d, want %d", i+1, got, want)
		}
	}
	f.FailNext(1, 0)
	if got := serve(h, "GET", "/x").Code; got != http.StatusServiceUnavailable {
		t.Errorf("FailNext with status 0 = %d, want 503", got)
	}
	f.FailNext(5, 500)
	f.FailNext(0, 0)
	if got := serve(h, "GET", "/x").Code; got != 200 || next.n.Load() != 2 {
		t.Errorf("after FailNext(0, 0): %d, %d reached; want faults cleared", got, next.n.Load())
	}
}

func TestThrottleNextCallsTheVendorWriter(t *testing.T) {
	t.Parallel()
	f := &Faults{}
	next := &reached{}
	h := f.Wrap(next, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Rate-Limit-Reset", "1772000000")
		WriteJSON(w, http.StatusTooManyRequests, map[string]string{"errorCode": "E0000047"})
	})
	f.ThrottleNext(2)
	for i := range 2 {
		w := serve(h, "GET", "/x")
		if w.Code != 429 || w.Header().Get("X-Rate-Limit-Reset") != "1772000000" || !strings.Contains(w.Body.String(), "E0000047") {
			t.Errorf("throttled request %d = %d %v %q, want the vendor's 429", i+1, w.Code, w.Header(), w.Body.String())
		}
	}
	if got := serve(h, "GET", "/x").Code; got != 200 || next.n.Load() != 1 {
		t.Errorf("third request = %d, want it to reach the simulator", got)
	}

	bare := &Faults{}
	bare.ThrottleNext(1)
	w := serve(bare.Wrap(next, nil), "GET", "/x")
	if w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Errorf("throttling with no vendor writer = %d %v, want 429 with Retry-After", w.Code, w.Header())
	}
}

func TestOnlyLimitsFaultsToMatchingRequests(t *testing.T) {
	t.Parallel()
	f := &Faults{}
	next := &reached{}
	h := f.Wrap(next, nil)
	f.Only(func(r *http.Request) bool { return r.Method == http.MethodDelete })
	f.FailNext(1, 500)
	if got := serve(h, "GET", "/x").Code; got != 200 {
		t.Errorf("GET with a DELETE-only fault = %d, want 200", got)
	}
	if got := serve(h, "DELETE", "/x").Code; got != 500 {
		t.Errorf("DELETE = %d, want the pending fault", got)
	}
	f.Only(nil)
	f.FailNext(1, 500)
	if got := serve(h, "GET", "/x").Code; got != 500 {
		t.Errorf("GET after Only(nil) = %d, want faults for every request", got)
	}
}

// TestLatencyHonoursTheContext protects test and shutdown speed: a request given up by its
// client does not hold the simulator for the injected latency.
func TestLatencyHonoursTheContext(t *testing.T) {
	t.Parallel()
	f := &Faults{}
	next := &reached{}
	h := f.Wrap(next, nil)
	f.SetLatency(time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil).WithContext(ctx))
	if next.n.Load() != 0 {
		t.Error("a request whose context ended during the latency reached the simulator")
	}
	f.SetLatency(time.Millisecond)
	if got := serve(h, "GET", "/x").Code; got != 200 || next.n.Load() != 1 {
		t.Errorf("with a short latency = %d, want the request served", got)
	}
}

// TestDropNextLosesTheConnection protects fault fidelity: a dropped connection reaches the
// client as a transport error, not as a status, and is recorded with status 0.
func TestDropNextLosesTheConnection(t *testing.T) {
	t.Parallel()
	f := &Faults{}
	rec := &Recorder{}
	next := &reached{}
	srv := httptest.NewServer(rec.Wrap(f.Wrap(next, nil)))
	t.Cleanup(srv.Close)
	// Fresh connections only: a client retries a request that failed on a reused connection.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	f.DropNext(1)
	if resp, err := client.Get(srv.URL + "/x"); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d, want a transport error", resp.StatusCode)
	}
	resp, err := client.Get(srv.URL + "/x")
	if err != nil {
		t.Fatalf("request after the drop: %v", err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := rec.WaitFor(ctx, func(c []Call) bool { return len(c) == 2 }); err != nil {
		t.Fatal(err)
	}
	if calls := rec.Calls(); calls[0].Status != 0 || calls[1].Status != 200 || next.n.Load() != 1 {
		t.Errorf("recorded %+v, want the drop as status 0 then a 200", calls)
	}
}

// TestBudgetWindows protects the simulators' rate limits: a fixed budget per clock minute,
// with the remaining count and the reset a vendor reports.
func TestBudgetWindows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 40, 0, time.UTC)
	b := NewBudget(3)
	b.SetClock(func() time.Time { return now })
	windowEnd := time.Date(2026, 3, 2, 9, 1, 0, 0, time.UTC)
	for i, want := range []int{2, 1, 0} {
		limit, remaining, reset, ok := b.Take()
		if !ok || limit != 3 || remaining != want || !reset.Equal(windowEnd) {
			t.Errorf("take %d = %d/%d/%v/%v, want 3/%d/%v/true", i+1, limit, remaining, reset, ok, want, windowEnd)
		}
	}
	if _, remaining, _, ok := b.Take(); ok || remaining != 0 {
		t.Errorf("fourth take in the window = %d remaining, ok %v; want refused", remaining, ok)
	}
	now = windowEnd.Add(5 * time.Second)
	if _, remaining, reset, ok := b.Take(); !ok || remaining != 2 || !reset.Equal(windowEnd.Add(time.Minute)) {
		t.Errorf("first take of the next window = %d, %v, %v; want a fresh budget", remaining, reset, ok)
	}
	b.SetPerMinute(0)
	for range 10 {
		if _, _, _, ok := b.Take(); !ok {
			t.Fatal("an unlimited budget refused a request")
		}
	}
}

func TestPageCursors(t *testing.T) {
	t.Parallel()
	items := []string{"a", "b", "c", "d", "e"}
	cases := []struct {
		cursor string
		limit  int
		want   string
		next   string
	}{
		{"", 2, "ab", "2"},
		{"2", 2, "cd", "4"},
		{"4", 2, "e", ""},
		{"5", 2, "", ""},
		{"", 0, "abcde", ""},
		{"", 5, "abcde", ""},
		{"3", 10, "de", ""},
		{"garbage", 2, "ab", "2"},
		{"-1", 2, "ab", "2"},
		{"99", 2, "ab", "2"},
	}
	for _, tc := range cases {
		page, next := Page(items, tc.cursor, tc.limit)
		if got := strings.Join(page, ""); got != tc.want || next != tc.next {
			t.Errorf("Page(%q, %d) = %q, %q; want %q, %q", tc.cursor, tc.limit, got, next, tc.want, tc.next)
		}
	}
	all := ""
	for cursor := ""; ; {
		page, next := Page(items, cursor, 2)
		all += strings.Join(page, "")
		if next == "" {
			break
		}
		cursor = next
	}
	if all != "abcde" {
		t.Errorf("walking every page gave %q, want each item once", all)
	}
}

func TestRecorderCountsAndWaits(t *testing.T) {
	t.Parallel()
	rec := &Recorder{}
	h := rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			w.WriteHeader(http.StatusInternalServerError) // ignored by net/http, and by the log
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	serve(h, "GET", "/api/v1/users/00u1/groups?limit=2")
	serve(h, "DELETE", "/api/v1/groups/00g1/users/00u1")
	serve(h, "DELETE", "/api/v1/groups/00g2/users/00u1")
	if n := rec.Count(http.MethodDelete, "/api/v1/groups/", "/users/00u1"); n != 2 {
		t.Errorf("Count(DELETE, groups, user) = %d, want 2", n)
	}
	if n := rec.Count("", "/api/v1/users/", ""); n != 1 {
		t.Errorf("Count(any, users) = %d, want 1", n)
	}
	calls := rec.Calls()
	if calls[0].Query != "limit=2" || calls[0].Status != 200 || calls[1].Status != 204 {
		t.Errorf("recorded %+v, want the query and the statuses the client saw", calls)
	}

	done := make(chan error, 1)
	go func() {
		done <- rec.WaitFor(t.Context(), func(c []Call) bool { return len(c) == 4 })
	}()
	serve(h, "GET", "/late")
	if err := <-done; err != nil {
		t.Errorf("WaitFor = %v, want it to see the fourth call", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := rec.WaitFor(ctx, func([]Call) bool { return false }); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitFor with an ended context = %v, want context.Canceled", err)
	}
	rec.mu.Lock()
	waiters := len(rec.notify)
	rec.mu.Unlock()
	if waiters != 0 {
		t.Errorf("%d waiters still registered after WaitFor returned", waiters)
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusCreated, map[string]string{"id": "x"})
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got["id"] != "x" || w.Code != 201 || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("WriteJSON = %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	w = httptest.NewRecorder()
	WriteJSON(w, http.StatusNoContent, nil)
	if w.Code != 204 || w.Body.Len() != 0 {
		t.Errorf("WriteJSON(nil) = %d %q, want an empty body", w.Code, w.Body.String())
	}
}

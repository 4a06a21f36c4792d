package connector

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestOktaRateHeaders(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_772_000_000, 0)
	h := http.Header{}
	h.Set("X-Rate-Limit-Limit", "600")
	h.Set("X-Rate-Limit-Remaining", "12")
	h.Set("X-Rate-Limit-Reset", "1772000042")
	got := OktaRateHeaders(h, now)
	want := RateLimit{Limit: 600, Remaining: 12, Reset: time.Unix(1_772_000_042, 0)}
	if got != want {
		t.Errorf("OktaRateHeaders = %+v, want %+v", got, want)
	}
	if got := OktaRateHeaders(http.Header{}, now); got.Limit != -1 || got.Remaining != -1 || !got.Reset.IsZero() || got.RetryAfter != 0 {
		t.Errorf("no headers = %+v, want unknowns (-1, -1, zero, 0)", got)
	}
}

func TestStandardRateHeaders(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name, reset string
		want        time.Time
	}{
		{"GitHub epoch seconds", strconv.FormatInt(now.Add(time.Minute).Unix(), 10), now.Add(time.Minute)},
		{"Jira ISO-8601", "2026-03-02T09:05:00Z", now.Add(5 * time.Minute)},
		{"Jira ISO-8601 without seconds", "2026-03-02T09:05Z", now.Add(5 * time.Minute)},
		{"garbage", "soon", time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			h.Set("x-ratelimit-limit", "5000")
			h.Set("x-ratelimit-remaining", "4999")
			h.Set("x-ratelimit-reset", tc.reset)
			h.Set("Retry-After", "3")
			got := StandardRateHeaders(h, now)
			if got.Limit != 5000 || got.Remaining != 4999 || !got.Reset.Equal(tc.want) || got.RetryAfter != 3*time.Second {
				t.Errorf("StandardRateHeaders = %+v, want 5000/4999/%v/3s", got, tc.want)
			}
		})
	}
}

func TestRetryAfterHeader(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		headers map[string]string
		want    time.Duration
	}{
		{"seconds", map[string]string{"Retry-After": "30"}, 30 * time.Second},
		{"fractional seconds", map[string]string{"Retry-After": "1.5"}, 1500 * time.Millisecond},
		{"HTTP date", map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second},
		{"HTTP date in the past", map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, 0},
		{"Docker Hub X-Retry-After unix time", map[string]string{"X-Retry-After": strconv.FormatInt(now.Add(12*time.Second).Unix(), 10)}, 12 * time.Second},
		{"Retry-After wins over X-Retry-After", map[string]string{"Retry-After": "2", "X-Retry-After": strconv.FormatInt(now.Add(time.Hour).Unix(), 10)}, 2 * time.Second},
		{"negative", map[string]string{"Retry-After": "-5"}, 0},
		{"too large to be a duration", map[string]string{"Retry-After": "1e300"}, 0},
		{"garbage", map[string]string{"Retry-After": "later"}, 0},
		{"absent", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			if got := RetryAfterHeader(h, now); got != tc.want {
				t.Errorf("RetryAfterHeader = %v, want %v", got, tc.want)
			}
		})
	}
}

func pace(p *Pacer) rate.Limit {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.limiter == nil {
		return rate.Inf
	}
	return p.limiter.Limit()
}

// TestPacerSpreadsALowBudget protects the budget: when little of it remains, requests are
// spaced evenly until the reset instead of running into a 429.
func TestPacerSpreadsALowBudget(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := NewPacer(4)
	p.SetClock(clk.Now, clk.Sleep)
	ctx := t.Context()
	acquire := func() {
		t.Helper()
		release, err := p.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		release()
	}

	p.Observe(RateLimit{Limit: 100, Remaining: 50, Reset: clk.Now().Add(time.Minute)}, clk.Now())
	acquire()
	acquire()
	if got := pace(p); got != rate.Inf || len(clk.Slept()) != 0 {
		t.Fatalf("comfortable budget: pace %v, waits %v; want no pacing", got, clk.Slept())
	}

	// 5 requests left for 10 s: one every 2 s.
	p.Observe(RateLimit{Limit: 100, Remaining: 5, Reset: clk.Now().Add(10 * time.Second)}, clk.Now())
	if got := pace(p); got != 0.5 {
		t.Fatalf("pace with 5 of 100 left for 10s = %v/s, want 0.5/s", got)
	}
	for range 4 {
		acquire()
	}
	slept := clk.Slept()
	if len(slept) != 3 {
		t.Fatalf("waits %v: want the burst of one to go at once and the next three to wait", slept)
	}
	for _, d := range slept {
		if !within(d, 1900*time.Millisecond, 2100*time.Millisecond) {
			t.Errorf("requests spaced by %v, want 2s", d)
		}
	}

	p.Observe(RateLimit{Limit: 100, Remaining: 90, Reset: clk.Now().Add(time.Minute)}, clk.Now())
	acquire()
	if got := pace(p); got != rate.Inf || len(clk.Slept()) != 3 {
		t.Errorf("after the budget recovered: pace %v, waits %v; want pacing off", got, clk.Slept())
	}
}

// TestPacerPacesAgainAfterARecovery protects pacing across budget swings: a low budget, a
// recovered one and a low one again, all observed at one instant, must end up paced.
func TestPacerPacesAgainAfterARecovery(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := NewPacer(1)
	p.SetClock(clk.Now, clk.Sleep)
	now := clk.Now()
	low := RateLimit{Limit: 100, Remaining: 1, Reset: now.Add(time.Second)}
	p.Observe(low, now)
	p.Observe(RateLimit{Limit: 100, Remaining: 100, Reset: now.Add(time.Second)}, now)
	p.Observe(low, now)
	for range 3 {
		release, err := p.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	if len(clk.Slept()) != 2 {
		t.Errorf("waits %v; want pacing at 1/s after the second and third request", clk.Slept())
	}
}

func TestPacerPausesWhenBudgetIsSpent(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := NewPacer(1)
	p.SetClock(clk.Now, clk.Sleep)
	p.Observe(RateLimit{Limit: 600, Remaining: 0, Reset: clk.Now().Add(40 * time.Second)}, clk.Now())
	release, err := p.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	release()
	if got := clk.Total(); got != 40*time.Second {
		t.Errorf("waited %v with the budget spent, want until the reset (40s)", got)
	}
}

func TestPacerHonoursContext(t *testing.T) {
	t.Parallel()
	p := NewPacer(1)
	release, err := p.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with every slot taken and a cancelled context = %v, want context.Canceled", err)
	}

	paused := NewPacer(1)
	paused.PauseUntil(time.Now().Add(time.Hour))
	if _, err := paused.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire during an hour's pause with a cancelled context = %v, want context.Canceled", err)
	}
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep with a cancelled context = %v", err)
	}
}

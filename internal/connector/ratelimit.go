package connector

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is what one response said about the caller's remaining request budget. Unknown
// numbers are -1 and an unknown time is zero.
type RateLimit struct {
	Limit      int
	Remaining  int
	Reset      time.Time
	RetryAfter time.Duration
}

// RateHeaders reads a vendor's rate-limit headers from a response.
type RateHeaders func(h http.Header, now time.Time) RateLimit

// OktaRateHeaders reads Okta's X-Rate-Limit-Limit, -Remaining and -Reset (UTC epoch seconds).
func OktaRateHeaders(h http.Header, now time.Time) RateLimit {
	return RateLimit{
		Limit:      headerInt(h, "X-Rate-Limit-Limit"),
		Remaining:  headerInt(h, "X-Rate-Limit-Remaining"),
		Reset:      headerEpoch(h, "X-Rate-Limit-Reset"),
		RetryAfter: RetryAfterHeader(h, now),
	}
}

// StandardRateHeaders reads the common X-RateLimit-Limit, -Remaining and -Reset (epoch seconds
// or an ISO-8601 time, as Jira sends) plus Retry-After.
func StandardRateHeaders(h http.Header, now time.Time) RateLimit {
	rl := RateLimit{
		Limit:      headerInt(h, "X-RateLimit-Limit"),
		Remaining:  headerInt(h, "X-RateLimit-Remaining"),
		Reset:      headerEpoch(h, "X-RateLimit-Reset"),
		RetryAfter: RetryAfterHeader(h, now),
	}
	if rl.Reset.IsZero() {
		if v := h.Get("X-RateLimit-Reset"); v != "" {
			for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z"} {
				if t, err := time.Parse(layout, v); err == nil {
					rl.Reset = t
					break
				}
			}
		}
	}
	return rl
}

// RetryAfterHeader parses Retry-After as seconds or an HTTP date, and the older X-Retry-After
// unix timestamp some vendors (Docker Hub) still send. It returns 0 when neither is present.
func RetryAfterHeader(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		// The upper bound keeps a nonsense value from overflowing time.Duration.
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < 1e9 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if t := headerEpoch(h, "X-Retry-After"); !t.IsZero() {
		return max(t.Sub(now), 0)
	}
	return 0
}

func headerInt(h http.Header, name string) int {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

func headerEpoch(h http.Header, name string) time.Time {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return time.Time{}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// Pacer spreads requests over a vendor's budget. While the budget is comfortable requests go
// out at once (up to a concurrency cap); when the remaining budget falls under a tenth of the
// limit, requests are paced evenly until the reset; when a 429 arrives, every request waits
// until the vendor said it may go again.
type Pacer struct {
	sem chan struct{}

	mu    sync.Mutex
	until time.Time
	// limiter paces requests while the budget is low and is nil while it is comfortable. It is
	// driven by the pacer's clock (ReserveN, SetLimitAt), never by its own wall-clock methods,
	// so tests can assert the spacing it asks for.
	limiter *rate.Limiter
	now     func() time.Time
	wait    func(context.Context, time.Duration) error
}

// NewPacer returns a Pacer allowing at most concurrent requests in flight at once.
func NewPacer(concurrent int) *Pacer {
	if concurrent <= 0 {
		concurrent = 16
	}
	return &Pacer{sem: make(chan struct{}, concurrent), now: time.Now, wait: sleep}
}

// SetClock replaces the pacer's clock and its way of waiting, so tests can drive pacing and
// rate-limit waits without real time passing. wait must return ctx.Err() when ctx ends first.
func (p *Pacer) SetClock(now func() time.Time, wait func(ctx context.Context, d time.Duration) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now, p.wait = now, wait
}

func (p *Pacer) clock() (func() time.Time, func(context.Context, time.Duration) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.clockLocked()
}

func (p *Pacer) clockLocked() (func() time.Time, func(context.Context, time.Duration) error) {
	now, wait := p.now, p.wait
	if now == nil {
		now = time.Now
	}
	if wait == nil {
		wait = sleep
	}
	return now, wait
}

// sleep waits d on the pacer's clock, or until ctx ends.
func (p *Pacer) sleep(ctx context.Context, d time.Duration) error {
	_, wait := p.clock()
	return wait(ctx, d)
}

// Acquire waits for a slot and for the budget; call the returned func when the request is done.
func (p *Pacer) Acquire(ctx context.Context) (func(), error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-p.sem }
	now, wait := p.clock()
	for {
		t := now()
		p.mu.Lock()
		pause := p.until.Sub(t)
		lim := p.limiter
		p.mu.Unlock()
		if pause > 0 {
			if err := wait(ctx, pause); err != nil {
				release()
				return nil, err
			}
			continue
		}
		if lim == nil {
			return release, nil
		}
		r := lim.ReserveN(t, 1)
		if d := r.DelayFrom(t); d > 0 {
			if err := wait(ctx, d); err != nil {
				r.CancelAt(now())
				release()
				return nil, err
			}
		}
		return release, nil
	}
}

// Observe adjusts the pace to what a response said about the budget. now is the time the
// response was read, on the same clock as rl.Reset.
func (p *Pacer) Observe(rl RateLimit, now time.Time) {
	if rl.Remaining == 0 && rl.Reset.After(now) {
		p.pauseFor(rl.Reset.Sub(now))
		return
	}
	if rl.Limit <= 0 || rl.Remaining < 0 || !rl.Reset.After(now) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rl.Remaining > rl.Limit/10 {
		p.limiter = nil
		return
	}
	r := rate.Limit(float64(rl.Remaining) / rl.Reset.Sub(now).Seconds())
	if p.limiter == nil {
		p.limiter = rate.NewLimiter(r, 1)
		return
	}
	clock, _ := p.clockLocked()
	p.limiter.SetLimitAt(clock(), r)
}

// PauseUntil holds every request until t, a time on the pacer's clock.
func (p *Pacer) PauseUntil(t time.Time) {
	p.mu.Lock()
	if t.After(p.until) {
		p.until = t
	}
	p.mu.Unlock()
}

// pauseFor holds every request for d from now on the pacer's clock. Waits computed from a
// response are relative, so a caller whose clock differs from the pacer's still waits as long
// as the vendor asked.
func (p *Pacer) pauseFor(d time.Duration) {
	now, _ := p.clock()
	p.PauseUntil(now().Add(d))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

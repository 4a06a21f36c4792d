package slack

import (
	"context"
	"fmt"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"golang.org/x/time/rate"
)

// Slack publishes its limits instead of signalling a budget in headers (it sends only 429 and
// Retry-After once a limit is hit), so the connector paces itself to them.
//
// Web API limits are tiers "per API method per workspace per app", in requests per minute
// (apis.md §5): each method gets a bucket holding one minute's allowance that refills evenly,
// so a small offboarding goes out at once and a bulk one settles at the tier's rate.
//
// SCIM limits apply to all SCIM apps of the org together (the IdP's provisioning included):
// writes to /Users 180 per minute with a burst of 20, GET /Users/<id> 300 per minute. The
// buckets below use those numbers; anything the IdP spends at the same time is answered by
// Slack with 429, which connector.Client waits out.
type pacer struct {
	methods   map[string]*rate.Limiter
	fallback  *rate.Limiter
	scimRead  *rate.Limiter
	scimWrite *rate.Limiter
}

// Tier limits in requests per minute (docs.slack.dev/apis/web-api/rate-limits).
const (
	tier2 = 20
	tier3 = 50
	tier4 = 100
)

// methodTiers are the documented tiers of the methods called. auth.test is "special" and
// generous; Tier 4 is used for it.
var methodTiers = map[string]int{
	"auth.test":                tier4,
	"users.info":               tier4,
	"users.lookupByEmail":      tier3,
	"admin.users.session.list": tier2,
	// admin.users.session.reset is Tier 2 (apis.md §5).
	"admin.users.session.reset": tier2,
}

func perMinute(n, burst int) *rate.Limiter {
	return rate.NewLimiter(rate.Every(time.Minute/time.Duration(n)), burst)
}

func newPacer() *pacer {
	p := &pacer{
		methods:   map[string]*rate.Limiter{},
		fallback:  perMinute(tier2, tier2),
		scimRead:  perMinute(300, 50),
		scimWrite: perMinute(180, 20),
	}
	for m, n := range methodTiers {
		p.methods[m] = perMinute(n, n)
	}
	return p
}

// web waits for the method's bucket.
func (p *pacer) web(ctx context.Context, method string) error {
	l := p.methods[method]
	if l == nil {
		l = p.fallback
	}
	return wait(ctx, l, method)
}

// scim waits for the SCIM read or write bucket; it is the scim.API's Pace hook.
func (p *pacer) scim(ctx context.Context, write bool) error {
	if write {
		return wait(ctx, p.scimWrite, "SCIM writes")
	}
	return wait(ctx, p.scimRead, "SCIM reads")
}

// wait takes a token from l, waiting for it. A wait longer than ctx allows (a queue of
// leavers during a layoff) is handed back to the engine as a retry at that time, since a
// rate limit is a budget to wait for, never a failure.
func wait(ctx context.Context, l *rate.Limiter, what string) error {
	r := l.Reserve()
	if !r.OK() {
		return fmt.Errorf("slack: %s: the rate limiter refused a request", what)
	}
	d := r.Delay()
	if d == 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		r.Cancel()
		return connector.RetryAfter(d, fmt.Errorf("slack: %s: Slack's rate limit for it is used up for the next %s", what, d.Round(time.Second)))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}

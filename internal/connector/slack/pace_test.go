package slack

import (
	"context"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// TestUsedUpBudgetIsARetryNotAFailure protects bulk offboarding: when a method's per-minute
// budget is used up for longer than the step may wait, the step is handed back to the engine
// with the wait, instead of failing an attempt.
func TestUsedUpBudgetIsARetryNotAFailure(t *testing.T) {
	t.Parallel()
	l := perMinute(2, 1)
	if err := wait(t.Context(), l, "admin.users.session.reset"); err != nil {
		t.Fatalf("first request: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := wait(ctx, l, "admin.users.session.reset")
	d, ok := connector.RetryDelay(err)
	if !ok || d < 20*time.Second || connector.IsPermanent(err) {
		t.Fatalf("err %v (delay %v, %v), want a retry after about 30 s", err, d, ok)
	}
	// The reservation was given back: a caller with time to wait is not pushed further out.
	if got := l.Reserve().Delay(); got > 31*time.Second {
		t.Errorf("the handed-back reservation still holds the bucket: next delay %v", got)
	}
}

package connectortest

import (
	"context"
	"sync"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
)

// ApplyInOrder applies and verifies actions as the engine does: an action starts once every
// action of each kind in its After is verified, and the actions ready together run
// concurrently. It fails the test on an error, an unverified read-back, or actions that wait
// on each other. Connector tests use it to offboard a seeded person end to end.
func ApplyInOrder(ctx context.Context, t testing.TB, c connector.Connector, actions []connector.Action) {
	t.Helper()
	left := append([]connector.Action(nil), actions...)
	for len(left) > 0 {
		var wave, rest []connector.Action
		for _, a := range left {
			if waitsOnAny(a, left) {
				rest = append(rest, a)
			} else {
				wave = append(wave, a)
			}
		}
		if len(wave) == 0 {
			t.Fatalf("actions wait on each other: %v", rest)
		}
		problems := make([]string, len(wave))
		var wg sync.WaitGroup
		for i, a := range wave {
			wg.Go(func() {
				if err := c.Apply(ctx, a); err != nil {
					problems[i] = "apply: " + err.Error()
					return
				}
				ev, err := c.Verify(ctx, a)
				switch {
				case err != nil:
					problems[i] = "verify: " + err.Error()
				case !ev.Verified:
					problems[i] = "not verified after apply: " + ev.Observed
				}
			})
		}
		wg.Wait()
		for i, p := range problems {
			if p != "" {
				t.Fatalf("%s %s", wave[i].Key(), p)
			}
		}
		left = rest
	}
}

// waitsOnAny reports whether a must follow some kind still among left.
func waitsOnAny(a connector.Action, left []connector.Action) bool {
	for _, k := range a.After {
		for _, o := range left {
			if o.Kind == k {
				return true
			}
		}
	}
	return false
}

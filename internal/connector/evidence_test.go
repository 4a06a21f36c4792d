package connector

import (
	"strings"
	"testing"
	"time"
)

// TestObserveKeepsTheVerdictWhenTheReadCannotBeStored protects evidence: a read that will not
// encode as JSON loses its raw form, never its verdict or summary.
func TestObserveKeepsTheVerdictWhenTheReadCannotBeStored(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.FixedZone("x", 3600))
	ev := Observe(true, "gone", map[string]any{"ch": make(chan int)}, at)
	if !ev.Verified || ev.Observed != "gone" || ev.Read != nil || !ev.CheckedAt.Equal(at) || ev.CheckedAt.Location() != time.UTC {
		t.Errorf("Observe = %+v", ev)
	}
	ev = Observe(false, "still there", map[string]string{"id": "g1"}, at)
	if ev.Verified || string(ev.Read) != `{"id":"g1"}` {
		t.Errorf("Observe = %+v", ev)
	}
	gone := UserGone("Okta", "00u1", "jane@acme.com", "groups", at)
	if !gone.Verified || !strings.Contains(gone.Observed, "no longer exists in Okta") || !strings.Contains(string(gone.Read), `"exists":false`) {
		t.Errorf("UserGone = %+v", gone)
	}
}

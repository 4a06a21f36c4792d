package workflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRiverCancellationIsNotAnErrorWhileStopping keeps an orderly stop from leaving ERROR
// lines in the log, while the same complaint before a stop, and any other error, stays an
// error.
func TestRiverCancellationIsNotAnErrorWhileStopping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		stopping bool
		args     []any
		want     string
	}{
		{"cancelled text while stopping", true, []any{"error", "context canceled"}, ""},
		{"cancelled error while stopping", true, []any{"error", fmt.Errorf("tx: %w", context.Canceled)}, ""},
		{"cancelled before any stop", false, []any{"error", "context canceled"}, "level=ERROR"},
		{"another error while stopping", true, []any{"error", errors.New("disk full")}, "level=ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			var stopping atomic.Bool
			stopping.Store(tc.stopping)
			log := slog.New(riverLog{slog.NewTextHandler(&buf, nil), &stopping}).With("component", "river")
			log.Error("maintenance: Error starting transaction", tc.args...)
			if got := buf.String(); (tc.want == "" && got != "") || !strings.Contains(got, tc.want) {
				t.Errorf("logged %q, want %q", got, tc.want)
			}
		})
	}
}

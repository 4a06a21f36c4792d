package jira

import (
	"context"
	"time"
)

// SetClock drives the tracker's pacing and rate-limit waits from a test's clock, so tests can
// check that Retry-After is honoured without real time passing.
func (t *Tracker) SetClock(now func() time.Time, wait func(context.Context, time.Duration) error) {
	t.c.Now = now
	t.c.Pacer.SetClock(now, wait)
}

package workday

import (
	"context"
	"errors"
	"fmt"

	"github.com/offboard-dev/offboard/internal/hr"
)

// SyncResult counts what one poll did.
type SyncResult struct {
	// Rows is how many rows the report had; Events how many of them became events.
	Rows, Events int
	// Opened, Scheduled, Duplicates, Cancelled and Ignored count the intake's outcomes.
	Opened, Scheduled, Duplicates, Cancelled, Ignored int
	// Errors holds one error per row that was bad or that the intake refused, in report order.
	Errors []error
}

// Sync reads the report and hands every event to intake, in report order. Polling the same
// report again opens nothing new: the intake recognises each event ID it has stored. A bad row,
// or one the intake refuses (an event ID reused with different content, say, because HR
// corrected a field after the first poll), is collected in the result and does not stop the
// others; the returned error then joins them all. A report that cannot be read at all returns
// that error and an empty result. Sync stops early only when ctx ends.
func (p *Poller) Sync(ctx context.Context, intake hr.Intake) (SyncResult, error) {
	events, bad, err := p.fetch(ctx)
	if err != nil {
		return SyncResult{}, err
	}
	res := SyncResult{Rows: len(events) + len(bad), Events: len(events), Errors: bad}
	for _, ev := range events {
		if err := ctx.Err(); err != nil {
			res.Errors = append(res.Errors, err)
			break
		}
		receipt, err := intake.Receive(ctx, ev)
		if err != nil {
			res.Errors = append(res.Errors, fmt.Errorf("workday: receive %s: %w", ev.ID, err))
			continue
		}
		switch receipt.Outcome {
		case hr.Opened:
			res.Opened++
		case hr.Scheduled:
			res.Scheduled++
		case hr.Duplicate:
			res.Duplicates++
		case hr.Cancelled:
			res.Cancelled++
		case hr.Ignored:
			res.Ignored++
		}
	}
	return res, errors.Join(res.Errors...)
}

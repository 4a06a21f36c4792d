package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/store"
)

// An event ID seen before is not stored again, and the caller gets the stored record back,
// whether the repeat comes in the same transaction or a later one.
func testEventInsertAndDuplicate(t *testing.T, s store.Store) {
	e := sampleEvent("e1")
	received := time.Date(2026, 11, 22, 8, 0, 0, 999999999, zone)
	want := store.EventRecord{Event: e, Digest: e.Digest(), ReceivedAt: norm(received)}

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		inserted, _, err := tx.InsertEvent(ctx, e, received)
		if err != nil {
			return err
		}
		if !inserted {
			t.Fatal("first InsertEvent reported a duplicate")
		}
		inserted, existing, err := tx.InsertEvent(ctx, e, received.Add(time.Hour))
		if err != nil {
			return err
		}
		if inserted {
			t.Fatal("second InsertEvent in the same transaction inserted again")
		}
		requireEqual(t, "existing event (same transaction)", existing, want)
		return nil
	})

	changed := e
	changed.Reason = "a different body under the same ID"
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		inserted, existing, err := tx.InsertEvent(ctx, changed, time.Now())
		if err != nil {
			return err
		}
		if inserted {
			t.Fatal("InsertEvent stored an event ID that was already stored")
		}
		requireEqual(t, "existing event (later transaction)", existing, want)
		if existing.Digest == changed.Digest() {
			t.Fatal("stored digest matches the changed body; a conflicting reuse of the ID could not be told apart")
		}
		events, err := tx.ListEvents(ctx, 0)
		if err != nil {
			return err
		}
		if len(events) != 1 {
			t.Fatalf("ListEvents returned %d events, want 1", len(events))
		}
		return nil
	})
}

// Outcomes are recorded on the event and show on its duplicates; ListEvents is newest first
// and honours its limit.
func testEventOutcomeAndList(t *testing.T, s store.Store) {
	base := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i, id := range []string{"a", "b", "c"} {
			if _, _, err := tx.InsertEvent(ctx, sampleEvent(id), base.Add(time.Duration(i)*time.Minute)); err != nil {
				return err
			}
		}
		if err := tx.SetEventOutcome(ctx, "b", 17, hr.Opened); err != nil {
			return err
		}
		err := tx.SetEventOutcome(ctx, "missing", 1, hr.Ignored)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetEventOutcome of an unknown event: got %v, want ErrNotFound", err)
		}
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, existing, err := tx.InsertEvent(ctx, sampleEvent("b"), time.Now())
		if err != nil {
			return err
		}
		if existing.CaseID != 17 || existing.Outcome != hr.Opened {
			t.Errorf("duplicate of b: case %d outcome %q, want 17 %q", existing.CaseID, existing.Outcome, hr.Opened)
		}
		all, err := tx.ListEvents(ctx, 0)
		if err != nil {
			return err
		}
		var ids []string
		for _, r := range all {
			ids = append(ids, r.Event.ID)
		}
		requireEqual(t, "ListEvents order", ids, []string{"c", "b", "a"})
		requireEqual(t, "listed event b", all[1], store.EventRecord{
			Event: sampleEvent("b"), Digest: sampleEvent("b").Digest(), ReceivedAt: base.Add(time.Minute),
			CaseID: 17, Outcome: hr.Opened,
		})
		two, err := tx.ListEvents(ctx, 2)
		if err != nil {
			return err
		}
		if len(two) != 2 || two[0].Event.ID != "c" || two[1].Event.ID != "b" {
			t.Errorf("ListEvents(2) returned %d events, want the newest two (c, b)", len(two))
		}
		return nil
	})
}

package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/store"
)

// The outbox keeps updates in queue order per case with their payload byte for byte, counts
// attempts, keeps the last error, and drops an update from the queue once it is done
// (including done because it failed for good).
func testTicketOutbox(t *testing.T, s store.Store) {
	var a, b int64
	var u1, u2, u3, u4 store.TicketUpdate
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ca := sampleCase("WA", "a@example.com", store.CaseRunning)
		cb := sampleCase("WB", "b@example.com", store.CaseRunning)
		for _, c := range []*store.Case{&cb, &ca} { // b gets the lower ID
			if err := tx.CreateCase(ctx, c); err != nil {
				return err
			}
		}
		a, b = ca.ID, cb.ID
		u1 = store.TicketUpdate{CaseID: a, Kind: "create", Payload: json.RawMessage(`{"summary": "Offboard Jo",  "lines": ["x", "y"]}`)}
		u2 = store.TicketUpdate{CaseID: b, Kind: "create", Payload: json.RawMessage(`{}`)}
		u3 = store.TicketUpdate{CaseID: a, Kind: "comment", Payload: json.RawMessage(`"okta done"`)}
		u4 = store.TicketUpdate{CaseID: a, Kind: "transition"}
		for _, u := range []*store.TicketUpdate{&u1, &u2, &u3, &u4} {
			if err := tx.AddTicketUpdate(ctx, u); err != nil {
				return err
			}
			if u.ID == 0 || u.CreatedAt.IsZero() {
				t.Fatalf("AddTicketUpdate left ID %d CreatedAt %v", u.ID, u.CreatedAt)
			}
		}
		return nil
	})

	pending := func(caseID int64) []store.TicketUpdate {
		t.Helper()
		var out []store.TicketUpdate
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			out, err = tx.PendingTicketUpdates(ctx, caseID)
			return err
		})
		return out
	}
	withPending := func() string {
		t.Helper()
		var ids []int64
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			ids, err = tx.CasesWithPendingTicketUpdates(ctx)
			return err
		})
		return fmt.Sprint(ids)
	}
	finish := func(id int64, done bool, msg string) {
		t.Helper()
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.FinishTicketUpdate(ctx, id, done, msg) })
	}

	requireEqual(t, "pending updates of case a", pending(a), []store.TicketUpdate{u1, u3, u4})
	if got, want := withPending(), fmt.Sprint([]int64{b, a}); got != want {
		t.Fatalf("cases with pending updates: %s, want %s", got, want)
	}

	finish(u1.ID, false, "jira: 503")
	got := pending(a)
	if len(got) != 3 || got[0].ID != u1.ID || got[0].Attempts != 1 || got[0].LastError != "jira: 503" || got[0].DoneAt != nil {
		t.Fatalf("after a failed attempt, pending(a)[0] = %+v; want u1 still first with 1 attempt and its error", got[0])
	}
	finish(u1.ID, true, "")
	finish(u2.ID, true, "jira: 400 field summary is required")
	requireEqual(t, "pending updates of case a after u1 was delivered", pending(a), []store.TicketUpdate{u3, u4})
	if got := pending(b); len(got) != 0 {
		t.Fatalf("an update finished as done (failed for good) is still pending: %+v", got)
	}
	if got, want := withPending(), fmt.Sprint([]int64{a}); got != want {
		t.Fatalf("cases with pending updates: %s, want %s", got, want)
	}

	err := s.InTx(context.Background(), func(tx store.Tx) error {
		return tx.FinishTicketUpdate(context.Background(), 404, true, "")
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FinishTicketUpdate of a missing ID: got %v, want ErrNotFound", err)
	}
}

// testTicketLease: one holder at a time per case; the holder renews; another holder gets the
// lease once it has expired or been released; leases of different cases are independent.
func testTicketLease(t *testing.T, s store.Store) {
	var a, b int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ca := sampleCase("WL1", "l1@example.com", store.CaseRunning)
		cb := sampleCase("WL2", "l2@example.com", store.CaseRunning)
		for _, c := range []*store.Case{&ca, &cb} {
			if err := tx.CreateCase(ctx, c); err != nil {
				return err
			}
		}
		a, b = ca.ID, cb.ID
		return nil
	})
	lease := func(caseID int64, holder string, expires time.Time) bool {
		var got bool
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			got, err = tx.LeaseTicket(ctx, caseID, holder, expires)
			return err
		})
		return got
	}
	later := time.Now().Add(time.Minute)
	steps := []struct {
		what   string
		caseID int64
		holder string
		until  time.Time
		want   bool
	}{
		{"first holder takes a free lease", a, "one", later, true},
		{"a second holder is refused while it runs", a, "two", later, false},
		{"the holder renews its own lease", a, "one", later.Add(time.Minute), true},
		{"another case's lease is independent", b, "two", later, true},
		{"a second holder is refused on that case too", b, "three", later, false},
	}
	for _, st := range steps {
		if got := lease(st.caseID, st.holder, st.until); got != st.want {
			t.Fatalf("%s: got %v, want %v", st.what, got, st.want)
		}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		// Expire b's lease by having its holder set it in the past, then hand it over.
		if ok, err := tx.LeaseTicket(ctx, b, "two", time.Now().Add(-time.Second)); err != nil || !ok {
			t.Fatalf("renew into the past: %v %v", ok, err)
		}
		return nil
	})
	if !lease(b, "three", later) {
		t.Fatal("an expired lease was not handed over")
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.ReleaseTicket(ctx, a, "someone-else"); err != nil {
			return err
		}
		return nil
	})
	if lease(a, "two", later) {
		t.Fatal("a release by a non-holder freed the lease")
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.ReleaseTicket(ctx, a, "one") })
	if !lease(a, "two", later) {
		t.Fatal("a released lease was not free")
	}
}

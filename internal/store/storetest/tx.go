package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/audit"
	"github.com/offboard-dev/offboard/internal/store"
)

// lockWindow is how long the first transaction keeps its lock while watching for a second
// transaction that wrongly gets past LockCase. A correct store never lets it through, however
// long the window, so this cannot fail a correct store; it only bounds how hard a broken one
// is looked for. (The postgres package also proves the wait itself, from pg_stat_activity.)
const lockWindow = 150 * time.Millisecond

// A second transaction's LockCase waits until the first transaction holding the lock ends,
// and then sees what the first one wrote.
func testLockCaseSerialises(t *testing.T, s store.Store) {
	c := sampleCase("W1", "lock@example.com", store.CaseRunning)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateCase(ctx, &c) })

	locked := make(chan struct{})
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseFirst := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(releaseFirst) // never leave the first transaction hanging on a failed test
	firstDone := make(chan error, 1)
	secondSaw := make(chan string, 1)
	secondDone := make(chan error, 1)

	go func() {
		firstDone <- s.InTx(context.Background(), func(tx store.Tx) error {
			ctx := context.Background()
			if err := tx.LockCase(ctx, c.ID); err != nil {
				return err
			}
			cur, err := tx.GetCase(ctx, c.ID)
			if err != nil {
				return err
			}
			cur.Reason = "written by the first"
			if err := tx.UpdateCase(ctx, &cur); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	select {
	case <-locked:
	case err := <-firstDone:
		t.Fatalf("first transaction: %v", err)
	}
	go func() {
		secondDone <- s.InTx(context.Background(), func(tx store.Tx) error {
			ctx := context.Background()
			if err := tx.LockCase(ctx, c.ID); err != nil {
				return err
			}
			cur, err := tx.GetCase(ctx, c.ID)
			if err != nil {
				return err
			}
			secondSaw <- cur.Reason
			return nil
		})
	}()
	select {
	case reason := <-secondSaw:
		t.Errorf("second transaction got past LockCase while the first held the lock (it saw reason %q)", reason)
	case err := <-secondDone:
		t.Errorf("second transaction ended while the first held the lock: %v", err)
	case <-time.After(lockWindow):
	}
	releaseFirst()
	if err := <-firstDone; err != nil {
		t.Fatalf("first transaction: %v", err)
	}
	if err := <-secondDone; err != nil {
		t.Fatalf("second transaction: %v", err)
	}
	select {
	case reason := <-secondSaw:
		if reason != "written by the first" {
			t.Errorf("after the lock, the second transaction saw reason %q, want the first one's write", reason)
		}
	default:
		// Reported above: it got through early and its read was consumed there.
	}
}

var errAbort = errors.New("abort on purpose")

// writeEverything writes one row of every kind, so that a rollback test can check none stays.
func writeEverything(ctx context.Context, t *testing.T, tx store.Tx) (caseID, stepID int64) {
	t.Helper()
	if _, _, err := tx.InsertEvent(ctx, sampleEvent("rolled-back"), time.Now()); err != nil {
		t.Fatalf("InsertEvent: %v", err)
	}
	c := sampleCase("W1", "rb@example.com", store.CaseRunning)
	if err := tx.CreateCase(ctx, &c); err != nil {
		t.Fatalf("CreateCase: %v", err)
	}
	st := sampleStep(c.ID, 1, "suspend")
	if err := tx.InsertSteps(ctx, []*store.Step{st}); err != nil {
		t.Fatalf("InsertSteps: %v", err)
	}
	if err := tx.AppendAudit(ctx, &audit.Record{At: time.Now(), Actor: "test", CaseID: c.ID, Kind: "k", Message: "m"}); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	if err := tx.AddTicketUpdate(ctx, &store.TicketUpdate{CaseID: c.ID, Kind: "create", Payload: json.RawMessage(`{}`)}); err != nil {
		t.Fatalf("AddTicketUpdate: %v", err)
	}
	return c.ID, st.ID
}

// requireEmpty fails if anything was left behind, then checks the store still works and the
// audit chain continues from where it was.
func requireEmpty(t *testing.T, s store.Store, caseID, stepID int64) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if events, err := tx.ListEvents(ctx, 0); err != nil || len(events) != 0 {
			t.Errorf("after rollback: %d events (err %v)", len(events), err)
		}
		if cases, err := tx.ListCases(ctx, store.CaseFilter{}); err != nil || len(cases) != 0 {
			t.Errorf("after rollback: %d cases (err %v)", len(cases), err)
		}
		if _, err := tx.GetCase(ctx, caseID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after rollback: GetCase(%d) = %v, want ErrNotFound", caseID, err)
		}
		if _, err := tx.GetStep(ctx, stepID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after rollback: GetStep(%d) = %v, want ErrNotFound", stepID, err)
		}
		if ids, err := tx.CasesWithPendingTicketUpdates(ctx); err != nil || len(ids) != 0 {
			t.Errorf("after rollback: cases with ticket updates %v (err %v)", ids, err)
		}
		return nil
	})
	recs, seq, hash := readChain(t, s)
	if len(recs) != 0 || seq != 0 || hash != "" {
		t.Errorf("after rollback: %d audit records, head (%d, %q)", len(recs), seq, hash)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		r := &audit.Record{At: time.Now(), Actor: "test", Kind: "after", Message: "m"}
		if err := tx.AppendAudit(ctx, r); err != nil {
			return err
		}
		if r.Seq != 1 || r.PrevHash != "" {
			t.Errorf("first append after a rollback has Seq %d PrevHash %q, want 1 and \"\"", r.Seq, r.PrevHash)
		}
		return nil
	})
}

// A transaction whose function fails leaves nothing behind, and InTx returns that error.
func testRollbackOnError(t *testing.T, s store.Store) {
	var caseID, stepID int64
	err := s.InTx(context.Background(), func(tx store.Tx) error {
		caseID, stepID = writeEverything(context.Background(), t, tx)
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("InTx returned %v, want the function's error", err)
	}
	requireEmpty(t, s, caseID, stepID)
}

// A transaction whose function panics is rolled back and its connection released before the
// panic goes on.
func testRollbackOnPanic(t *testing.T, s store.Store) {
	var caseID, stepID int64
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("recovered %v, want the function's panic", p)
			}
		}()
		_ = s.InTx(context.Background(), func(tx store.Tx) error {
			caseID, stepID = writeEverything(context.Background(), t, tx)
			panic("boom")
		})
	}()
	requireEmpty(t, s, caseID, stepID)
}

// Raw exposes the driver's own transaction for the job engine, and Driver names the database.
// The driver packages check Raw's type and that writes through it share the transaction.
func testRawAndDriver(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if tx.Raw() == nil {
			t.Error("Raw returned nil")
		}
		return nil
	})
	if d := s.Driver(); d != "sqlite" && d != "postgres" {
		t.Errorf("Driver() = %q, want sqlite or postgres", d)
	}
}

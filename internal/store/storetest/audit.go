package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/audit"
	"github.com/offboard-dev/offboard/internal/store"
)

// checkChain fails unless recs are Seq 1..n, each linked to the previous one's hash, each
// carrying the hash of its content as read back, and head names the last.
func checkChain(t *testing.T, recs []audit.Record, headSeq int64, headHash string) {
	t.Helper()
	prev := ""
	for i, r := range recs {
		if r.Seq != int64(i+1) {
			t.Fatalf("record %d has Seq %d, want %d", i, r.Seq, i+1)
		}
		if r.PrevHash != prev {
			t.Fatalf("record %d: PrevHash %q does not link to the previous hash %q", r.Seq, r.PrevHash, prev)
		}
		if h := audit.Hash(r); h != r.Hash {
			t.Fatalf("record %d as read back hashes to %s, but %s was stored: the round trip changed it", r.Seq, h, r.Hash)
		}
		prev = r.Hash
	}
	if headSeq != int64(len(recs)) || headHash != prev {
		t.Fatalf("audit head is (%d, %s), want (%d, %s)", headSeq, headHash, len(recs), prev)
	}
}

func readChain(t *testing.T, s store.Store) (recs []audit.Record, headSeq int64, headHash string) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		if recs, err = tx.ListAudit(ctx, 0, 0); err != nil {
			return err
		}
		headSeq, headHash, err = tx.AuditHead(ctx)
		return err
	})
	return recs, headSeq, headHash
}

// Appends are sealed in order and linked, and a record reads back byte for byte and to the
// microsecond, so its stored hash still matches its content.
func testAuditChain(t *testing.T, s store.Store) {
	seq, hash := int64(-1), "x"
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		seq, hash, err = tx.AuditHead(ctx)
		return err
	})
	if seq != 0 || hash != "" {
		t.Fatalf("empty store has audit head (%d, %q), want (0, \"\")", seq, hash)
	}

	at := time.Date(2026, 11, 30, 9, 0, 0, 123456789, zone)
	written := []audit.Record{
		{At: at, Actor: "workday", Kind: "event_received", Message: "termination e1", Data: json.RawMessage(`{"b": 2,  "a": [1, 2, 3], "s": "x\u00e9"}`)},
		{At: at.Add(time.Nanosecond), Actor: "engine", CaseID: 7, Kind: "step_verified", Message: "Removed from group"},
		{At: at.Add(time.Second), Actor: "cli:alice", CaseID: 7, Kind: "step_skipped", Message: "skipped: \"manual\"", Data: json.RawMessage(`[]`)},
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range written[:2] {
			if err := tx.AppendAudit(ctx, &written[i]); err != nil {
				return err
			}
		}
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.AppendAudit(ctx, &written[2])
	})
	for i, r := range written {
		if r.Seq != int64(i+1) || r.Hash == "" || !r.At.Equal(norm(at.Add([]time.Duration{0, time.Nanosecond, time.Second}[i]))) {
			t.Fatalf("AppendAudit left record %d with Seq %d, Hash %q, At %v", i, r.Seq, r.Hash, r.At)
		}
	}

	recs, headSeq, headHash := readChain(t, s)
	checkChain(t, recs, headSeq, headHash)
	requireEqual(t, "audit records", recs, written)

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		page, err := tx.ListAudit(ctx, 1, 1)
		if err != nil {
			return err
		}
		if len(page) != 1 || page[0].Seq != 2 {
			t.Errorf("ListAudit(after 1, limit 1) returned %d records, want just Seq 2", len(page))
		}
		rest, err := tx.ListAudit(ctx, 3, 0)
		if err != nil {
			return err
		}
		if len(rest) != 0 {
			t.Errorf("ListAudit after the head returned %d records", len(rest))
		}
		return nil
	})
}

// Data that is not JSON would make the record unreadable as evidence; it is refused and the
// chain is untouched.
func testAuditRejectsInvalidData(t *testing.T, s store.Store) {
	err := s.InTx(context.Background(), func(tx store.Tx) error {
		return tx.AppendAudit(context.Background(), &audit.Record{At: time.Now(), Actor: "x", Kind: "k", Data: json.RawMessage(`{"a":`)})
	})
	if err == nil {
		t.Fatal("AppendAudit accepted data that is not JSON")
	}
	recs, seq, hash := readChain(t, s)
	if len(recs) != 0 || seq != 0 || hash != "" {
		t.Fatalf("a refused append left %d records and head (%d, %q)", len(recs), seq, hash)
	}
}

// Appends from many transactions at once (as from several replicas) form one unbroken chain,
// and the records of one transaction stay together.
func testAuditConcurrentAppends(t *testing.T, s store.Store) {
	const workers, txPerWorker, perTx = 8, 3, 2
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range txPerWorker {
				actor := fmt.Sprintf("worker-%d-tx-%d", w, n)
				err := s.InTx(context.Background(), func(tx store.Tx) error {
					for i := range perTx {
						r := &audit.Record{At: time.Now(), Actor: actor, Kind: "test", Message: fmt.Sprint(i), Data: json.RawMessage(`{"i":` + fmt.Sprint(i) + `}`)}
						if err := tx.AppendAudit(context.Background(), r); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Errorf("%s: %v", actor, err)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	recs, headSeq, headHash := readChain(t, s)
	if len(recs) != workers*txPerWorker*perTx {
		t.Fatalf("%d records stored, want %d", len(recs), workers*txPerWorker*perTx)
	}
	checkChain(t, recs, headSeq, headHash)
	for i := 0; i < len(recs); i += perTx {
		for j := 1; j < perTx; j++ {
			if recs[i+j].Actor != recs[i].Actor {
				t.Fatalf("records %d and %d come from different transactions (%s, %s): appends interleaved", recs[i].Seq, recs[i+j].Seq, recs[i].Actor, recs[i+j].Actor)
			}
		}
	}
}

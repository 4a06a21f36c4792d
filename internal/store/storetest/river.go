package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"github.com/offboard-dev/offboard/internal/store"
)

type probeArgs struct {
	CaseID int64 `json:"case_id"`
}

func (probeArgs) Kind() string { return "store_probe" }

// probeWorker reads the store from inside a job, as the engine's workers do: with SQLite's
// single connection this deadlocks if River holds the connection while a job runs.
type probeWorker struct {
	river.WorkerDefaults[probeArgs]
	s    store.Store
	done chan int64
}

func (w *probeWorker) Work(ctx context.Context, job *river.Job[probeArgs]) error {
	if err := w.s.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.GetCase(ctx, job.Args.CaseID)
		return err
	}); err != nil {
		return err
	}
	w.done <- job.Args.CaseID
	return nil
}

// RunRiver checks that the job engine runs on the store's own database: a job inserted
// through Tx.Raw commits with the store's rows (or rolls back with them), and is worked by a
// River client on the same database while the job reads the store. driver is River's driver
// over the store's connection (riversqlite on DB(), riverpgxv5 on Pool()).
func RunRiver[TTx any](t *testing.T, s store.Store, driver riverdriver.Driver[TTx]) {
	t.Helper()
	ctx := context.Background()
	w := &probeWorker{s: s, done: make(chan int64, 1)}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	client, err := river.NewClient(driver, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:           workers,
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		TestOnly:          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	insert := func(tx store.Tx, caseID int64) error {
		raw, ok := tx.Raw().(TTx)
		if !ok {
			return fmt.Errorf("store: raw transaction is %T, not the driver's", tx.Raw())
		}
		_, err := client.InsertTx(ctx, raw, probeArgs{CaseID: caseID}, nil)
		return err
	}

	errAbort := errors.New("abort")
	if err := s.InTx(ctx, func(tx store.Tx) error {
		if err := insert(tx, 999); err != nil {
			return err
		}
		return errAbort
	}); !errors.Is(err, errAbort) {
		t.Fatalf("rolled-back insert: %v", err)
	}
	var caseID int64
	if err := s.InTx(ctx, func(tx store.Tx) error {
		c := store.Case{State: store.CaseRunning}
		if err := tx.CreateCase(ctx, &c); err != nil {
			return err
		}
		caseID = c.ID
		return insert(tx, c.ID)
	}); err != nil {
		t.Fatalf("insert job with case: %v", err)
	}
	jobs, err := client.JobList(ctx, river.NewJobListParams().First(10))
	if err != nil || len(jobs.Jobs) != 1 {
		t.Fatalf("river holds %v jobs (%v), want only the committed one", jobs, err)
	}

	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	})
	select {
	case got := <-w.done:
		if got != caseID {
			t.Fatalf("worked case %d, want %d", got, caseID)
		}
	case <-time.After(30 * time.Second): // against a hang, not a speed check
		t.Fatal("the job was never worked")
	}
}

package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/offboard-dev/offboard/internal/store"
)

type probeArgs struct {
	CaseID int64 `json:"case_id"`
}

func (probeArgs) Kind() string { return "store_probe" }

// probeWorker reads the store from inside a job, as the engine's workers do: with a single
// connection, this deadlocks if River holds the connection while a job runs.
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

// The job engine runs on the store's database: a job inserted through Raw commits with the
// store's rows (or rolls back with them), and is worked by a River client on DB().
func TestRiverSharesTheDatabase(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "offboard.db"))
	ctx := context.Background()
	w := &probeWorker{s: s, done: make(chan int64, 1)}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	client, err := river.NewClient(riversqlite.New(s.DB()), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:           workers,
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		TestOnly:          true,
	})
	if err != nil {
		t.Fatal(err)
	}

	errAbort := errors.New("abort")
	err = s.InTx(ctx, func(tx store.Tx) error {
		if _, err := client.InsertTx(ctx, tx.Raw().(*sql.Tx), probeArgs{CaseID: 999}, nil); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("rolled-back insert: %v", err)
	}
	var caseID int64
	err = s.InTx(ctx, func(tx store.Tx) error {
		c := store.Case{State: store.CaseRunning}
		if err := tx.CreateCase(ctx, &c); err != nil {
			return err
		}
		caseID = c.ID
		_, err := client.InsertTx(ctx, tx.Raw().(*sql.Tx), probeArgs{CaseID: c.ID}, nil)
		return err
	})
	if err != nil {
		t.Fatalf("insert job with case: %v", err)
	}
	var jobs int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM river_job`).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("river_job holds %d jobs (%v), want only the committed one", jobs, err)
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

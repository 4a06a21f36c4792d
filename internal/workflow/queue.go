package workflow

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/offboard-dev/offboard/internal/store"
)

// queue is the job engine as the workflow needs it. River's client is generic over the
// driver's transaction type; this interface hides that so the workflow code is one code path
// for SQLite and PostgreSQL.
type queue interface {
	// insertTx enqueues a job in tx. When a unique job already exists, skippedFor is the
	// existing job's state and nothing new is inserted.
	insertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) (jobID int64, skippedFor rivertype.JobState, err error)
	// insertManyTx enqueues several jobs in tx at once.
	insertManyTx(ctx context.Context, tx store.Tx, jobs []river.InsertManyParams) error
	cancelTx(ctx context.Context, tx store.Tx, jobID int64) error
	start(ctx context.Context) error
	stop(ctx context.Context) error
}

// Backend builds the River client for a database. Use SQLite or Postgres.
type Backend func(cfg *river.Config) (queue, error)

// SQLite runs the engine on the SQLite database the store opened (River's riversqlite driver).
func SQLite(db *sql.DB) Backend {
	return func(cfg *river.Config) (queue, error) {
		c, err := river.NewClient(riversqlite.New(db), cfg)
		if err != nil {
			return nil, fmt.Errorf("engine: start job client on sqlite: %w", err)
		}
		return &riverQueue[*sql.Tx]{client: c}, nil
	}
}

// Postgres runs the engine on the PostgreSQL pool the store opened (River's riverpgxv5 driver);
// several replicas on one database share the work.
func Postgres(pool *pgxpool.Pool) Backend {
	return func(cfg *river.Config) (queue, error) {
		c, err := river.NewClient(riverpgxv5.New(pool), cfg)
		if err != nil {
			return nil, fmt.Errorf("engine: start job client on postgres: %w", err)
		}
		return &riverQueue[pgx.Tx]{client: c}, nil
	}
}

type riverQueue[TTx any] struct {
	client *river.Client[TTx]
}

func (q *riverQueue[TTx]) rawTx(tx store.Tx) (TTx, error) {
	raw, ok := tx.Raw().(TTx)
	if !ok {
		var zero TTx
		return zero, fmt.Errorf("engine: store transaction is %T, not the job engine's %T", tx.Raw(), zero)
	}
	return raw, nil
}

func (q *riverQueue[TTx]) insertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, rivertype.JobState, error) {
	raw, err := q.rawTx(tx)
	if err != nil {
		return 0, "", err
	}
	res, err := q.client.InsertTx(ctx, raw, args, opts)
	if err != nil {
		return 0, "", fmt.Errorf("engine: enqueue %s: %w", args.Kind(), err)
	}
	if res.UniqueSkippedAsDuplicate {
		return res.Job.ID, res.Job.State, nil
	}
	return res.Job.ID, "", nil
}

func (q *riverQueue[TTx]) insertManyTx(ctx context.Context, tx store.Tx, jobs []river.InsertManyParams) error {
	if len(jobs) == 0 {
		return nil
	}
	raw, err := q.rawTx(tx)
	if err != nil {
		return err
	}
	if _, err := q.client.InsertManyTx(ctx, raw, jobs); err != nil {
		return fmt.Errorf("engine: enqueue %d jobs: %w", len(jobs), err)
	}
	return nil
}

func (q *riverQueue[TTx]) cancelTx(ctx context.Context, tx store.Tx, jobID int64) error {
	raw, err := q.rawTx(tx)
	if err != nil {
		return err
	}
	if _, err := q.client.JobCancelTx(ctx, raw, jobID); err != nil && err != river.ErrNotFound {
		return fmt.Errorf("engine: cancel job %d: %w", jobID, err)
	}
	return nil
}

func (q *riverQueue[TTx]) start(ctx context.Context) error { return q.client.Start(ctx) }
func (q *riverQueue[TTx]) stop(ctx context.Context) error  { return q.client.Stop(ctx) }

// Package postgres opens offboard's store on PostgreSQL through a pgx pool, for several
// replicas sharing one database. River's job tables live in the same database (and the same
// schema, found through search_path), so a case, its audit records and its jobs are written in
// one transaction.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/store/sqlstore"
)

// migrationLockKey is the first half of the advisory lock key that serialises migrations; the
// second half is derived from the schema, so stores in different schemas do not wait for each
// other.
const migrationLockKey = 0x0ffb0a2d

// Store is the PostgreSQL store.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or key=value DSN; pgx pool settings
// such as pool_max_conns and runtime parameters such as search_path are honoured) and brings
// offboard's and River's schemas up to date. Replicas starting at once take turns migrating.
// Errors never include the URL, which may carry a password.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors may quote the connection string; do not pass them on.
		return nil, errors.New("postgres: the database URL cannot be parsed")
	}
	if cfg.MaxConns < 2 {
		// Migrations hold one connection for their lock while River's migrator uses another.
		return nil, fmt.Errorf("postgres: pool_max_conns is %d; offboard needs at least 2", cfg.MaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// migrate runs offboard's migrations and River's while holding a session advisory lock on one
// of the pool's connections; River's migrator uses other connections of the pool.
func (s *Store) migrate(ctx context.Context) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Release()
	const lockArgs = `$1::int, hashtext('offboard:' || coalesce(current_schema(), ''))`
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock(`+lockArgs+`)`, migrationLockKey); err != nil {
		return fmt.Errorf("wait for migration lock: %w", err)
	}
	defer func() {
		if _, uerr := c.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lockArgs+`)`, migrationLockKey); uerr != nil {
			// Closing the session is what releases a lock that could not be released.
			_ = c.Conn().Close(context.WithoutCancel(ctx))
		}
	}()

	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	q := conn{tx}
	if err := sqlstore.Run(ctx, q, sqlstore.Postgres, tx, func(store.Tx) error {
		_, err := sqlstore.Migrate(ctx, q, sqlstore.Postgres)
		return err
	}); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	m, err := rivermigrate.New(riverpgxv5.New(s.pool), nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// Pool is the connection pool, for the job engine's River client.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Driver returns "postgres".
func (s *Store) Driver() string { return sqlstore.Postgres.Name() }

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// InTx runs fn in one READ COMMITTED transaction; Tx.Raw returns the pgx.Tx. Row locks
// (LockCase, AppendAudit) are held until it ends; a transaction that needs both should lock
// the case first, as every caller does, so that two never wait on each other.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	return sqlstore.Run(ctx, conn{tx}, sqlstore.Postgres, tx, fn)
}

// conn adapts pgx.Tx to sqlstore.Conn.
type conn struct{ tx pgx.Tx }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.tx.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := c.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.tx.QueryRow(ctx, query, args...)
}

func (c conn) Commit(ctx context.Context) error { return c.tx.Commit(ctx) }

func (c conn) Rollback(ctx context.Context) error {
	if err := c.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}

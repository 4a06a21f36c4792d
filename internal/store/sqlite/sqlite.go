// Package sqlite opens offboard's store on an SQLite file, the embedded single-node default,
// through the pure-Go modernc.org/sqlite driver. The same database holds River's job tables,
// so a case, its audit records and the jobs that run it are written in one transaction.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/store/sqlstore"
)

// Store is the SQLite store. Its pool has a single connection: SQLite allows one writer at a
// time, and River's driver documents one connection as the way to avoid SQLITE_BUSY. Every
// transaction therefore runs alone, which is also what makes LockCase and AppendAudit safe
// here. A consequence: code inside InTx must use only the Tx it was given, never the Store or
// DB again, or it waits for itself.
type Store struct {
	db *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at dsn and brings offboard's and River's schemas
// up to date. dsn is a file path, or sqlite://path (relative) or sqlite:///path (absolute).
func Open(ctx context.Context, dsn string) (*Store, error) {
	source, err := dataSource(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", source)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", dsn, err)
	}
	db.SetMaxOpenConns(1)
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", dsn, err)
	}
	return s, nil
}

// dataSource turns the configured dsn into the driver's data source name: an SQLite URI with
// the settings offboard relies on. WAL makes commits cheap and crash-safe (River's driver is
// tested with it); busy_timeout makes two processes on one file (the server and the CLI) wait
// for each other instead of failing; foreign_keys keeps steps and ticket updates tied to
// existing cases; _txlock=immediate takes the write lock when a transaction begins, so one that
// reads and then writes cannot fail half-way with SQLITE_BUSY because another process wrote in
// between.
func dataSource(dsn string) (string, error) {
	path, isURL := strings.CutPrefix(dsn, "sqlite://")
	if !isURL && (strings.Contains(dsn, "://") || strings.HasPrefix(dsn, "file:")) {
		return "", fmt.Errorf("sqlite: %q is neither a file path nor a sqlite:// URL", dsn)
	}
	if strings.TrimSpace(path) == "" {
		return "", fmt.Errorf("sqlite: %q names no database file", dsn)
	}
	// The path becomes part of a URI: escape what SQLite would read as syntax.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate", nil
}

func (s *Store) migrate(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	// The immediate transaction holds the write lock, so two processes starting at once
	// migrate one after the other.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	c := conn{tx}
	if err := sqlstore.Run(ctx, c, sqlstore.SQLite, tx, func(store.Tx) error {
		_, err := sqlstore.Migrate(ctx, c, sqlstore.SQLite)
		return err
	}); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	m, err := rivermigrate.New(riversqlite.New(s.db), nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// DB is the database handle, for the job engine's River client. It has one connection.
func (s *Store) DB() *sql.DB { return s.db }

// Driver returns "sqlite".
func (s *Store) Driver() string { return sqlstore.SQLite.Name() }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// InTx runs fn in one transaction; Tx.Raw returns the *sql.Tx.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	return sqlstore.Run(ctx, conn{tx}, sqlstore.SQLite, tx, fn)
}

// conn adapts *sql.Tx to sqlstore.Conn.
type conn struct{ tx *sql.Tx }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := c.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.tx.QueryRowContext(ctx, query, args...)
}

func (c conn) Commit(context.Context) error { return c.tx.Commit() }

func (c conn) Rollback(context.Context) error {
	if err := c.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

// sqlRows adapts *sql.Rows; a close error is reported by Err, which callers check.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// Package sqlstore is the one implementation of store.Tx, written once for SQLite and
// PostgreSQL. The sqlite and postgres packages open the database, begin transactions and hand
// each one to Run as a small Conn; a Dialect carries the few differences (placeholders, row
// locks, how times are stored), so every query is the same text on both.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/store"
)

// Querier is the part of a driver transaction the queries need. The sqlite package adapts
// *sql.Tx to it and the postgres package adapts pgx.Tx.
type Querier interface {
	// Exec runs a statement and reports how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query expected to return at most one row; Scan reports a missing row
	// with an error wrapping sql.ErrNoRows (pgx.ErrNoRows wraps it too).
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is a result set, read with Next and Scan and released with Close.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result.
type Row interface {
	Scan(dest ...any) error
}

// Dialect describes what differs between the databases.
type Dialect struct {
	name string
	// numbered placeholders: PostgreSQL wants $1, $2, ... where the queries are written with ?.
	numbered bool
	// lockRows is appended to a SELECT whose rows must stay locked until the transaction
	// ends. SQLite needs none: its transactions begin IMMEDIATE on a single connection, so
	// they never overlap.
	lockRows string
	// nativeTime passes time.Time to the driver (PostgreSQL timestamptz keeps microseconds);
	// otherwise times are stored as fixed-width UTC text, which sorts in time order.
	nativeTime bool
}

var (
	// SQLite is the dialect of modernc.org/sqlite.
	SQLite = Dialect{name: "sqlite"}
	// Postgres is the dialect of PostgreSQL through pgx.
	Postgres = Dialect{name: "postgres", numbered: true, lockRows: " FOR UPDATE", nativeTime: true}
)

// Name is the database's name as store.Store.Driver reports it.
func (d Dialect) Name() string { return d.name }

// rebind rewrites ? placeholders as $n for databases that number them. Question marks inside
// quoted strings or identifiers are left alone.
func (d Dialect) rebind(query string) string {
	if !d.numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// arg converts a Go value to what the dialect stores: times become UTC at microsecond
// precision (as text on SQLite), and a nil *time.Time becomes NULL.
func (d Dialect) arg(v any) any {
	switch t := v.(type) {
	case time.Time:
		return d.timeValue(t)
	case *time.Time:
		if t == nil {
			return nil
		}
		return d.timeValue(*t)
	}
	return v
}

func (d Dialect) timeValue(t time.Time) any {
	t = normTime(t)
	if d.nativeTime {
		return t
	}
	return t.Format(timeLayout)
}

// Tx is store.Tx over one driver transaction.
type Tx struct {
	q   Querier
	d   Dialect
	raw any
	now func() time.Time
}

var _ store.Tx = (*Tx)(nil)

// newTx wraps a driver transaction. raw is what Raw returns (the driver's own transaction
// type, for the job engine).
func newTx(q Querier, d Dialect, raw any) *Tx {
	return &Tx{q: q, d: d, raw: raw, now: time.Now}
}

// Raw returns the driver's transaction: *sql.Tx on SQLite, pgx.Tx on PostgreSQL.
func (t *Tx) Raw() any { return t.raw }

func (t *Tx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return t.q.Exec(ctx, t.d.rebind(query), t.args(args)...)
}

func (t *Tx) query(ctx context.Context, query string, args ...any) (Rows, error) {
	return t.q.Query(ctx, t.d.rebind(query), t.args(args)...)
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) Row {
	return t.q.QueryRow(ctx, t.d.rebind(query), t.args(args)...)
}

func (t *Tx) args(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = t.d.arg(a)
	}
	return out
}

// stamp is the current time as the store keeps it.
func (t *Tx) stamp() time.Time { return normTime(t.now()) }

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Conn is a driver transaction in progress: its queries, and how it ends.
type Conn interface {
	Querier
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// Run runs fn on c, committing if fn returns nil and rolling back otherwise (also when fn
// panics, before the panic goes on). fn's error is returned as is, so callers can match it.
func Run(ctx context.Context, c Conn, d Dialect, raw any, fn func(store.Tx) error) (err error) {
	done := false
	defer func() {
		if !done {
			// fn panicked: release the transaction, then let the panic continue.
			_ = c.Rollback(context.WithoutCancel(ctx))
		}
	}()
	ferr := fn(newTx(c, d, raw))
	done = true
	if ferr != nil {
		if rerr := c.Rollback(context.WithoutCancel(ctx)); rerr != nil {
			return errors.Join(ferr, fmt.Errorf("%s: roll back: %w", d.name, rerr))
		}
		return ferr
	}
	if err := c.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", d.name, err)
	}
	return nil
}

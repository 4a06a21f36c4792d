package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrationFS holds the schema, one folder per dialect, one file per version named
// NNNN_description.sql. A released file is never edited: changes go in a new version.
//
//go:embed migrations/*/*.sql
var migrationFS embed.FS

// Migration is one schema version.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the dialect's schema versions in order.
func (d Dialect) Migrations() ([]Migration, error) {
	dir := path.Join("migrations", d.name)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read %s migrations: %w", d.name, err)
	}
	var out []Migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s/%s is not named NNNN_name.sql", dir, e.Name())
		}
		body, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("%s migrations are not numbered 1..n: found %d at position %d", d.name, m.Version, i+1)
		}
	}
	return out, nil
}

// Migrate brings offboard's tables up to date inside the caller's transaction, recording each
// applied version in offboard_migrations; versions already recorded are skipped, so running it
// again is a no-op. The caller serialises concurrent callers (an IMMEDIATE transaction on
// SQLite, an advisory lock on PostgreSQL). A database migrated by a newer offboard is refused
// rather than used with a schema this code does not know.
func Migrate(ctx context.Context, q Querier, d Dialect) (applied []int, err error) {
	migrations, err := d.Migrations()
	if err != nil {
		return nil, err
	}
	timeType := "TEXT"
	if d.nativeTime {
		timeType = "TIMESTAMPTZ"
	}
	if _, err := q.Exec(ctx, `CREATE TABLE IF NOT EXISTS offboard_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at `+timeType+` NOT NULL
	)`); err != nil {
		return nil, fmt.Errorf("create migrations table: %w", err)
	}
	done, err := appliedVersions(ctx, q)
	if err != nil {
		return nil, err
	}
	for v := range done {
		if v > len(migrations) {
			return nil, fmt.Errorf("database schema is at version %d but this offboard knows only %d: upgrade offboard", v, len(migrations))
		}
	}
	for _, m := range migrations {
		if done[m.Version] {
			continue
		}
		if _, err := q.Exec(ctx, m.SQL); err != nil {
			return nil, fmt.Errorf("apply migration %d (%s): %w", m.Version, m.Name, err)
		}
		if _, err := q.Exec(ctx, d.rebind(`INSERT INTO offboard_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			m.Version, m.Name, d.timeValue(time.Now())); err != nil {
			return nil, fmt.Errorf("record migration %d: %w", m.Version, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

func appliedVersions(ctx context.Context, q Querier) (map[int]bool, error) {
	rows, err := q.Query(ctx, `SELECT version FROM offboard_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read applied migrations: %w", err)
		}
		done[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	return done, nil
}

package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/store/sqlite"
	"github.com/offboard-dev/offboard/internal/store/sqlstore"
	"github.com/offboard-dev/offboard/internal/store/storetest"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "offboard.db"))
	})
}

// Opening an existing database applies nothing new, keeps its rows, and leaves River's schema
// complete.
func TestReopenIsNoOp(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "offboard.db")
	ctx := context.Background()
	first, err := sqlite.Open(ctx, "sqlite://"+path) // sqlite:///abs/path
	if err != nil {
		t.Fatalf("first open: %v", err)
	}
	var caseID int64
	err = first.InTx(ctx, func(tx store.Tx) error {
		c := store.Case{State: store.CaseRunning, EventID: "e1"}
		err := tx.CreateCase(ctx, &c)
		caseID = c.ID
		return err
	})
	if err != nil {
		t.Fatalf("create case: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	second := open(t, path)
	migrations, err := sqlstore.SQLite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := second.DB().QueryRowContext(ctx, `SELECT count(*) FROM offboard_migrations`).Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if n != len(migrations) {
		t.Errorf("offboard_migrations has %d rows after two opens, want %d", n, len(migrations))
	}
	err = second.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.GetCase(ctx, caseID)
		return err
	})
	if err != nil {
		t.Errorf("case written before reopening: %v", err)
	}
	m, err := rivermigrate.New(riversqlite.New(second.DB()), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil || !res.OK {
		t.Errorf("River's schema is not complete: %+v, %v", res, err)
	}
}

// A database migrated by a newer offboard is refused, not used with an unknown schema.
func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "offboard.db")
	s := open(t, path)
	if _, err := s.DB().Exec(`INSERT INTO offboard_migrations (version, name, applied_at) VALUES (999, 'future', '')`); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	_, err := sqlite.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "upgrade offboard") {
		t.Fatalf("open of a newer schema: got %v, want a refusal asking to upgrade", err)
	}
}

// Times are kept as fixed-width UTC text, so text order is time order.
func TestTimesSortAsText(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "offboard.db"))
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.InTx(ctx, func(tx store.Tx) error {
		for _, d := range []time.Duration{time.Second, 0, time.Microsecond, 10 * time.Second} {
			c := store.Case{State: store.CaseRunning, EffectiveAt: base.Add(d)}
			if err := tx.CreateCase(ctx, &c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT effective_at FROM cases ORDER BY effective_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	want := []string{"2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000001Z", "2026-01-01T00:00:01.000000Z", "2026-01-01T00:00:10.000000Z"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("stored times in text order: %v, want %v", got, want)
	}
}

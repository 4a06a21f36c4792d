package sqlstore

import (
	"strings"
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		d        Dialect
		in, want string
	}{
		{SQLite, `SELECT a FROM t WHERE a = ? AND b = ?`, `SELECT a FROM t WHERE a = ? AND b = ?`},
		{Postgres, `SELECT a FROM t WHERE a = ? AND b = ?`, `SELECT a FROM t WHERE a = $1 AND b = $2`},
		{Postgres, `SELECT '?' AS q, "a?b" FROM t WHERE c IN (?, ?)`, `SELECT '?' AS q, "a?b" FROM t WHERE c IN ($1, $2)`},
		{Postgres, `SELECT 'it''s ?' WHERE x = ?`, `SELECT 'it''s ?' WHERE x = $1`},
		{Postgres, `SELECT 1`, `SELECT 1`},
	}
	for _, tc := range tests {
		if got := tc.d.rebind(tc.in); got != tc.want {
			t.Errorf("%s rebind(%q) = %q, want %q", tc.d.name, tc.in, got, tc.want)
		}
	}
}

// A stored time reads back as the same instant, in UTC, at microsecond precision, whichever
// form the driver returns it in.
func TestTimeRoundTrip(t *testing.T) {
	in := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("X", 3600))
	want := time.Date(2026, 3, 4, 4, 6, 7, 891234000, time.UTC)
	text := SQLite.timeValue(in).(string)
	if text != "2026-03-04T04:06:07.891234Z" {
		t.Fatalf("SQLite stores %q", text)
	}
	native := Postgres.timeValue(in).(time.Time)
	for _, src := range []any{text, []byte(text), native, native.In(time.FixedZone("Y", -7200))} {
		var got time.Time
		if err := (timeCol{&got}).Scan(src); err != nil {
			t.Fatalf("scan %T: %v", src, err)
		}
		if got != want {
			t.Errorf("scan %T %v: got %v, want %v (same instant, UTC, microseconds)", src, src, got, want)
		}
	}
	var p *time.Time = &want
	if err := (nullTimeCol{&p}).Scan(nil); err != nil || p != nil {
		t.Errorf("NULL scanned to %v, %v; want nil", p, err)
	}
	if err := (timeCol{new(time.Time)}).Scan(nil); err == nil {
		t.Error("NULL in a NOT NULL time column was accepted")
	}
	if err := (timeCol{new(time.Time)}).Scan("yesterday"); err == nil {
		t.Error("an unreadable stored time was accepted")
	}
}

// Both dialects carry the same schema versions, numbered from 1 without gaps.
func TestMigrationsMatch(t *testing.T) {
	lite, err := SQLite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	pg, err := Postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %d_%s, postgres %d_%s", i, lite[i].Version, lite[i].Name, pg[i].Version, pg[i].Name)
		}
		for _, table := range []string{"hr_events", "cases", "steps", "audit_records", "audit_head", "ticket_updates"} {
			if strings.Contains(lite[i].SQL, "CREATE TABLE "+table) != strings.Contains(pg[i].SQL, "CREATE TABLE "+table) {
				t.Errorf("migration %d creates table %s in one dialect only", lite[i].Version, table)
			}
		}
	}
}

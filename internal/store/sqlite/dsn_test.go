package sqlite

import (
	"strings"
	"testing"
)

func TestDataSource(t *testing.T) {
	const opts = "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate"
	tests := []struct {
		dsn, want, err string
	}{
		{dsn: "offboard.db", want: "file:offboard.db" + opts},
		{dsn: "/var/lib/offboard/offboard.db", want: "file:/var/lib/offboard/offboard.db" + opts},
		{dsn: "sqlite://data/offboard.db", want: "file:data/offboard.db" + opts},
		{dsn: "sqlite:///var/lib/offboard.db", want: "file:/var/lib/offboard.db" + opts},
		{dsn: "odd?name#1%.db", want: "file:odd%3fname%231%25.db" + opts},
		{dsn: "", err: "names no database file"},
		{dsn: "sqlite://", err: "names no database file"},
		{dsn: "mysql://db/x", err: "neither a file path nor a sqlite:// URL"},
		{dsn: "file:x.db?mode=ro", err: "neither a file path nor a sqlite:// URL"},
	}
	for _, tc := range tests {
		got, err := dataSource(tc.dsn)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("dataSource(%q) error = %v, want one saying %q", tc.dsn, err, tc.err)
			}
		case err != nil:
			t.Errorf("dataSource(%q): %v", tc.dsn, err)
		case got != tc.want:
			t.Errorf("dataSource(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}

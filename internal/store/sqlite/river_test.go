package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/offboard-dev/offboard/internal/store/storetest"
)

func TestRiverSharesTheDatabase(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "offboard.db"))
	storetest.RunRiver(t, s, riversqlite.New(s.DB()))
}

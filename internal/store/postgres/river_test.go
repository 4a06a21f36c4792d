package postgres_test

import (
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/offboard-dev/offboard/internal/store/storetest"
)

func TestRiverSharesTheDatabase(t *testing.T) {
	t.Parallel()
	s := open(t, storetest.NewPostgresSchema(t, storetest.PostgresURL(t)))
	storetest.RunRiver(t, s, riverpgxv5.New(s.Pool()))
}

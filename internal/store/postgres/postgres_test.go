package postgres_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/store/postgres"
	"github.com/offboard-dev/offboard/internal/store/sqlstore"
	"github.com/offboard-dev/offboard/internal/store/storetest"
)

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	base := storetest.PostgresURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, storetest.NewPostgresSchema(t, base))
	})
}

// Opening an existing database applies nothing new, keeps its rows, and leaves River's schema
// complete, in the test's own schema.
func TestReopenIsNoOp(t *testing.T) {
	t.Parallel()
	dsn := storetest.NewPostgresSchema(t, storetest.PostgresURL(t))
	ctx := context.Background()
	first, err := postgres.Open(ctx, dsn)
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
	_ = first.Close()

	second := open(t, dsn)
	migrations, err := sqlstore.Postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := second.Pool().QueryRow(ctx, `SELECT count(*) FROM offboard_migrations`).Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if n != len(migrations) {
		t.Errorf("offboard_migrations has %d rows after two opens, want %d", n, len(migrations))
	}
	if err := second.InTx(ctx, func(tx store.Tx) error { _, err := tx.GetCase(ctx, caseID); return err }); err != nil {
		t.Errorf("case written before reopening: %v", err)
	}
	m, err := rivermigrate.New(riverpgxv5.New(second.Pool()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := m.Validate(ctx, nil); err != nil || !res.OK {
		t.Errorf("River's schema is not complete: %+v, %v", res, err)
	}
	schema := schemaOf(t, dsn)
	var tables int
	err = second.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_tables
		WHERE schemaname = $1 AND tablename IN ('river_job', 'cases', 'audit_head')`, schema).Scan(&tables)
	if err != nil || tables != 3 {
		t.Errorf("found %d of offboard's and River's tables in schema %s (%v), want 3", tables, schema, err)
	}
}

// Replicas starting at once on a fresh database both come up: migrations take turns.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	dsn := storetest.NewPostgresSchema(t, storetest.PostgresURL(t))
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Errorf("replica %d: open: %v", i, err)
				return
			}
			_ = s.Close()
		}()
	}
	wg.Wait()
}

// LockCase on a case another transaction has locked waits for it: seen here from the server's
// side, as a session of this test waiting on a lock, before the first transaction commits.
func TestLockCaseWaits(t *testing.T) {
	t.Parallel()
	dsn := storetest.NewPostgresSchema(t, storetest.PostgresURL(t))
	s := open(t, dsn)
	ctx := context.Background()
	var c store.Case
	if err := s.InTx(ctx, func(tx store.Tx) error { c.State = store.CaseRunning; return tx.CreateCase(ctx, &c) }); err != nil {
		t.Fatal(err)
	}

	locked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	releaseFirst := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseFirst)
	firstDone, secondDone := make(chan error, 1), make(chan error, 1)
	go func() {
		firstDone <- s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.LockCase(ctx, c.ID); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	go func() {
		secondDone <- s.InTx(ctx, func(tx store.Tx) error { return tx.LockCase(ctx, c.ID) })
	}()

	// Wait (against a hang, not for speed) until the server shows the second session blocked.
	app := schemaOf(t, dsn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock'`, app).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		select {
		case err := <-secondDone:
			t.Fatalf("second LockCase returned (%v) while the first transaction held the lock", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the second LockCase never waited on a lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	releaseFirst()
	if err := <-firstDone; err != nil {
		t.Fatalf("first transaction: %v", err)
	}
	if err := <-secondDone; err != nil {
		t.Fatalf("second transaction: %v", err)
	}
}

// Connection errors never show the password of the URL they came from.
func TestErrorsHidePassword(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-pa55"
	for _, dsn := range []string{
		"postgres://offboard:" + secret + "@127.0.0.1:1/offboard?sslmode=disable&connect_timeout=5",
		"postgres://offboard:" + secret + "@127.0.0.1:notaport/offboard",
		"host=127.0.0.1 port=1 user=offboard password=" + secret + " connect_timeout=5 sslmode=disable",
	} {
		_, err := postgres.Open(context.Background(), dsn)
		if err == nil {
			t.Fatalf("open of an unreachable database succeeded")
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func schemaOf(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("search_path")
}

// A pool too small for migrations is refused at start rather than hanging there.
func TestRefusesSingleConnectionPool(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(context.Background(), "postgres://offboard@127.0.0.1:1/offboard?pool_max_conns=1")
	if err == nil || !strings.Contains(err.Error(), "pool_max_conns") {
		t.Fatalf("open with pool_max_conns=1: got %v, want a refusal naming pool_max_conns", err)
	}
}

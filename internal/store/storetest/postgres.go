package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// PostgresURLEnv names the database PostgreSQL tests use.
	PostgresURLEnv = "OFFBOARD_TEST_POSTGRES_URL"
	// RequirePostgresEnv, set to 1, turns a missing PostgresURLEnv into a failure, so that CI
	// cannot pass with its PostgreSQL tests silently skipped.
	RequirePostgresEnv = "OFFBOARD_REQUIRE_POSTGRES"
)

// PostgresURL returns the test database's URL from OFFBOARD_TEST_POSTGRES_URL. When it is
// unset the test is skipped, unless OFFBOARD_REQUIRE_POSTGRES=1, when it fails.
func PostgresURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(PostgresURLEnv); u != "" {
		return u
	}
	if os.Getenv(RequirePostgresEnv) == "1" {
		t.Fatalf("%s=1 but %s is not set: PostgreSQL tests must run here", RequirePostgresEnv, PostgresURLEnv)
	}
	t.Skipf("PostgreSQL tests skipped: set %s, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", PostgresURLEnv)
	return ""
}

// NewPostgresSchema creates a schema of its own for the test and returns dbURL confined to it:
// search_path names the schema, so offboard's tables and River's are created and found there,
// and application_name names it too, so the test's sessions can be told apart in
// pg_stat_activity. The schema and everything in it is dropped when the test ends (close
// stores before then: cleanups registered later run first).
func NewPostgresSchema(t testing.TB, dbURL string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "offboard_test_" + hex.EncodeToString(b[:])
	ident := pgx.Identifier{schema}.Sanitize()

	exec := func(stmt string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		defer func() { _ = conn.Close(ctx) }()
		_, err = conn.Exec(ctx, stmt)
		return err
	}
	if err := exec("CREATE SCHEMA " + ident); err != nil {
		t.Fatalf("storetest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA " + ident + " CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})
	confined, err := withRuntimeParams(dbURL, map[string]string{"search_path": schema, "application_name": schema})
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return confined
}

// withRuntimeParams adds PostgreSQL runtime parameters to a URL or key=value connection string.
func withRuntimeParams(dsn string, params map[string]string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("the PostgreSQL URL cannot be parsed")
		}
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	var b strings.Builder
	b.WriteString(dsn)
	for k, v := range params {
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	return b.String(), nil
}

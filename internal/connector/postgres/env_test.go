package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store/storetest"
)

// dsnPassword is put in every DSN the tests build. The test server trusts loopback and ignores
// it, so it serves only to prove that no DSN secret reaches errors, plans or evidence.
const dsnPassword = "pg-dsn-secret-6b1f0c9e27"

// env is a throwaway set of roles on the real test server: a leaver who can log in, belongs
// to two group roles, owns a table and has an open session, and a colleague who must be left
// alone.
type env struct {
	admin  string // DSN of the administrative connection (the test server's superuser)
	leaver string
	other  string
	groups []string
	person connector.Person
	conn   *Connector
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// withPassword returns the DSN with the test's password and a role of the caller's choosing.
func withUser(t *testing.T, dsn, user string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("OFFBOARD_TEST_POSTGRES_URL is not a URL: %v", err)
	}
	u.User = url.UserPassword(user, dsnPassword)
	return u.String()
}

func exec(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// newEnv creates the roles, opens the leaver's session and registers the clean-up.
func newEnv(t *testing.T) *env {
	t.Helper()
	base := storetest.PostgresURL(t)
	u, _ := url.Parse(base)
	adminUser := "postgres"
	if u.User != nil && u.User.Username() != "" {
		adminUser = u.User.Username()
	}
	sfx := randomSuffix()
	e := &env{
		admin:  withUser(t, base, adminUser),
		leaver: "offb_leaver_" + sfx,
		other:  "offb_other_" + sfx,
		groups: []string{"offb_analysts_" + sfx, "offb_writers_" + sfx},
	}
	e.person = connector.Person{WorkerID: "W-" + sfx, Email: e.leaver + "@acme.example", Name: "Leaver " + sfx}
	exec(t, e.admin,
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD 'leaver-pw'", ident(e.leaver)),
		fmt.Sprintf("CREATE ROLE %s LOGIN", ident(e.other)),
		fmt.Sprintf("CREATE ROLE %s NOLOGIN", ident(e.groups[0])),
		fmt.Sprintf("CREATE ROLE %s NOLOGIN", ident(e.groups[1])),
		fmt.Sprintf("GRANT %s, %s TO %s", ident(e.groups[0]), ident(e.groups[1]), ident(e.leaver)),
		fmt.Sprintf("GRANT %s TO %s", ident(e.groups[0]), ident(e.other)),
		fmt.Sprintf("CREATE TABLE public.%s (id int)", ident("offb_notes_"+sfx)),
		fmt.Sprintf("ALTER TABLE public.%s OWNER TO %s", ident("offb_notes_"+sfx), ident(e.leaver)),
	)
	t.Cleanup(func() {
		exec(t, e.admin,
			fmt.Sprintf("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename IN ('%s', '%s')", e.leaver, e.other),
			fmt.Sprintf("DROP TABLE IF EXISTS public.%s", ident("offb_notes_"+sfx)),
			fmt.Sprintf("DROP ROLE IF EXISTS %s, %s, %s, %s", ident(e.leaver), ident(e.other), ident(e.groups[0]), ident(e.groups[1])),
		)
	})
	var err error
	e.conn, err = New(Config{Name: "payments-db", DSN: e.admin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.conn.Close)
	return e
}

// login opens a session as role, as the leaver's own client would.
func (e *env) login(ctx context.Context, t *testing.T, role string) (*pgx.Conn, error) {
	t.Helper()
	return pgx.Connect(ctx, withUser(t, e.admin, role))
}

// snapshot describes everything the tests' people hold, for the conformance suite's
// plan-reads-only check.
func (e *env) snapshot(ctx context.Context) (string, error) {
	conn, err := pgx.Connect(ctx, e.admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT r.rolname, r.rolcanlogin,
		coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), ''),
		(SELECT count(*) FROM pg_stat_activity a WHERE a.usename = r.rolname)
		FROM pg_roles r WHERE r.rolname = ANY($1) ORDER BY r.rolname`, []string{e.leaver, e.other})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for rows.Next() {
		var name, groups string
		var login bool
		var sessions int64
		if err := rows.Scan(&name, &login, &groups, &sessions); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s login=%v groups=%s sessions=%d; ", name, login, groups, sessions)
	}
	return b.String(), rows.Err()
}

// closedDSN is a DSN for a port where nothing listens.
func closedDSN(t *testing.T, dsn string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	u, _ := url.Parse(dsn)
	u.Host = fmt.Sprintf("127.0.0.1:%d", port)
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	return u.String()
}

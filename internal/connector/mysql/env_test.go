package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/offboard-dev/offboard/internal/connector"
)

// The environment naming the test server, and the switch that makes its absence a failure.
const (
	dsnEnv     = "OFFBOARD_TEST_MYSQL_DSN"
	requireEnv = "OFFBOARD_REQUIRE_MYSQL"
)

// adminPassword is the password of the throwaway administrative account each test creates;
// it must never reach errors, plans or evidence.
const adminPassword = "mysql-admin-secret-83d1c7a0"

// serverDSN returns the test server's DSN, or skips (fails under CI) when none is set.
func serverDSN(t *testing.T) string {
	t.Helper()
	if dsn := os.Getenv(dsnEnv); dsn != "" {
		return dsn
	}
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s=1 but %s is not set: MySQL/MariaDB tests must run here", requireEnv, dsnEnv)
	}
	t.Skipf("MySQL/MariaDB tests skipped: set %s, e.g. root@tcp(127.0.0.1:3306)/test", dsnEnv)
	return ""
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// as returns the server DSN with another user and password.
func as(t *testing.T, dsn, user, password string) string {
	t.Helper()
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s is not a DSN: %v", dsnEnv, err)
	}
	cfg.User, cfg.Passwd = user, password
	cfg.Timeout = 5 * time.Second
	return cfg.FormatDSN()
}

func exec(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// env is a set of throwaway accounts: an administrator for offboard with a password, a leaver
// with two accounts (two hosts) and grants, and a colleague who must be left alone.
type env struct {
	root, admin  string
	leaver, peer string
	person       connector.Person
	conn         *Connector
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root := serverDSN(t)
	sfx := randomSuffix()
	e := &env{root: root, leaver: "offb_leaver_" + sfx, peer: "offb_peer_" + sfx}
	adminUser := "offb_admin_" + sfx
	exec(t, root,
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", adminUser, adminPassword),
		fmt.Sprintf("GRANT CREATE USER, PROCESS, SUPER, SELECT ON *.* TO '%s'@'%%'", adminUser),
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY 'leaver-pw'", e.leaver),
		fmt.Sprintf("CREATE USER '%s'@'localhost' IDENTIFIED BY 'leaver-pw'", e.leaver),
		fmt.Sprintf("GRANT SELECT, INSERT ON test.* TO '%s'@'%%'", e.leaver),
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY 'peer-pw'", e.peer),
	)
	t.Cleanup(func() {
		exec(t, root, fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%', '%s'@'localhost', '%s'@'%%', '%s'@'%%'", e.leaver, e.leaver, e.peer, adminUser))
	})
	e.admin = as(t, root, adminUser, adminPassword)
	e.person = connector.Person{WorkerID: "W-" + sfx, Email: e.leaver + "@acme.example"}
	var err error
	if e.conn, err = New(Config{Name: "analytics-db", DSN: e.admin}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.conn.Close)
	return e
}

// login opens a connection as user, as their own client would, and proves it works.
func (e *env) login(ctx context.Context, t *testing.T, user, password string) (*sql.Conn, error) {
	t.Helper()
	cfg, _ := gomysql.ParseDSN(as(t, e.root, user, password))
	cfg.DBName = "" // a colleague may have no grant on the test database
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if err := conn.PingContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// snapshot describes the people's accounts and connections for the plan-reads-only check.
func (e *env) snapshot(ctx context.Context) (string, error) {
	db, err := sql.Open("mysql", e.root)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var b strings.Builder
	for _, u := range []string{e.leaver, e.peer} {
		rows, err := db.QueryContext(ctx, "SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host", u)
		if err != nil {
			return "", err
		}
		var hosts []string
		for rows.Next() {
			var h string
			_ = rows.Scan(&h)
			hosts = append(hosts, h)
		}
		rows.Close()
		for _, h := range hosts {
			var stmt string
			if err := db.QueryRowContext(ctx, fmt.Sprintf("SHOW CREATE USER '%s'@'%s'", u, h)).Scan(&stmt); err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%s@%s locked=%v; ", u, h, strings.Contains(stmt, "ACCOUNT LOCK"))
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?", u).Scan(&n); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s connections=%d; ", u, n)
	}
	return b.String(), nil
}

// closedDSN is a DSN for a port where nothing listens.
func closedDSN(t *testing.T, dsn string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg, _ := gomysql.ParseDSN(dsn)
	cfg.Net, cfg.Addr, cfg.Timeout = "tcp", addr, 2*time.Second
	return cfg.FormatDSN()
}

// actionsOf returns the plan's actions of kind.
func actionsOf(pl connector.Plan, kind string) []connector.Action {
	var out []connector.Action
	for _, a := range pl.Actions {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

// newAdmin creates another account for offboard holding only the grants given (each with %s
// for the account) and returns a connector that uses it.
func (e *env) newAdmin(t *testing.T, grants ...string) *Connector {
	t.Helper()
	user := "offb_min_" + randomSuffix()
	acct := fmt.Sprintf("'%s'@'%%'", user)
	stmts := []string{fmt.Sprintf("CREATE USER %s IDENTIFIED BY '%s'", acct, adminPassword)}
	for _, g := range grants {
		stmts = append(stmts, fmt.Sprintf(g, acct))
	}
	t.Cleanup(func() { exec(t, e.root, "DROP USER IF EXISTS "+acct) })
	exec(t, e.root, stmts...)
	cfg, _ := gomysql.ParseDSN(as(t, e.root, user, adminPassword))
	cfg.DBName = "" // no grant on the test database is among the ones given
	c, err := New(Config{Name: "analytics-db", DSN: cfg.FormatDSN()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// isMariaDB reports whether the test server is MariaDB rather than MySQL.
func (e *env) isMariaDB(t *testing.T) bool {
	t.Helper()
	db, err := sql.Open("mysql", e.root)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(t.Context(), "SELECT VERSION()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return strings.Contains(v, "MariaDB")
}

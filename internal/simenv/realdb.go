package simenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// DemoDBRole is the database login the demo gives its leaver on real servers. It is the
// leaver's "db" handle (the Workday report's DB_Login column), so the demo's database
// connectors find it with role: handle and never touch a role the server already had.
const DemoDBRole = "offboard_demo_dana"

// demoDBGroup is a role the demo leaver belongs to on PostgreSQL.
const demoDBGroup = "offboard_demo_analysts"

// RealDB is a demo login created on a real database server, with an open session as the
// leaver's client would hold, so the demo can show it ended and the login refused.
type RealDB struct {
	Kind    string // postgres or mysql
	close   func()
	cleanup func()
	held    func(ctx context.Context) ([]string, error)
}

// Holdings reads the server and lists what the demo login still has: whether it can log in
// and its open sessions.
func (r *RealDB) Holdings(ctx context.Context) ([]string, error) { return r.held(ctx) }

// Close ends the demo's own session and drops what the demo created.
func (r *RealDB) Close() {
	r.close()
	r.cleanup()
}

// SeedPostgres creates the demo login on the PostgreSQL server at url (a superuser's URL):
// a LOGIN role in a group role, with one session opened as it.
func SeedPostgres(ctx context.Context, url string) (*RealDB, error) {
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("demo: connect to PostgreSQL: %w", err)
	}
	role, group := pgx.Identifier{DemoDBRole}.Sanitize(), pgx.Identifier{demoDBGroup}.Sanitize()
	drop := func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = admin.Exec(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", DemoDBRole)
		_, _ = admin.Exec(c, "DROP ROLE IF EXISTS "+role+", "+group)
	}
	drop()
	for _, stmt := range []string{
		"CREATE ROLE " + group + " NOLOGIN",
		"CREATE ROLE " + role + " LOGIN PASSWORD 'demo-login-password'",
		"GRANT " + group + " TO " + role,
	} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			drop()
			admin.Close(ctx)
			return nil, fmt.Errorf("demo: PostgreSQL: %s: %w", stmt, err)
		}
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		drop()
		admin.Close(ctx)
		return nil, err
	}
	cfg.User, cfg.Password = DemoDBRole, "demo-login-password"
	session, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		drop()
		admin.Close(ctx)
		return nil, fmt.Errorf("demo: log in to PostgreSQL as %s: %w", DemoDBRole, err)
	}
	return &RealDB{
		Kind:    "postgres",
		close:   func() { _ = session.Close(context.Background()) },
		cleanup: func() { drop(); _ = admin.Close(context.Background()) },
		held: func(ctx context.Context) ([]string, error) {
			var login bool
			var sessions, groups int
			err := admin.QueryRow(ctx, `SELECT rolcanlogin,
				(SELECT count(*) FROM pg_stat_activity WHERE usename = $1),
				(SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid)
				FROM pg_roles r WHERE rolname = $1`, DemoDBRole).Scan(&login, &sessions, &groups)
			if err != nil {
				return nil, err
			}
			var out []string
			if login {
				out = append(out, "role can log in")
			}
			if sessions > 0 {
				out = append(out, fmt.Sprintf("%d open session(s)", sessions))
			}
			if groups > 0 {
				out = append(out, fmt.Sprintf("member of %d role(s)", groups))
			}
			return out, nil
		},
	}, nil
}

// SeedMySQL creates the demo login on the MySQL or MariaDB server at dsn (an account allowed
// to create users): an account with a grant, and one connection opened as it.
func SeedMySQL(ctx context.Context, dsn string) (*RealDB, error) {
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, fmt.Errorf("demo: MySQL dsn: %w", err)
	}
	acct := "'" + DemoDBRole + "'@'%'"
	drop := func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(c, "DROP USER IF EXISTS "+acct)
	}
	drop()
	for _, stmt := range []string{
		"CREATE USER " + acct + " IDENTIFIED BY 'demo-login-password'",
		"GRANT SELECT ON *.* TO " + acct,
	} {
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			drop()
			admin.Close()
			return nil, fmt.Errorf("demo: MySQL: %s: %w", stmt, err)
		}
	}
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		drop()
		admin.Close()
		return nil, err
	}
	cfg.User, cfg.Passwd, cfg.DBName = DemoDBRole, "demo-login-password", ""
	sessionDB, err := sql.Open("mysql", cfg.FormatDSN())
	var session *sql.Conn
	if err == nil {
		if session, err = sessionDB.Conn(ctx); err == nil {
			err = session.PingContext(ctx)
		}
	}
	if err != nil {
		drop()
		admin.Close()
		return nil, fmt.Errorf("demo: log in to MySQL as %s: %w", DemoDBRole, err)
	}
	return &RealDB{
		Kind: "mysql",
		close: func() {
			if session != nil {
				_ = session.Close()
			}
			_ = sessionDB.Close()
		},
		cleanup: func() { drop(); _ = admin.Close() },
		held: func(ctx context.Context) ([]string, error) {
			var stmt string
			err := admin.QueryRowContext(ctx, "SHOW CREATE USER "+acct).Scan(&stmt)
			var me *gomysql.MySQLError
			if errors.As(err, &me) && me.Number == 1396 {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			var n int
			if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?", DemoDBRole).Scan(&n); err != nil {
				return nil, err
			}
			var out []string
			if !strings.Contains(strings.ToUpper(stmt), "ACCOUNT LOCK") {
				out = append(out, "account is not locked")
			}
			if n > 0 {
				out = append(out, fmt.Sprintf("%d open connection(s)", n))
			}
			return out, nil
		},
	}, nil
}

// Package mysql locks a leaver's accounts on a MySQL or MariaDB server: every 'user'@'host'
// account of their user name is locked (ALTER USER ... ACCOUNT LOCK), their open connections
// are killed, and their grants are reported. Nothing is dropped, so a rehire can be restored
// with ACCOUNT UNLOCK and the grants are still there to review.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Action kinds.
const (
	// KindLock locks one account: ALTER USER 'user'@'host' ACCOUNT LOCK.
	KindLock = "lock_account"
	// KindKillConnections kills the user's open connections, once no new one can start.
	KindKillConnections = "kill_connections"
)

var kindOrder = []string{KindLock, KindKillConnections}

// User name derivations (see connector.Person.AccountName).
const (
	UserFromEmailLocal = connector.NameFromEmailLocal
	UserFromEmail      = connector.NameFromEmail
	UserFromHandle     = connector.NameFromHandle
)

// Config configures one MySQL or MariaDB server.
type Config struct {
	// Name is the system's name in plans, tickets and audit records.
	Name string
	// DSN is a go-sql-driver DSN (user:password@tcp(host:3306)/db) of an account with
	// CREATE USER (to lock accounts), PROCESS (to see others' connections), CONNECTION ADMIN
	// or SUPER (to kill them) and SELECT on the mysql schema (to list accounts, read their
	// lock flags and show their grants).
	DSN string
	// UserFrom says how the person's user name is derived: email_local (the default), email
	// or handle.
	UserFrom string
}

// Connector is a MySQL or MariaDB server's connector. It is safe for concurrent use.
type Connector struct {
	cfg Config

	mu sync.Mutex
	db *sql.DB
	// flag is where this server keeps the account-lock flag, once found (see lockSource).
	flag *lockFlag
}

// New returns the connector; the DSN is parsed at once and the server first contacted on use.
func New(cfg Config) (*Connector, error) {
	if cfg.Name == "" {
		return nil, errors.New("mysql: a name is required")
	}
	if _, err := gomysql.ParseDSN(cfg.DSN); err != nil {
		return nil, fmt.Errorf("mysql %s: the dsn is not a valid MySQL DSN (user:password@tcp(host:3306)/db)", cfg.Name)
	}
	rule, err := connector.NameRule(cfg.UserFrom)
	if err != nil {
		return nil, fmt.Errorf("mysql %s: role %w", cfg.Name, err)
	}
	cfg.UserFrom = rule
	return &Connector{cfg: cfg}, nil
}

// System returns the configured name.
func (c *Connector) System() string { return c.cfg.Name }

// Close releases the connection pool.
func (c *Connector) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db != nil {
		_ = c.db.Close()
		c.db = nil
	}
}

func (c *Connector) conn() (*sql.DB, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db != nil {
		return c.db, nil
	}
	mc, err := gomysql.ParseDSN(c.cfg.DSN)
	if err != nil {
		return nil, connector.Permanent(fmt.Errorf("mysql %s: the dsn is not valid", c.cfg.Name))
	}
	if mc.Timeout == 0 || mc.Timeout > 15*time.Second {
		mc.Timeout = 15 * time.Second
	}
	dc, err := gomysql.NewConnector(mc)
	if err != nil {
		return nil, connector.Permanent(fmt.Errorf("mysql %s: the dsn is not usable", c.cfg.Name))
	}
	db := sql.OpenDB(dc)
	db.SetMaxOpenConns(4)
	c.db = db
	return db, nil
}

// Check connects, shows the account's grants and tries each read a plan makes, without
// changing anything.
func (c *Connector) Check(ctx context.Context) error {
	db, err := c.conn()
	if err != nil {
		return err
	}
	grants, err := c.showGrants(ctx, db, "CURRENT_USER")
	if err != nil {
		return err
	}
	all := strings.ToUpper(strings.Join(grants, "\n"))
	if strings.Contains(all, "ALL PRIVILEGES ON *.*") {
		return nil
	}
	var missing []string
	for _, need := range []string{"CREATE USER", "PROCESS"} {
		if !strings.Contains(all, need) {
			missing = append(missing, need)
		}
	}
	// MariaDB spells it CONNECTION ADMIN, MySQL 8 CONNECTION_ADMIN.
	if !strings.Contains(all, "SUPER") && !strings.Contains(all, "CONNECTION ADMIN") && !strings.Contains(all, "CONNECTION_ADMIN") {
		missing = append(missing, "CONNECTION ADMIN (or SUPER)")
	}
	denied, err := c.probeReads(ctx, db)
	if err != nil {
		return err
	}
	if denied {
		missing = append(missing, "SELECT ON mysql.* (to list accounts, read their lock flags and show their grants)")
	}
	if len(missing) > 0 {
		return connector.Permanent(fmt.Errorf("mysql %s: the configured account lacks %s", c.cfg.Name, strings.Join(missing, ", ")))
	}
	return nil
}

// probeReads makes each kind of read a plan makes and reports whether any was refused. The
// reads are tried rather than looked for in the grants, because SELECT can be granted on the
// server, the schema or one table, and SHOW GRANTS for another account needs it on the whole
// mysql schema even where SELECT on mysql.user alone would serve the other reads.
func (c *Connector) probeReads(ctx context.Context, db *sql.DB) (denied bool, err error) {
	probe := func(query string) error {
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		return rows.Close()
	}
	if err := probe("SELECT Host FROM mysql.user LIMIT 0"); isDenied(err) {
		return true, nil
	} else if err != nil {
		return false, c.fail("list accounts", err)
	}
	flag, err := c.lockSource(ctx, db)
	if err != nil {
		return false, err
	}
	if err := probe("SELECT " + flag.expr + " FROM " + flag.table + " LIMIT 0"); isDenied(err) {
		return true, nil
	} else if err != nil {
		return false, c.fail("read lock flags", err)
	}
	// No such account exists, so a permitted read answers "no such grant"; a refused one is
	// denied before the server looks.
	err = probe("SHOW GRANTS FOR 'offboard-check'@'probe.invalid'")
	switch {
	case err == nil, isNumber(err, errNonexistingGrant):
		return false, nil
	case isDenied(err):
		return true, nil
	}
	return false, c.fail("show another account's grants", err)
}

// lockFlag is where a server keeps the account-lock flag: MySQL 8 in the account_locked column
// of mysql.user ('Y' or 'N'), MariaDB 10.4 and later in the JSON of mysql.global_priv
// (account_locked true or 1 when locked, false, 0 or absent when not). The flag is read
// rather than looked for in SHOW CREATE USER, whose text also holds the user name and, on
// MySQL, any comment or attribute, any of which may say "account lock".
type lockFlag struct {
	table string // the table read, named in evidence
	expr  string // the flag's expression in that table
}

var (
	mysqlLockFlag   = &lockFlag{table: "mysql.user", expr: "account_locked"}
	mariadbLockFlag = &lockFlag{table: "mysql.global_priv", expr: "JSON_VALUE(Priv, '$.account_locked')"}
)

// lockSource finds, once, where this server keeps the lock flag. MySQL's table is tried first
// because its absence is unambiguous: MariaDB's mysql.user (a view) has no account_locked
// column (error 1054). Trying mysql.global_priv first would not tell the servers apart: to an
// account without SELECT on it, a table that does not exist (MySQL) and one it may not read
// (MariaDB) are both "access denied" (1142), not "doesn't exist" (1146).
func (c *Connector) lockSource(ctx context.Context, db *sql.DB) (*lockFlag, error) {
	c.mu.Lock()
	flag := c.flag
	c.mu.Unlock()
	if flag != nil {
		return flag, nil
	}
	flag = mysqlLockFlag
	rows, err := db.QueryContext(ctx, "SELECT "+mysqlLockFlag.expr+" FROM "+mysqlLockFlag.table+" LIMIT 0")
	switch {
	case isNumber(err, errBadField):
		flag = mariadbLockFlag
	case err != nil:
		return nil, c.fail("find where the server keeps account locks", err)
	default:
		if err := rows.Close(); err != nil {
			return nil, c.fail("find where the server keeps account locks", err)
		}
	}
	c.mu.Lock()
	c.flag = flag
	c.mu.Unlock()
	return flag, nil
}

// parseLockFlag reads the flag's value as either server stores it. A value it does not know is
// an error rather than a guess: reading it as unlocked would plan a lock that could never
// verify, and as locked would let an open account pass.
func parseLockFlag(v sql.NullString) (bool, error) {
	if !v.Valid {
		// MariaDB leaves the key out for an account that was never locked.
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(v.String)) {
	case "y", "1", "true":
		return true, nil
	case "n", "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("unrecognised account_locked value %q", v.String)
}

// userName derives the person's user name, or says why there is none.
func (c *Connector) userName(p connector.Person) (string, string) {
	return p.AccountName(c.cfg.Name, c.cfg.UserFrom)
}

// MySQL and MariaDB error numbers that decide whether a failure is worth retrying.
const (
	errAccessDenied = 1045 // bad password or unknown offboard account
	// errAccessDeniedNoPass is what MariaDB answers instead of 1045 for some failed logins
	// (an account without a password, or whose authentication plugin refused).
	errAccessDeniedNoPass = 1698
	errDBAccessDenied     = 1044
	errTableAccessDenied  = 1142
	errSpecificAccess     = 1227 // a privilege such as SUPER or CONNECTION ADMIN is missing
	errNoSuchUser         = 1396 // ALTER USER on an account that does not exist
	errUnknownThread      = 1094 // KILL of a connection that has ended
	errNonexistingGrant   = 1141 // SHOW GRANTS for an account that does not exist
	errBadField           = 1054 // unknown column
	errAccountLockedMySQL = 3118
	errAccountLockedMaria = 4151
)

// fail wraps err for the step, marking what a retry cannot fix as permanent.
func (c *Connector) fail(what string, err error) error {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		msg := fmt.Errorf("mysql %s: %s: %s (error %d)", c.cfg.Name, what, me.Message, me.Number)
		switch me.Number {
		case errAccessDenied, errAccessDeniedNoPass, errAccountLockedMySQL, errAccountLockedMaria:
			return connector.Permanent(fmt.Errorf("%w: check the dsn's user and password", msg))
		case errDBAccessDenied, errTableAccessDenied, errSpecificAccess:
			return connector.Permanent(fmt.Errorf("%w: see docs/connectors/mysql.md for the privileges offboard needs", msg))
		}
		return msg
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, gomysql.ErrInvalidConn) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("mysql %s: %s: server unreachable: %w", c.cfg.Name, what, err)
	}
	return fmt.Errorf("mysql %s: %s: %w", c.cfg.Name, what, err)
}

// isDenied reports whether err is the server refusing a read for want of a privilege.
func isDenied(err error) bool {
	return isNumber(err, errDBAccessDenied) || isNumber(err, errTableAccessDenied)
}

// literal quotes s as a SQL string. Names holding a quote, a backslash or a control character
// are refused before this point, so the quoting does not depend on the server's SQL mode.
func literal(s string) string { return "'" + s + "'" }

// safeName reports whether a user or host name can be quoted without ambiguity.
func safeName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r == '\'' || r == '\\' || r == '`' || r < 0x20 || r == 0x7f })
}

// account renders 'user'@'host'.
func account(user, host string) string { return literal(user) + "@" + literal(host) }

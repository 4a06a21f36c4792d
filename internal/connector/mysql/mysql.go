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
	// or SUPER (to kill them) and SELECT on mysql.user.
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

// Check connects and shows the account's grants, without changing anything.
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
	if !strings.Contains(all, "SUPER") && !strings.Contains(all, "CONNECTION ADMIN") {
		missing = append(missing, "CONNECTION ADMIN (or SUPER)")
	}
	if len(missing) > 0 {
		return connector.Permanent(fmt.Errorf("mysql %s: the configured account lacks %s", c.cfg.Name, strings.Join(missing, ", ")))
	}
	return nil
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
	errNonexistingGrant   = 1141
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

// literal quotes s as a SQL string. Names holding a quote, a backslash or a control character
// are refused before this point, so the quoting does not depend on the server's SQL mode.
func literal(s string) string { return "'" + s + "'" }

// safeName reports whether a user or host name can be quoted without ambiguity.
func safeName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r == '\'' || r == '\\' || r == '`' || r < 0x20 || r == 0x7f })
}

// account renders 'user'@'host'.
func account(user, host string) string { return literal(user) + "@" + literal(host) }

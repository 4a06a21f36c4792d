// Package postgres locks a leaver's login role on a PostgreSQL server: it stops new logins
// (ALTER ROLE ... NOLOGIN), ends the sessions already open, revokes the role's membership in
// other roles, and reports the objects the role owns for a person to reassign. Nothing is
// dropped: a role that owns tables cannot be dropped without deciding who owns them next, and
// that is a decision for the data's owners, not for an offboarding tool.
//
// Each change is verified through the catalogs (pg_roles, pg_auth_members) and
// pg_stat_activity.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Action kinds.
const (
	// KindNoLogin stops new logins: ALTER ROLE ... NOLOGIN.
	KindNoLogin = "nologin"
	// KindTerminateSessions ends the role's open sessions, once no new one can start.
	KindTerminateSessions = "terminate_sessions"
	// KindRevokeMembership revokes the role's membership in another role.
	KindRevokeMembership = "revoke_membership"
)

var kindOrder = []string{KindNoLogin, KindTerminateSessions, KindRevokeMembership}

// Role derivations: how a person's role name is found (see connector.Person.AccountName).
const (
	RoleFromEmailLocal = connector.NameFromEmailLocal
	RoleFromEmail      = connector.NameFromEmail
	RoleFromHandle     = connector.NameFromHandle
)

// Config configures one PostgreSQL server.
type Config struct {
	// Name is the system's name in plans, tickets and audit records, e.g. payments-db.
	Name string
	// DSN is the connection string of a role allowed to alter roles, revoke memberships and
	// terminate backends (a superuser, or a role with CREATEROLE and pg_signal_backend).
	DSN string
	// RoleFrom says how the person's role name is derived: email_local (the default), email
	// or handle (Person.Handle(Name)).
	RoleFrom string
	// TerminateWait bounds how long pg_terminate_backend waits for each backend to exit; 0
	// means 5 s.
	TerminateWait time.Duration
}

// Connector is a PostgreSQL server's connector. It is safe for concurrent use.
type Connector struct {
	cfg Config

	mu   sync.Mutex
	pool *pgxpool.Pool
}

// New returns the connector. The DSN is parsed at once, so a malformed one is a configuration
// error; the server is first contacted when the connector is used.
func New(cfg Config) (*Connector, error) {
	if cfg.Name == "" {
		return nil, errors.New("postgres: a name is required")
	}
	if _, err := pgxpool.ParseConfig(cfg.DSN); err != nil {
		// pgx's parse errors can quote the connection string, so the cause is not wrapped.
		return nil, fmt.Errorf("postgres %s: the dsn is not a valid PostgreSQL connection string", cfg.Name)
	}
	rule, err := connector.NameRule(cfg.RoleFrom)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: role %w", cfg.Name, err)
	}
	cfg.RoleFrom = rule
	if cfg.TerminateWait <= 0 {
		cfg.TerminateWait = 5 * time.Second
	}
	return &Connector{cfg: cfg}, nil
}

// System returns the configured name.
func (c *Connector) System() string { return c.cfg.Name }

// Close releases the connection pool.
func (c *Connector) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pool != nil {
		c.pool.Close()
		c.pool = nil
	}
}

// db returns the pool, creating it on first use. Offboarding touches a handful of roles, so a
// small pool is plenty and keeps offboard from crowding the server's connection limit.
func (c *Connector) db() (*pgxpool.Pool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pool != nil {
		return c.pool, nil
	}
	pc, err := pgxpool.ParseConfig(c.cfg.DSN)
	if err != nil {
		return nil, connector.Permanent(fmt.Errorf("postgres %s: the dsn is not a valid connection string", c.cfg.Name))
	}
	pc.MaxConns = 4
	if pc.ConnConfig.ConnectTimeout == 0 || pc.ConnConfig.ConnectTimeout > 15*time.Second {
		pc.ConnConfig.ConnectTimeout = 15 * time.Second
	}
	if pc.ConnConfig.RuntimeParams == nil {
		pc.ConnConfig.RuntimeParams = map[string]string{}
	}
	pc.ConnConfig.RuntimeParams["application_name"] = "offboard"
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, c.fail("connect", err)
	}
	c.pool = pool
	return pool, nil
}

// Check connects and reads the privileges offboard needs, without changing anything.
func (c *Connector) Check(ctx context.Context) error {
	db, err := c.db()
	if err != nil {
		return err
	}
	var super, createRole, signal bool
	err = db.QueryRow(ctx, `SELECT rolsuper, rolcreaterole, pg_has_role(current_user, 'pg_signal_backend', 'USAGE')
		FROM pg_roles WHERE rolname = current_user`).Scan(&super, &createRole, &signal)
	if err != nil {
		return c.fail("read own privileges", err)
	}
	var missing []string
	if !super && !createRole {
		missing = append(missing, "CREATEROLE (to alter roles and revoke memberships)")
	}
	if !super && !signal {
		missing = append(missing, "membership in pg_signal_backend (to end sessions)")
	}
	if len(missing) > 0 {
		return connector.Permanent(fmt.Errorf("postgres %s: the configured role lacks %s", c.cfg.Name, strings.Join(missing, " and ")))
	}
	return nil
}

// roleName derives the person's role name, or says why there is none.
func (c *Connector) roleName(p connector.Person) (string, string) {
	return p.AccountName(c.cfg.Name, c.cfg.RoleFrom)
}

// SQLSTATE classes and codes that decide whether a failure is worth retrying.
const (
	classInvalidAuthorization = "28" // bad password, no such login role
	insufficientPrivilege     = "42501"
	undefinedObject           = "42704" // the role is gone
)

// fail wraps err for the step, marking what a retry cannot fix as permanent. pgx's errors do
// not carry the password, but the message is built here without the DSN all the same.
func (c *Connector) fail(what string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		msg := fmt.Errorf("postgres %s: %s: %s (SQLSTATE %s)", c.cfg.Name, what, pgErr.Message, pgErr.Code)
		switch {
		case strings.HasPrefix(pgErr.Code, classInvalidAuthorization):
			return connector.Permanent(fmt.Errorf("%w: check the dsn's user and password", msg))
		case pgErr.Code == insufficientPrivilege:
			return connector.Permanent(fmt.Errorf("%w: the configured role needs CREATEROLE and pg_signal_backend (see docs/connectors/postgres.md)", msg))
		}
		return msg
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connErr) || errors.Is(err, context.DeadlineExceeded) {
		// Retryable: the server may be restarting or the network failing over.
		return fmt.Errorf("postgres %s: %s: server unreachable: %w", c.cfg.Name, what, err)
	}
	return fmt.Errorf("postgres %s: %s: %w", c.cfg.Name, what, err)
}

// ident quotes a role name for SQL.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Apply makes one change. Each is idempotent: a role that already cannot log in, has no
// sessions or is no longer a member succeeds without a change, and so does a role that no
// longer exists (it can neither log in nor hold memberships).
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	name := a.Param("role")
	if name == "" {
		return connector.Permanent(fmt.Errorf("postgres %s: action %s has no role", c.cfg.Name, a.Key()))
	}
	db, err := c.db()
	if err != nil {
		return err
	}
	switch a.Kind {
	case KindNoLogin:
		_, err = db.Exec(ctx, "ALTER ROLE "+ident(name)+" NOLOGIN")
		return c.applyErr(fmt.Sprintf("stop logins for role %s", name), err)
	case KindTerminateSessions:
		return c.terminate(ctx, name)
	case KindRevokeMembership:
		_, err = db.Exec(ctx, "REVOKE "+ident(a.Target)+" FROM "+ident(name))
		return c.applyErr(fmt.Sprintf("revoke membership of role %s in %s", name, a.Target), err)
	}
	return connector.Permanent(fmt.Errorf("postgres %s: unknown action kind %q", c.cfg.Name, a.Kind))
}

// applyErr treats a role that no longer exists as done and classifies everything else.
func (c *Connector) applyErr(what string, err error) error {
	var pgErr *pgconn.PgError
	if err == nil || (errors.As(err, &pgErr) && pgErr.Code == undefinedObject) {
		return nil
	}
	return c.fail(what, err)
}

// terminate ends every session of the role. pg_terminate_backend with a timeout (PostgreSQL
// 14 and later) waits for each backend to exit, so the read-back that follows sees them gone;
// older servers signal and the verification re-reads until they have.
func (c *Connector) terminate(ctx context.Context, name string) error {
	db, err := c.db()
	if err != nil {
		return err
	}
	var version int
	if err := db.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return c.fail("read the server version", err)
	}
	q := `SELECT count(*) FILTER (WHERE NOT pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`
	args := []any{name}
	if version >= 140000 {
		q = `SELECT count(*) FILTER (WHERE NOT pg_terminate_backend(pid, $2)) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`
		args = append(args, c.cfg.TerminateWait.Milliseconds())
	}
	var failed int
	if err := db.QueryRow(ctx, q, args...).Scan(&failed); err != nil {
		return c.fail("end the sessions of role "+name, err)
	}
	if failed > 0 {
		// A backend that did not exit in time is retried; the read-back decides.
		return fmt.Errorf("postgres %s: %d session(s) of role %s did not end within %s", c.cfg.Name, failed, name, c.cfg.TerminateWait)
	}
	return nil
}

// Verify reads the catalogs back.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	ev := connector.Evidence{CheckedAt: time.Now().UTC()}
	name := a.Param("role")
	r, err := c.readRole(ctx, name)
	if err != nil {
		return ev, err
	}
	if r == nil {
		ev.Verified, ev.Observed = true, fmt.Sprintf("role %s does not exist", name)
		ev.Read, _ = json.Marshal(map[string]any{"role": name, "exists": false})
		return ev, nil
	}
	switch a.Kind {
	case KindNoLogin:
		ev.Verified = !r.CanLogin
		ev.Observed = fmt.Sprintf("pg_roles: %s rolcanlogin=%v", name, r.CanLogin)
		ev.Read, _ = json.Marshal(map[string]any{"role": name, "rolcanlogin": r.CanLogin, "rolvaliduntil": r.ValidUntil})
	case KindTerminateSessions:
		ev.Verified = len(r.Sessions) == 0
		ev.Observed = fmt.Sprintf("pg_stat_activity: %d session(s) of %s", len(r.Sessions), name)
		ev.Read, _ = json.Marshal(map[string]any{"role": name, "session_pids": r.Sessions})
	case KindRevokeMembership:
		member := slices.Contains(r.MemberOf, a.Target)
		ev.Verified = !member
		ev.Observed = fmt.Sprintf("pg_auth_members: %s member of %s: %v", name, a.Target, member)
		ev.Read, _ = json.Marshal(map[string]any{"role": name, "member_of": r.MemberOf})
	default:
		return ev, connector.Permanent(fmt.Errorf("postgres %s: unknown action kind %q", c.cfg.Name, a.Kind))
	}
	return ev, nil
}

package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/offboard-dev/offboard/internal/connector"
)

// role is what the catalogs say about one login role.
type role struct {
	Name       string   `json:"name"`
	CanLogin   bool     `json:"can_login"`
	Superuser  bool     `json:"superuser"`
	ValidUntil string   `json:"valid_until,omitempty"`
	MemberOf   []string `json:"member_of"`
	Sessions   []int32  `json:"session_pids"`
}

// readRole reads the role's attributes, memberships and open sessions, or returns nil when
// no such role exists.
func (c *Connector) readRole(ctx context.Context, name string) (*role, error) {
	db, err := c.db()
	if err != nil {
		return nil, err
	}
	r := &role{Name: name}
	var validUntil *string
	err = db.QueryRow(ctx, `SELECT rolcanlogin, rolsuper, rolvaliduntil::text FROM pg_roles WHERE rolname = $1`, name).
		Scan(&r.CanLogin, &r.Superuser, &validUntil)
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, c.fail("read role "+name, err)
	}
	if validUntil != nil {
		r.ValidUntil = *validUntil
	}
	r.MemberOf, err = c.memberships(ctx, name)
	if err != nil {
		return nil, err
	}
	r.Sessions, err = c.sessions(ctx, name)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// memberships lists the roles name is a direct member of, sorted.
func (c *Connector) memberships(ctx context.Context, name string) ([]string, error) {
	db, err := c.db()
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT g.rolname FROM pg_auth_members m
		JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
		WHERE u.rolname = $1 ORDER BY g.rolname`, name)
	if err != nil {
		return nil, c.fail("read memberships of "+name, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, c.fail("read memberships of "+name, err)
	}
	return append([]string{}, out...), nil
}

// sessions lists the process IDs of the role's open sessions, other than offboard's own.
func (c *Connector) sessions(ctx context.Context, name string) ([]int32, error) {
	db, err := c.db()
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid() ORDER BY pid`, name)
	if err != nil {
		return nil, c.fail("read sessions of "+name, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, c.fail("read sessions of "+name, err)
	}
	return append([]int32{}, out...), nil
}

// owned counts what the role owns in the connected database, by kind, and the other databases
// it owns outright; REASSIGN OWNED must be run in each database by a person who decides the
// new owner.
func (c *Connector) owned(ctx context.Context, name string) ([]string, error) {
	db, err := c.db()
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `
		SELECT 'database ' || datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)
		UNION ALL
		SELECT 'schema ' || nspname FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = $1)
		UNION ALL
		SELECT CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'p' THEN 'table ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view '
			WHEN 'S' THEN 'sequence ' WHEN 'f' THEN 'foreign table ' ELSE 'relation ' END || n.nspname || '.' || c.relname
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = $1) AND c.relkind IN ('r','p','v','m','S','f')
		UNION ALL
		SELECT 'function ' || n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE p.proowner = (SELECT oid FROM pg_roles WHERE rolname = $1)
		ORDER BY 1`, name)
	if err != nil {
		return nil, c.fail("read objects owned by "+name, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, c.fail("read objects owned by "+name, err)
	}
	return out, nil
}

// Plan reads the role and plans its lock-down. It changes nothing.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	pl := connector.Plan{System: c.cfg.Name, Actions: []connector.Action{}}
	name, why := c.roleName(p)
	if name == "" {
		pl.NotFound = true
		pl.Notes = append(pl.Notes, why)
		return pl, nil
	}
	r, err := c.readRole(ctx, name)
	if err != nil {
		return pl, err
	}
	if r == nil {
		pl.NotFound = true
		pl.Notes = append(pl.Notes, fmt.Sprintf("no role named %q on this server (derived by %s from %s)", name, c.cfg.RoleFrom, p.Email))
		return pl, nil
	}
	before, _ := json.Marshal(r)
	state := "LOGIN"
	if !r.CanLogin {
		state = "NOLOGIN"
	}
	pl.Account = fmt.Sprintf("role %s (%s, %d open sessions, member of %d roles)", name, state, len(r.Sessions), len(r.MemberOf))
	if r.Superuser {
		pl.Notes = append(pl.Notes, "the role is a superuser: it can undo any of this while a session is open, which is why sessions are ended right after logins stop")
	}
	params := map[string]string{"role": name}
	if r.CanLogin {
		pl.Actions = append(pl.Actions, connector.Action{System: c.cfg.Name, Kind: KindNoLogin, Target: name,
			Detail: fmt.Sprintf("Stop new logins for role %s (ALTER ROLE NOLOGIN)", name), Params: params, Before: string(before)})
	}
	// Sessions are to be ended while the role can still log in, not only when some are open
	// now: one opened between this read and NOLOGIN would otherwise outlive the offboarding.
	// NOLOGIN does not end open sessions, so those are ended even when logins already stopped.
	if r.CanLogin || len(r.Sessions) > 0 {
		detail := fmt.Sprintf("End %d open session(s) of role %s", len(r.Sessions), name)
		if len(r.Sessions) == 0 {
			detail = fmt.Sprintf("End any session of role %s opened before logins stop (none open now)", name)
		}
		pl.Actions = append(pl.Actions, connector.Action{System: c.cfg.Name, Kind: KindTerminateSessions, Target: name,
			Detail: detail, Params: params, Before: string(before), After: []string{KindNoLogin}})
	}
	for _, g := range r.MemberOf {
		pl.Actions = append(pl.Actions, connector.Action{System: c.cfg.Name, Kind: KindRevokeMembership, Target: g,
			Detail: fmt.Sprintf("Revoke membership of role %s in %s", name, g), Params: params,
			Before: fmt.Sprintf(`{"role":%q,"member_of":%q}`, name, g)})
	}
	owned, err := c.owned(ctx, name)
	if err != nil {
		return pl, err
	}
	if len(owned) > 0 {
		pl.Manual = append(pl.Manual, connector.Manual{System: c.cfg.Name, Detail: fmt.Sprintf(
			"Role %s owns %d object(s) in this database (%s). Decide the new owner and run REASSIGN OWNED BY %s TO <owner>; offboard never drops or reassigns data.",
			name, len(owned), summarise(owned, 8), ident(name))})
	}
	connector.SortActions(pl.Actions, kindOrder)
	return pl, nil
}

// summarise lists up to n items and how many more there are.
func summarise(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}

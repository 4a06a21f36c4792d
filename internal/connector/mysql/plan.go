package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// acct is one 'user'@'host' account as the server reports it.
type acct struct {
	User   string   `json:"user"`
	Host   string   `json:"host"`
	Locked bool     `json:"locked"`
	Grants []string `json:"grants"`
}

// accounts lists every account with the user name, with its lock state and grants.
func (c *Connector) accounts(ctx context.Context, user string) ([]acct, error) {
	db, err := c.conn()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host", user)
	if err != nil {
		return nil, c.fail("list the accounts of "+user, err)
	}
	var hosts []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return nil, c.fail("list the accounts of "+user, err)
		}
		hosts = append(hosts, h)
	}
	if err := rows.Close(); err != nil {
		return nil, c.fail("list the accounts of "+user, err)
	}
	if err := rows.Err(); err != nil {
		return nil, c.fail("list the accounts of "+user, err)
	}
	out := make([]acct, 0, len(hosts))
	for _, h := range hosts {
		a := acct{User: user, Host: h}
		if !safeName(h) {
			return nil, connector.Permanent(fmt.Errorf("mysql %s: account %s@%q has a host name offboard will not quote; lock it by hand", c.cfg.Name, user, h))
		}
		if a.Locked, err = c.locked(ctx, db, user, h); err != nil {
			return nil, err
		}
		if a.Grants, err = c.showGrants(ctx, db, account(user, h)); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// locked reads whether an account is locked. SHOW CREATE USER says ACCOUNT LOCK on both MySQL
// and MariaDB, which keep the flag in different tables.
func (c *Connector) locked(ctx context.Context, db *sql.DB, user, host string) (bool, error) {
	var stmt string
	if err := db.QueryRowContext(ctx, "SHOW CREATE USER "+account(user, host)).Scan(&stmt); err != nil {
		return false, c.fail("read account "+user+"@"+host, err)
	}
	// The statement also carries the password hash, which is never kept.
	return strings.Contains(strings.ToUpper(stmt), " ACCOUNT LOCK"), nil
}

// showGrants returns the account's grants with any credential clause removed.
func (c *Connector) showGrants(ctx context.Context, db *sql.DB, who string) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SHOW GRANTS FOR "+who)
	if err != nil {
		return nil, c.fail("read grants for "+who, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, c.fail("read grants for "+who, err)
		}
		out = append(out, withoutCredentials(g))
	}
	if err := rows.Err(); err != nil {
		return nil, c.fail("read grants for "+who, err)
	}
	return out, nil
}

// withoutCredentials removes an IDENTIFIED BY/VIA/WITH clause (MariaDB prints the password
// hash in SHOW GRANTS), keeping what follows it, such as WITH GRANT OPTION.
func withoutCredentials(grant string) string {
	upper := strings.ToUpper(grant)
	i := strings.Index(upper, " IDENTIFIED ")
	if i < 0 {
		return grant
	}
	end := len(grant)
	for _, tail := range []string{" WITH GRANT OPTION", " REQUIRE ", " WITH MAX_", " WITH ADMIN OPTION"} {
		if j := strings.Index(upper[i:], tail); j >= 0 {
			end = min(end, i+j)
		}
	}
	rest := grant[end:]
	return grant[:i] + " IDENTIFIED BY [hidden]" + rest
}

// sessions lists the connection IDs of the user's open connections. A connection already
// killed is not open: the server marks it Killed at once and it can run nothing more, but it
// may stay listed for a moment until its thread exits.
func (c *Connector) sessions(ctx context.Context, user string) ([]int64, error) {
	db, err := c.conn()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID() AND COMMAND <> 'Killed' ORDER BY ID", user)
	if err != nil {
		return nil, c.fail("list the connections of "+user, err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, c.fail("list the connections of "+user, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, c.fail("list the connections of "+user, err)
	}
	return out, nil
}

// Plan reads the user's accounts and connections and plans their lock-down. It changes
// nothing.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	pl := connector.Plan{System: c.cfg.Name, Actions: []connector.Action{}}
	user, why := c.userName(p)
	if user == "" {
		pl.NotFound = true
		pl.Notes = append(pl.Notes, why)
		return pl, nil
	}
	if !safeName(user) {
		pl.NotFound = true
		pl.Notes = append(pl.Notes, fmt.Sprintf("user name %q holds a character offboard will not quote", user))
		pl.Manual = append(pl.Manual, connector.Manual{System: c.cfg.Name, Detail: fmt.Sprintf("Check for and lock accounts of user %q by hand", user)})
		return pl, nil
	}
	accts, err := c.accounts(ctx, user)
	if err != nil {
		return pl, err
	}
	if len(accts) == 0 {
		pl.NotFound = true
		pl.Notes = append(pl.Notes, fmt.Sprintf("no account named %q on this server (derived by %s from %s)", user, c.cfg.UserFrom, p.Email))
		return pl, nil
	}
	sess, err := c.sessions(ctx, user)
	if err != nil {
		return pl, err
	}
	hosts := make([]string, len(accts))
	for i, a := range accts {
		hosts[i] = a.Host
		target := a.User + "@" + a.Host
		before, _ := json.Marshal(a)
		if !a.Locked {
			pl.Actions = append(pl.Actions, connector.Action{System: c.cfg.Name, Kind: KindLock, Target: target,
				Detail: fmt.Sprintf("Lock account '%s'@'%s' (ACCOUNT LOCK)", a.User, a.Host),
				Params: map[string]string{"user": a.User, "host": a.Host}, Before: string(before)})
		}
		for _, g := range a.Grants {
			pl.Kept = append(pl.Kept, connector.Kept{System: c.cfg.Name, Target: target, Detail: g,
				Reason: "grants stay on the locked account so a rehire can be restored exactly; revoke them when the account is dropped"})
		}
	}
	pl.Account = fmt.Sprintf("user %s (%d account(s): %s; %d open connection(s))", user, len(accts), strings.Join(hosts, ", "), len(sess))
	if len(sess) > 0 {
		before, _ := json.Marshal(map[string]any{"user": user, "connection_ids": sess})
		pl.Actions = append(pl.Actions, connector.Action{System: c.cfg.Name, Kind: KindKillConnections, Target: user,
			Detail: fmt.Sprintf("Kill %d open connection(s) of user %s", len(sess), user),
			Params: map[string]string{"user": user}, After: []string{KindLock}, Before: string(before)})
	}
	sort.SliceStable(pl.Kept, func(i, j int) bool { return pl.Kept[i].Target < pl.Kept[j].Target })
	connector.SortActions(pl.Actions, kindOrder)
	return pl, nil
}

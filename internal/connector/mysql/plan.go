package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
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

// accounts lists every account with the user name, with its lock state and grants. An account
// whose host name offboard will not put in a statement is returned apart, in unquotable, with
// its lock state only (read with parameters, which need no quoting): it cannot be locked or
// have its grants shown here, but it must not stop the user's other accounts from being locked.
func (c *Connector) accounts(ctx context.Context, user string) (quotable, unquotable []acct, err error) {
	db, err := c.conn()
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host", user)
	if err != nil {
		return nil, nil, c.fail("list the accounts of "+user, err)
	}
	var hosts []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return nil, nil, c.fail("list the accounts of "+user, err)
		}
		hosts = append(hosts, h)
	}
	if err := rows.Close(); err != nil {
		return nil, nil, c.fail("list the accounts of "+user, err)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, c.fail("list the accounts of "+user, err)
	}
	for _, h := range hosts {
		st, err := c.lockState(ctx, db, user, h)
		if err != nil {
			return nil, nil, err
		}
		if !st.Exists {
			// Dropped since it was listed: there is nothing left to lock.
			continue
		}
		a := acct{User: user, Host: h, Locked: st.Locked}
		if !safeName(h) {
			unquotable = append(unquotable, a)
			continue
		}
		if a.Grants, err = c.showGrants(ctx, db, account(user, h)); err != nil {
			return nil, nil, err
		}
		quotable = append(quotable, a)
	}
	return quotable, unquotable, nil
}

// lock is what the server's lock flag says about one account.
type lock struct {
	Exists bool
	Locked bool
	// Source names where the flag was read, for evidence.
	Source string
}

// lockState reads the account's lock flag where the server keeps it (see lockFlag).
func (c *Connector) lockState(ctx context.Context, db *sql.DB, user, host string) (lock, error) {
	flag, err := c.lockSource(ctx, db)
	if err != nil {
		return lock{}, err
	}
	st := lock{Source: flag.table}
	var v sql.NullString
	err = db.QueryRowContext(ctx, "SELECT "+flag.expr+" FROM "+flag.table+" WHERE User = ? AND Host = ?", user, host).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, c.fail(fmt.Sprintf("read whether account %s@%q is locked", user, host), err)
	}
	st.Exists = true
	if st.Locked, err = parseLockFlag(v); err != nil {
		return st, connector.Permanent(fmt.Errorf("mysql %s: account %s@%q in %s: %w; check it by hand", c.cfg.Name, user, host, flag.table, err))
	}
	return st, nil
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
	accts, unquotable, err := c.accounts(ctx, user)
	if err != nil {
		return pl, err
	}
	if len(accts)+len(unquotable) == 0 {
		pl.NotFound = true
		pl.Notes = append(pl.Notes, fmt.Sprintf("no account named %q on this server (derived by %s from %s)", user, c.cfg.UserFrom, p.Email))
		return pl, nil
	}
	sess, err := c.sessions(ctx, user)
	if err != nil {
		return pl, err
	}
	var hosts, unlocked []string
	for _, a := range accts {
		hosts = append(hosts, a.Host)
		target := a.User + "@" + a.Host
		before, _ := json.Marshal(a)
		if !a.Locked {
			unlocked = append(unlocked, a.Host)
			pl.Actions = append(pl.Actions, connector.Action{System: c.cfg.Name, Kind: KindLock, Target: target,
				Detail: fmt.Sprintf("Lock account '%s'@'%s' (ACCOUNT LOCK)", a.User, a.Host),
				Params: map[string]string{"user": a.User, "host": a.Host}, Before: string(before)})
		}
		for _, g := range a.Grants {
			pl.Kept = append(pl.Kept, connector.Kept{System: c.cfg.Name, Target: target, Detail: g,
				Reason: "grants stay on the locked account so a rehire can be restored exactly; revoke them when the account is dropped"})
		}
	}
	for _, a := range unquotable {
		hosts = append(hosts, strconv.Quote(a.Host))
		why := "its host name holds a quote, backslash or control character, which offboard never puts in a statement"
		detail := fmt.Sprintf("Account '%s'@%q is locked, but offboard did not read its grants (%s): review them by hand", a.User, a.Host, why)
		if !a.Locked {
			unlocked = append(unlocked, a.Host)
			detail = fmt.Sprintf("Lock account '%s'@%q by hand (ALTER USER ... ACCOUNT LOCK), then end its connections and review its grants: %s", a.User, a.Host, why)
		}
		pl.Manual = append(pl.Manual, connector.Manual{System: c.cfg.Name, Detail: detail})
	}
	pl.Account = fmt.Sprintf("user %s (%d account(s): %s; %d open connection(s))", user, len(hosts), strings.Join(hosts, ", "), len(sess))
	// Connections are to be killed while any account is unlocked, not only when some are open
	// now: one opened between this read and the lock would otherwise outlive the offboarding.
	// A lock does not end open connections, so those are killed even when every account is
	// already locked.
	if len(sess) > 0 || len(unlocked) > 0 {
		before, _ := json.Marshal(map[string]any{"user": user, "connection_ids": sess, "unlocked_hosts": unlocked})
		detail := fmt.Sprintf("Kill %d open connection(s) of user %s", len(sess), user)
		if len(sess) == 0 {
			detail = fmt.Sprintf("Kill any connection of user %s opened before the accounts are locked (none open now)", user)
		}
		pl.Actions = append(pl.Actions, connector.Action{System: c.cfg.Name, Kind: KindKillConnections, Target: user,
			Detail: detail, Params: map[string]string{"user": user}, After: []string{KindLock}, Before: string(before)})
	}
	sort.SliceStable(pl.Kept, func(i, j int) bool { return pl.Kept[i].Target < pl.Kept[j].Target })
	connector.SortActions(pl.Actions, kindOrder)
	return pl, nil
}

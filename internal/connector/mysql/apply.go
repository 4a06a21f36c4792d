package mysql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Apply makes one change. Locking a locked account and killing connections that have ended
// succeed without a change; an account that no longer exists cannot be used, so locking it
// succeeds too.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	user, host := a.Param("user"), a.Param("host")
	if !safeName(user) || (a.Kind == KindLock && !safeName(host)) {
		return connector.Permanent(fmt.Errorf("mysql %s: action %s names an account offboard will not quote", c.cfg.Name, a.Key()))
	}
	db, err := c.conn()
	if err != nil {
		return err
	}
	switch a.Kind {
	case KindLock:
		_, err := db.ExecContext(ctx, "ALTER USER "+account(user, host)+" ACCOUNT LOCK")
		if isNumber(err, errNoSuchUser) {
			return nil
		}
		if err != nil {
			return c.fail(fmt.Sprintf("lock account %s@%s", user, host), err)
		}
		return nil
	case KindKillConnections:
		ids, err := c.sessions(ctx, user)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := db.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", id)); err != nil && !isNumber(err, errUnknownThread) {
				return c.fail(fmt.Sprintf("kill connection %d of %s", id, user), err)
			}
		}
		return nil
	}
	return connector.Permanent(fmt.Errorf("mysql %s: unknown action kind %q", c.cfg.Name, a.Kind))
}

func isNumber(err error, n uint16) bool {
	var me *gomysql.MySQLError
	return errors.As(err, &me) && me.Number == n
}

// Verify reads the server back.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	ev := connector.Evidence{CheckedAt: time.Now().UTC()}
	user, host := a.Param("user"), a.Param("host")
	switch a.Kind {
	case KindLock:
		db, err := c.conn()
		if err != nil {
			return ev, err
		}
		st, err := c.lockState(ctx, db, user, host)
		if err != nil {
			return ev, err
		}
		if !st.Exists {
			ev.Verified, ev.Observed = true, fmt.Sprintf("account '%s'@'%s' does not exist", user, host)
			ev.Read, _ = json.Marshal(map[string]any{"user": user, "host": host, "exists": false})
			return ev, nil
		}
		ev.Verified = st.Locked
		ev.Observed = fmt.Sprintf("%s: account '%s'@'%s' account_locked=%v", st.Source, user, host, st.Locked)
		ev.Read, _ = json.Marshal(map[string]any{"user": user, "host": host, "locked": st.Locked, "read_from": st.Source})
	case KindKillConnections:
		ids, err := c.sessions(ctx, user)
		if err != nil {
			return ev, err
		}
		ev.Verified = len(ids) == 0
		ev.Observed = fmt.Sprintf("processlist: %d connection(s) of %s", len(ids), user)
		ev.Read, _ = json.Marshal(map[string]any{"user": user, "connection_ids": ids})
	default:
		return ev, connector.Permanent(fmt.Errorf("mysql %s: unknown action kind %q", c.cfg.Name, a.Kind))
	}
	return ev, nil
}

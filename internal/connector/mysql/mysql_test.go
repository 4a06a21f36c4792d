package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
)

// TestLeaverIsLockedOutAndTheirConnectionKilled is this connector's promise: every account of
// the leaver is locked, their open connection is gone, a new login is refused, their grants
// are reported (and kept for a restore), and a colleague is untouched.
func TestLeaverIsLockedOutAndTheirConnectionKilled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	session, err := e.login(ctx, t, e.leaver, "leaver-pw")
	if err != nil {
		t.Fatalf("the leaver cannot log in before offboarding: %v", err)
	}
	peer, err := e.login(ctx, t, e.peer, "peer-pw")
	if err != nil {
		t.Fatal(err)
	}

	pl, err := e.conn.Plan(ctx, e.person)
	if err != nil {
		t.Fatal(err)
	}
	var locks, kills int
	for _, a := range pl.Actions {
		switch a.Kind {
		case KindLock:
			locks++
		case KindKillConnections:
			kills++
			if len(a.After) != 1 || a.After[0] != KindLock {
				t.Errorf("connections are killed before the accounts are locked: %+v", a)
			}
		}
	}
	if locks != 2 || kills != 1 {
		t.Fatalf("plan = %+v, want two locks (two hosts) and one kill", pl.Actions)
	}
	grants := ""
	for _, k := range pl.Kept {
		grants += k.Detail + "\n"
	}
	if !strings.Contains(grants, "GRANT SELECT, INSERT ON `test`.*") || strings.Contains(grants, "PASSWORD '") {
		t.Errorf("grants not reported, or reported with a password hash:\n%s", grants)
	}

	for _, kind := range []string{KindLock, KindKillConnections} {
		for _, a := range pl.Actions {
			if a.Kind != kind {
				continue
			}
			if err := e.conn.Apply(ctx, a); err != nil {
				t.Fatalf("apply %s: %v", a.Key(), err)
			}
			if ev, err := e.conn.Verify(ctx, a); err != nil || !ev.Verified {
				t.Fatalf("verify %s: %v %+v", a.Key(), err, ev)
			}
		}
	}
	if err := session.PingContext(ctx); err == nil {
		t.Error("the leaver's connection still answers")
	}
	if c, err := e.login(ctx, t, e.leaver, "leaver-pw"); err == nil {
		c.Close()
		t.Error("the leaver can still log in")
	} else if !strings.Contains(strings.ToLower(err.Error()), "locked") {
		t.Errorf("login refused for another reason than the lock: %v", err)
	}
	if err := peer.PingContext(ctx); err != nil {
		t.Errorf("the colleague's connection was killed: %v", err)
	}
	again, err := e.conn.Plan(ctx, e.person)
	if err != nil || len(again.Actions) != 0 {
		t.Errorf("a fresh plan still has actions: %v %+v", err, again.Actions)
	}
}

// TestConnectionOpenedAfterPlanningIsKilled protects the gap between the plan's read and the
// lock: a connection the leaver opens after a plan that saw none must still be killed, and
// every account locked, when the plan is applied.
func TestConnectionOpenedAfterPlanningIsKilled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	pl, err := e.conn.Plan(ctx, e.person)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pl.Account, "0 open connection(s)") {
		t.Fatalf("the plan saw a connection, so it cannot show the gap: %s", pl.Account)
	}
	kills := actionsOf(pl, KindKillConnections)
	if len(kills) != 1 {
		t.Fatalf("no %s planned for a user whose accounts are unlocked: %+v", KindKillConnections, pl.Actions)
	}
	if !slices.Equal(kills[0].After, []string{KindLock}) {
		t.Errorf("%s waits for %v, want [%s] so a client cannot reconnect", KindKillConnections, kills[0].After, KindLock)
	}

	session, err := e.login(ctx, t, e.leaver, "leaver-pw")
	if err != nil {
		t.Fatalf("the leaver cannot log in after planning: %v", err)
	}
	defer session.Close()

	connectortest.ApplyInOrder(ctx, t, e.conn, pl.Actions)

	if err := session.PingContext(ctx); err == nil {
		t.Error("the connection opened after planning still answers after offboarding")
	}
	if c, err := e.login(ctx, t, e.leaver, "leaver-pw"); err == nil {
		c.Close()
		t.Error("the leaver can still log in")
	} else if !strings.Contains(strings.ToLower(err.Error()), "locked") {
		t.Errorf("login refused for another reason than the lock: %v", err)
	}
	if again, err := e.conn.Plan(ctx, e.person); err != nil || len(again.Actions) != 0 {
		t.Errorf("a fresh plan still has actions: %v %+v", err, again.Actions)
	}
}

// TestConnectionsAreKilledWhileAnAccountIsUnlocked protects when kill_connections is planned:
// while any account is unlocked (a connection may open at any moment) and while a connection
// is open (a lock does not end it), but not once neither is true, so a finished offboarding
// plans nothing.
func TestConnectionsAreKilledWhileAnAccountIsUnlocked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		locked    []string // hosts of the leaver's accounts locked before the plan
		connected bool     // a connection is open when the plan reads
		wantLocks int
		wantKill  bool
	}{
		{name: "both accounts unlocked, no connection", wantLocks: 2, wantKill: true},
		{name: "one account unlocked, no connection", locked: []string{"localhost"}, wantLocks: 1, wantKill: true},
		{name: "both locked, a connection still open", locked: []string{"%", "localhost"}, connected: true, wantKill: true},
		{name: "both locked, no connection", locked: []string{"%", "localhost"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			if tc.connected {
				if _, err := e.login(ctx, t, e.leaver, "leaver-pw"); err != nil {
					t.Fatal(err)
				}
			}
			for _, h := range tc.locked {
				exec(t, e.root, fmt.Sprintf("ALTER USER '%s'@'%s' ACCOUNT LOCK", e.leaver, h))
			}
			pl, err := e.conn.Plan(ctx, e.person)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(actionsOf(pl, KindLock)); got != tc.wantLocks {
				t.Errorf("%d %s planned, want %d (%+v)", got, KindLock, tc.wantLocks, pl.Actions)
			}
			if got := len(actionsOf(pl, KindKillConnections)) == 1; got != tc.wantKill {
				t.Errorf("%s planned: %v, want %v (%+v)", KindKillConnections, got, tc.wantKill, pl.Actions)
			}
		})
	}
}

// TestLockIsReadFromTheFlagNotTheName protects lock detection: an account whose user name says
// "account lock" is unlocked until it is locked, so it is planned for locking, does not verify
// before the lock, and verifies after it.
func TestLockIsReadFromTheFlagNotTheName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	name := "offb_" + randomSuffix() + " account lock"
	t.Cleanup(func() { exec(t, e.root, fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", name)) })
	exec(t, e.root, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY 'tricky-pw'", name))
	c, err := New(Config{Name: "analytics-db", DSN: e.admin, UserFrom: UserFromHandle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	person := connector.Person{Email: "tricky@acme.example", Handles: map[string]string{"analytics-db": name}}

	pl, err := c.Plan(ctx, person)
	if err != nil {
		t.Fatal(err)
	}
	locks := actionsOf(pl, KindLock)
	if len(locks) != 1 || locks[0].Param("host") != "%" {
		t.Fatalf("the unlocked account %q is not planned for locking: %+v", name, pl.Actions)
	}
	if ev, err := c.Verify(ctx, locks[0]); err != nil || ev.Verified {
		t.Fatalf("before the lock, Verify = %+v, %v; want not verified", ev, err)
	}
	connectortest.ApplyInOrder(ctx, t, c, pl.Actions)
	if _, err := e.login(ctx, t, name, "tricky-pw"); err == nil || !strings.Contains(strings.ToLower(err.Error()), "locked") {
		t.Errorf("login after offboarding = %v, want refused as locked", err)
	}
	if again, err := c.Plan(ctx, person); err != nil || len(again.Actions) != 0 {
		t.Errorf("a fresh plan still has actions: %v %+v", err, again.Actions)
	}
}

// TestUnquotableHostIsLeftToAPerson protects the leaver's other accounts: one account whose
// host name offboard will not put in a statement is named for a person to lock, and the rest
// are still locked, instead of the whole plan failing.
func TestUnquotableHostIsLeftToAPerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	const odd = "db'host.example"
	oddAcct := fmt.Sprintf("'%s'@'%s'", e.leaver, strings.ReplaceAll(odd, "'", "''"))
	t.Cleanup(func() { exec(t, e.root, "DROP USER IF EXISTS "+oddAcct) })
	exec(t, e.root, "CREATE USER "+oddAcct+" IDENTIFIED BY 'leaver-pw'")

	pl, err := e.conn.Plan(ctx, e.person)
	if err != nil {
		t.Fatalf("plan with one unquotable host = %v, want the other accounts planned", err)
	}
	var hosts []string
	for _, a := range actionsOf(pl, KindLock) {
		hosts = append(hosts, a.Param("host"))
	}
	if !slices.Equal(hosts, []string{"%", "localhost"}) || len(actionsOf(pl, KindKillConnections)) != 1 {
		t.Errorf("planned %+v; want the %% and localhost accounts locked and connections killed", pl.Actions)
	}
	if len(pl.Manual) != 1 || !strings.Contains(pl.Manual[0].Detail, odd) || !strings.Contains(pl.Manual[0].Detail, "Lock account") {
		t.Errorf("manual work = %+v; want one item asking a person to lock the account at %q", pl.Manual, odd)
	}
	connectortest.ApplyInOrder(ctx, t, e.conn, pl.Actions)

	// Once a person has locked it, no action is left and only its unread grants are mentioned.
	exec(t, e.root, "ALTER USER "+oddAcct+" ACCOUNT LOCK")
	again, err := e.conn.Plan(ctx, e.person)
	if err != nil || len(again.Actions) != 0 {
		t.Errorf("a fresh plan after the person locked it = %v %+v, want no action", err, again.Actions)
	}
	if len(again.Manual) != 1 || !strings.Contains(again.Manual[0].Detail, "is locked") {
		t.Errorf("manual work after the lock = %+v; want its grants left for review", again.Manual)
	}
}

// TestLockFlagValues protects reading the flag as each server stores it (MariaDB's JSON value
// in mysql.global_priv, MySQL's 'Y'/'N'), and refusing to guess at anything else.
func TestLockFlagValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       sql.NullString
		want    bool
		wantErr bool
	}{
		{name: "MariaDB, never locked (no key)", v: sql.NullString{}},
		{name: "MariaDB, locked", v: sql.NullString{String: "1", Valid: true}, want: true},
		{name: "MariaDB, locked as JSON true", v: sql.NullString{String: "true", Valid: true}, want: true},
		{name: "MariaDB, unlocked", v: sql.NullString{String: "0", Valid: true}},
		{name: "MariaDB, unlocked as JSON false", v: sql.NullString{String: "false", Valid: true}},
		{name: "MySQL, locked", v: sql.NullString{String: "Y", Valid: true}, want: true},
		{name: "MySQL, unlocked", v: sql.NullString{String: "N", Valid: true}},
		{name: "unknown value", v: sql.NullString{String: "maybe", Valid: true}, wantErr: true},
		{name: "empty value", v: sql.NullString{String: "", Valid: true}, wantErr: true},
	}
	for _, tc := range tests {
		got, err := parseLockFlag(tc.v)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("%s: parseLockFlag(%+v) = %v, %v; want %v (an error: %v)", tc.name, tc.v, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestDocumentedPrivilegesSuffice protects the permissions in docs/connectors/mysql.md: an
// account with exactly those grants passes Check and offboards the leaver, and one without
// SELECT on the mysql schema (needed to read lock flags and other accounts' grants) is named
// by Check.
func TestDocumentedPrivilegesSuffice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		grants      []string
		wantMissing string
	}{
		{name: "the documented grants", grants: []string{"GRANT SELECT ON mysql.* TO %s"}},
		{name: "SELECT on mysql.user alone", grants: []string{"GRANT SELECT ON mysql.user TO %s"}, wantMissing: "SELECT ON mysql.*"},
		{name: "no SELECT on the mysql schema", wantMissing: "SELECT ON mysql.*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			kill := "CONNECTION_ADMIN"
			if e.isMariaDB(t) {
				kill = "CONNECTION ADMIN"
			}
			c := e.newAdmin(t, append([]string{"GRANT CREATE USER, PROCESS, " + kill + " ON *.* TO %s"}, tc.grants...)...)
			err := c.Check(ctx)
			if tc.wantMissing != "" {
				if err == nil || !connector.IsPermanent(err) || !strings.Contains(err.Error(), tc.wantMissing) {
					t.Errorf("Check = %v, want a permanent error naming %s", err, tc.wantMissing)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check with the documented grants = %v", err)
			}
			session, err := e.login(ctx, t, e.leaver, "leaver-pw")
			if err != nil {
				t.Fatal(err)
			}
			pl, err := c.Plan(ctx, e.person)
			if err != nil {
				t.Fatalf("plan with the documented grants: %v", err)
			}
			connectortest.ApplyInOrder(ctx, t, c, pl.Actions)
			if err := session.PingContext(ctx); err == nil {
				t.Error("the leaver's connection still answers")
			}
		})
	}
}

func TestGrantsLoseTheirCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"GRANT USAGE ON *.* TO `dana`@`%` IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'",
			"GRANT USAGE ON *.* TO `dana`@`%` IDENTIFIED BY [hidden]"},
		{"GRANT ALL PRIVILEGES ON *.* TO `ops`@`%` IDENTIFIED VIA ed25519 USING 'abc' WITH GRANT OPTION",
			"GRANT ALL PRIVILEGES ON *.* TO `ops`@`%` IDENTIFIED BY [hidden] WITH GRANT OPTION"},
		{"GRANT SELECT ON `test`.* TO `dana`@`%`", "GRANT SELECT ON `test`.* TO `dana`@`%`"},
	}
	for _, tc := range tests {
		if got := withoutCredentials(tc.in); got != tc.want {
			t.Errorf("withoutCredentials(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestUnquotableNamesAreRefused protects the SQL offboard builds: a user or host name with a
// quote or backslash is never spliced into a statement.
func TestUnquotableNamesAreRefused(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Name: "analytics-db", DSN: "offboard:pw@tcp(db:3306)/x", UserFrom: UserFromHandle})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := c.Plan(context.Background(), connector.Person{Email: "x@acme.example", Handles: map[string]string{"analytics-db": "x' OR '1'='1"}})
	if err != nil || !pl.NotFound || len(pl.Manual) != 1 {
		t.Errorf("plan for an unquotable name = %+v, %v; want a finding for a person, without contacting the server", pl, err)
	}
	err = c.Apply(context.Background(), connector.Action{System: "analytics-db", Kind: KindLock, Target: "x", Params: map[string]string{"user": "x", "host": "%' OR 1=1 -- "}})
	if err == nil || !connector.IsPermanent(err) {
		t.Errorf("Apply with an unquotable host = %v, want a permanent refusal", err)
	}
}

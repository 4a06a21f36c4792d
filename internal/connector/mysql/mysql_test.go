package mysql

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
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

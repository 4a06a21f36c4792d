package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
)

// TestLeaverIsLockedOutAndTheirSessionEnds is the promise of this connector: after offboarding
// the leaver's open session is gone, a new login is refused, their memberships are revoked,
// what they own is reported for a person, and a colleague is untouched.
func TestLeaverIsLockedOutAndTheirSessionEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	session, err := e.login(ctx, t, e.leaver)
	if err != nil {
		t.Fatalf("the leaver cannot log in before offboarding: %v", err)
	}
	colleague, err := e.login(ctx, t, e.other)
	if err != nil {
		t.Fatal(err)
	}
	defer colleague.Close(ctx)

	pl, err := e.conn.Plan(ctx, e.person)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, a := range pl.Actions {
		kinds[a.Kind]++
	}
	if kinds[KindNoLogin] != 1 || kinds[KindTerminateSessions] != 1 || kinds[KindRevokeMembership] != 2 {
		t.Fatalf("plan kinds = %v, want nologin, terminate_sessions and two revocations: %+v", kinds, pl)
	}
	if len(pl.Manual) != 1 || !strings.Contains(pl.Manual[0].Detail, "owns 1 object") || !strings.Contains(pl.Manual[0].Detail, "REASSIGN OWNED BY") {
		t.Errorf("owned table not reported for a person: %+v", pl.Manual)
	}

	connectortest.ApplyInOrder(ctx, t, e.conn, pl.Actions)

	if err := session.Ping(ctx); err == nil {
		t.Error("the leaver's session still answers after offboarding")
	}
	if c, err := e.login(ctx, t, e.leaver); err == nil {
		c.Close(ctx)
		t.Error("the leaver can still log in")
	} else if !strings.Contains(err.Error(), "not permitted to log in") {
		t.Errorf("login refused for another reason than NOLOGIN: %v", err)
	}
	if err := colleague.Ping(ctx); err != nil {
		t.Errorf("the colleague's session was ended: %v", err)
	}
	again, err := e.conn.Plan(ctx, e.person)
	if err != nil || len(again.Actions) != 0 {
		t.Errorf("a fresh plan still has actions: %v %+v", err, again.Actions)
	}
	snap, _ := e.snapshot(ctx)
	if !strings.Contains(snap, e.other+" login=true groups="+e.groups[0]) {
		t.Errorf("the colleague's role changed: %s", snap)
	}
}

// TestSessionOpenedAfterPlanningIsEnded protects the gap between the plan's read and NOLOGIN:
// a session the leaver opens after a plan that saw none must still be ended, and the role
// locked out, when the plan is applied.
func TestSessionOpenedAfterPlanningIsEnded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	pl, err := e.conn.Plan(ctx, e.person)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pl.Account, "0 open sessions") {
		t.Fatalf("the plan saw a session, so it cannot show the gap: %s", pl.Account)
	}
	terminate := actionOf(pl, KindTerminateSessions)
	if terminate == nil {
		t.Fatalf("no %s planned for a role that can still log in: %+v", KindTerminateSessions, pl.Actions)
	}
	if !slices.Equal(terminate.After, []string{KindNoLogin}) {
		t.Errorf("%s waits for %v, want [%s] so a client cannot reconnect", KindTerminateSessions, terminate.After, KindNoLogin)
	}

	session, err := e.login(ctx, t, e.leaver)
	if err != nil {
		t.Fatalf("the leaver cannot log in after planning: %v", err)
	}
	defer session.Close(context.Background())

	connectortest.ApplyInOrder(ctx, t, e.conn, pl.Actions)

	if err := session.Ping(ctx); err == nil {
		t.Error("the session opened after planning still answers after offboarding")
	}
	if c, err := e.login(ctx, t, e.leaver); err == nil {
		c.Close(ctx)
		t.Error("the leaver can still log in")
	} else if !strings.Contains(err.Error(), "not permitted to log in") {
		t.Errorf("login refused for another reason than NOLOGIN: %v", err)
	}
	if again, err := e.conn.Plan(ctx, e.person); err != nil || len(again.Actions) != 0 {
		t.Errorf("a fresh plan still has actions: %v %+v", err, again.Actions)
	}
}

// TestSessionsAreEndedWhileTheRoleCanLogIn protects when terminate_sessions is planned: while
// the role can log in (a session may open at any moment) and while a session is open (NOLOGIN
// does not end it), but not once neither is true, so a finished offboarding plans nothing.
func TestSessionsAreEndedWhileTheRoleCanLogIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		nologin       bool // the role is NOLOGIN before the plan
		session       bool // a session is open when the plan reads
		wantNoLogin   bool
		wantTerminate bool
	}{
		{name: "can log in, no session open", wantNoLogin: true, wantTerminate: true},
		{name: "can log in, a session open", session: true, wantNoLogin: true, wantTerminate: true},
		{name: "NOLOGIN, a session still open", nologin: true, session: true, wantTerminate: true},
		{name: "NOLOGIN, no session open", nologin: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			if tc.session {
				session, err := e.login(ctx, t, e.leaver)
				if err != nil {
					t.Fatal(err)
				}
				defer session.Close(context.Background())
			}
			if tc.nologin {
				exec(t, e.admin, "ALTER ROLE "+ident(e.leaver)+" NOLOGIN")
			}
			pl, err := e.conn.Plan(ctx, e.person)
			if err != nil {
				t.Fatal(err)
			}
			if got := actionOf(pl, KindNoLogin) != nil; got != tc.wantNoLogin {
				t.Errorf("%s planned: %v, want %v (%+v)", KindNoLogin, got, tc.wantNoLogin, pl.Actions)
			}
			if got := actionOf(pl, KindTerminateSessions) != nil; got != tc.wantTerminate {
				t.Errorf("%s planned: %v, want %v (%+v)", KindTerminateSessions, got, tc.wantTerminate, pl.Actions)
			}
		})
	}
}

// actionOf returns the plan's first action of kind, or nil.
func actionOf(pl connector.Plan, kind string) *connector.Action {
	for i := range pl.Actions {
		if pl.Actions[i].Kind == kind {
			return &pl.Actions[i]
		}
	}
	return nil
}

func TestRoleNames(t *testing.T) {
	t.Parallel()
	p := connector.Person{Email: "Dana.Whitfield@acme.example", Handles: map[string]string{"payments-db": "dwhitfield"}}
	tests := []struct {
		from, want, why string
		person          connector.Person
	}{
		{from: RoleFromEmailLocal, person: connector.Person{Email: "Dana.Whitfield@acme.example"}, want: "dana.whitfield"},
		{from: RoleFromEmailLocal, person: p, want: "dwhitfield"},
		{from: RoleFromEmail, person: p, want: "dana.whitfield@acme.example"},
		{from: RoleFromHandle, person: p, want: "dwhitfield"},
		{from: RoleFromHandle, person: connector.Person{Email: "x@acme.example"}, why: "no payments-db handle"},
		{from: RoleFromEmailLocal, person: connector.Person{WorkerID: "W1"}, why: "no email"},
	}
	for _, tc := range tests {
		c, err := New(Config{Name: "payments-db", DSN: "postgres://offboard@db/app", RoleFrom: tc.from})
		if err != nil {
			t.Fatal(err)
		}
		got, why := c.roleName(tc.person)
		if got != tc.want || (tc.why != "" && !strings.Contains(why, tc.why)) {
			t.Errorf("%s for %+v = %q (%q), want %q (%q)", tc.from, tc.person, got, why, tc.want, tc.why)
		}
	}
}

// TestBadDSNIsAConfigurationErrorWithoutTheSecret protects start-up: a DSN that does not parse
// is refused at once, and the refusal does not repeat it.
func TestBadDSNIsAConfigurationErrorWithoutTheSecret(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Name: "payments-db", DSN: "postgres://u:" + dsnPassword + "@db:notaport/app"})
	if err == nil || strings.Contains(err.Error(), dsnPassword) {
		t.Fatalf("New with a bad DSN = %v", err)
	}
}

package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
)

// TestConformance runs the shared suite against the real PostgreSQL server: each check gets
// its own throwaway roles, with the leaver holding an open session throughout.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		session, err := e.login(ctx, t, e.leaver)
		if err != nil {
			t.Fatalf("open the leaver's session: %v", err)
		}
		t.Cleanup(func() { _ = session.Close(context.Background()) })
		bad, err := New(Config{Name: "payments-db", DSN: withUser(t, e.admin, "offb_nobody_"+randomSuffix())})
		if err != nil {
			t.Fatal(err)
		}
		unreachable, err := New(Config{Name: "payments-db", DSN: closedDSN(t, e.admin)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(bad.Close)
		t.Cleanup(unreachable.Close)
		return connectortest.Fixture{
			Connector:      e.conn,
			BadCredentials: bad,
			Unreachable:    unreachable,
			Snapshot:       e.snapshot,
			Person:         e.person,
			Unknown:        connector.Person{Email: "offb_nobody_" + randomSuffix() + "@acme.example"},
			Secret:         dsnPassword,
		}
	})
}

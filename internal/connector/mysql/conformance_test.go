package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
)

// TestConformance runs the shared suite against the real MySQL/MariaDB server, each check with
// its own throwaway accounts and the leaver connected throughout.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := e.login(ctx, t, e.leaver, "leaver-pw"); err != nil {
			t.Fatalf("open the leaver's connection: %v", err)
		}
		bad, err := New(Config{Name: "analytics-db", DSN: as(t, e.root, "offb_nobody_"+randomSuffix(), "wrong-"+adminPassword)})
		if err != nil {
			t.Fatal(err)
		}
		unreachable, err := New(Config{Name: "analytics-db", DSN: closedDSN(t, e.admin)})
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
			Secret:         adminPassword,
			OtherSecrets:   []string{"wrong-" + adminPassword},
		}
	})
}

package ldap

import (
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/ldap/slapd"
)

// TestConformance runs the shared suite against a real slapd: one server for the run, each
// check with its own subtree holding a leaver in a groupOfNames, a groupOfUniqueNames and a
// posixGroup beside a colleague who must be left alone.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := slapd.Start(t)
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t, srv)
		return connectortest.Fixture{
			Connector:      e.connector(t, nil),
			BadCredentials: e.connector(t, func(c *Config) { c.BindPassword = wrongPassword }),
			Unreachable:    e.connector(t, func(c *Config) { c.URL = closedURL(t) }),
			Snapshot:       e.tree.Snapshot,
			Person:         e.danaPerson,
			Unknown:        connector.Person{Email: "nobody@example.org", Name: "No Body"},
			Secret:         slapd.WriterPW,
			OtherSecrets:   []string{wrongPassword},
		}
	})
}

package scim

import (
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/scim/scimsim"
)

// TestConformance runs the suite every connector must pass, against one named SCIM app.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t, scimsim.Options{Name: "zoom"}, Config{})
		return connectortest.Fixture{
			Connector:      e.conn,
			BadCredentials: e.with(t, Config{Token: wrongToken}),
			Person:         dana,
			Unknown:        connector.Person{Email: "nobody@acme.example", Name: "No Body"},
			Secret:         secretToken,
			OtherSecrets:   []string{wrongToken},
			Faults:         e.sim.Faults,
			Recorder:       e.sim.Recorder,
		}
	})
}

// TestConformanceDeleteMode runs the suite with deprovision: delete, where the one action is
// a deletion verified by a 404.
func TestConformanceDeleteMode(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t, scimsim.Options{Name: "notion", DeleteMode: true}, Config{Deprovision: ModeDelete})
		return connectortest.Fixture{
			Connector:      e.conn,
			BadCredentials: e.with(t, Config{Token: wrongToken, Deprovision: ModeDelete}),
			Person:         dana,
			Unknown:        connector.Person{Email: "nobody@acme.example"},
			Secret:         secretToken,
			OtherSecrets:   []string{wrongToken},
			Faults:         e.sim.Faults,
			Recorder:       e.sim.Recorder,
		}
	})
}

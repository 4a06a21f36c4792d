package webhook

import (
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
)

// TestConformance runs the suite every connector must pass, against the example tool we ship
// (through webhooksim), so the example a company copies is proven to work with offboard.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t)
		return connectortest.Fixture{
			Connector:      e.conn,
			BadCredentials: e.connector(t, wrongSecret),
			Person:         dana,
			Unknown:        connector.Person{Email: "nobody@acme.example", Name: "No Body"},
			Secret:         sharedSecret,
			OtherSecrets:   []string{wrongSecret},
			Faults:         e.sim.Faults,
			Recorder:       e.sim.Recorder,
			ReadOnly:       readOnly,
		}
	})
}

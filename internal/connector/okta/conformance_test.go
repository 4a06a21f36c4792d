package okta

import (
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/okta/oktasim"
)

// TestConformance runs the suite every connector must pass against its simulator.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t, oktasim.Options{}, nil)
		return connectortest.Fixture{
			Connector:      e.conn,
			BadCredentials: e.connector(wrongToken),
			Person:         jane,
			Unknown:        connector.Person{Email: "nobody@acme.example", Name: "No Body"},
			Secret:         secretToken,
			OtherSecrets:   []string{wrongToken},
			Faults:         e.sim.Faults,
			Recorder:       e.sim.Recorder,
		}
	})
}

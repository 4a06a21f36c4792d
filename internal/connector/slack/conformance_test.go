package slack

import (
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/slack/slacksim"
)

func fixture(t *testing.T, opts slacksim.Options) connectortest.Fixture {
	e := newEnv(t, opts)
	return connectortest.Fixture{
		Connector:      e.conn,
		BadCredentials: e.connector(Config{Token: wrongToken}),
		Person:         jane,
		Unknown:        connector.Person{Email: "nobody@acme.example", Name: "No Body"},
		Secret:         secretToken,
		OtherSecrets:   []string{wrongToken},
		Faults:         e.sim.Faults,
		Recorder:       e.sim.Recorder,
		ReadOnly:       readOnly,
	}
}

// TestConformanceGrid runs the suite on Enterprise Grid: sessions reset, then deactivation.
func TestConformanceGrid(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		return fixture(t, slacksim.Options{EnterpriseGrid: true})
	})
}

// TestConformanceBusinessPlus runs the suite off Grid, where only deactivation is possible.
func TestConformanceBusinessPlus(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		return fixture(t, slacksim.Options{})
	})
}

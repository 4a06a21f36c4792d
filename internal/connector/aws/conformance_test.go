package aws

import (
	"net/http"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/aws/awssim"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
)

// TestConformance runs the suite every connector must pass against its simulator.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t, awssim.Options{}, Config{})
		return connectortest.Fixture{
			Connector:      e.conn,
			BadCredentials: e.connector(t, wrongSecret, Config{MatchTag: "email"}),
			Person:         jane,
			Unknown:        connector.Person{Email: "nobody@acme.example", Name: "No Body"},
			Secret:         secretKey,
			OtherSecrets:   []string{wrongSecret},
			Faults:         e.sim.Faults,
			Recorder:       e.sim.Recorder,
			ReadOnly:       awssim.ReadOnly,
			ThrottleStatus: http.StatusBadRequest,
		}
	})
}

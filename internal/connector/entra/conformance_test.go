package entra

import (
	"net/http"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/entra/entrasim"
	"github.com/offboard-dev/offboard/internal/sim"
)

// TestConformance runs the suite every connector must pass against its simulator.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t, entrasim.Options{MaxPage: 3})
		return connectortest.Fixture{
			Connector:      e.conn,
			BadCredentials: e.connector(t, wrongSecret),
			Person:         jane,
			Unknown:        connector.Person{Email: "nobody@acme.example", Name: "No Body"},
			Secret:         secret,
			OtherSecrets:   []string{wrongSecret},
			Faults:         e.sim.Faults,
			Recorder:       e.sim.Recorder,
			// Getting an access token is a POST that changes nothing in the tenant.
			ReadOnly: func(c sim.Call) bool {
				return c.Method == http.MethodGet || (c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/oauth2/v2.0/token"))
			},
		}
	})
}

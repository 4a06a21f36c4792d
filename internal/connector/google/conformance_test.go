package google

import (
	"net/http"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/google/googlesim"
	"github.com/offboard-dev/offboard/internal/sim"
)

// TestConformance runs the suite every connector must pass against its simulator.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t, googlesim.Options{})
		apiOnly(e.sim)
		good, wrong := serviceAccounts(t)
		return connectortest.Fixture{
			Connector:      e.conn,
			BadCredentials: e.withKey(t, wrong),
			Person:         jane,
			Unknown:        connector.Person{Email: "nobody@acme.example", Name: "No Body", Manager: managerEmail},
			Secret:         keyLine(good),
			OtherSecrets:   []string{keyLine(wrong)},
			Faults:         e.sim.Faults,
			Recorder:       e.sim.Recorder,
			// Exchanging the signed assertion for an access token changes nothing.
			ReadOnly: func(c sim.Call) bool {
				return c.Method == http.MethodGet || (c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/token"))
			},
			ThrottleStatus: http.StatusForbidden,
		}
	})
}

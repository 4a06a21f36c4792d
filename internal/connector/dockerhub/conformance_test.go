package dockerhub

import (
	"net/http"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/dockerhub/dockerhubsim"
	"github.com/offboard-dev/offboard/internal/sim"
)

// readOnly counts the token exchange as a read: POST /v2/auth/token issues a short-lived JWT
// and changes nothing in the organization. Every other POST, PUT, PATCH or DELETE is a write.
func readOnly(c sim.Call) bool {
	if c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/v2/auth/token") {
		return true
	}
	return c.Method == http.MethodGet || c.Method == http.MethodHead
}

// TestConformance runs the suite every connector must pass against its simulator, once with
// each of the throttle headers Docker Hub has documented.
func TestConformance(t *testing.T) {
	t.Parallel()
	for name, legacy := range map[string]bool{"RetryAfter": false, "XRetryAfter": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
				e := newEnv(t, dockerhubsim.Options{LegacyRetryHeader: legacy, MaxPageSize: 1})
				return connectortest.Fixture{
					Connector:      e.conn,
					BadCredentials: e.connector(t, wrongOAT),
					Person:         dana,
					Unknown:        connector.Person{Email: "nobody@acme.example", Name: "No Body"},
					Secret:         secretOAT,
					OtherSecrets:   []string{wrongOAT},
					Faults:         e.sim.Faults,
					Recorder:       e.sim.Recorder,
					ReadOnly:       readOnly,
				}
			})
		})
	}
}

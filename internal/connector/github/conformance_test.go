package github

import (
	"net/http"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/github/githubsim"
	"github.com/offboard-dev/offboard/internal/sim"
)

// TestConformance runs the suite every connector must pass against its simulator, with
// GitHub's 403 secondary-rate-limit response as the throttle.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t, githubsim.Options{SAML: true})
		return connectortest.Fixture{
			Connector:      e.conn,
			BadCredentials: e.connector(t, wrongToken),
			Person:         dana,
			Unknown:        connector.Person{Email: "nobody@acme.example", Name: "No Body"},
			Secret:         secretToken,
			OtherSecrets:   []string{wrongToken},
			Faults:         e.sim.Faults,
			Recorder:       e.sim.Recorder,
			ThrottleStatus: http.StatusForbidden,
			ReadOnly:       readOnly,
		}
	})
}

// TestConformance429 runs the suite with the 429 form of the secondary rate limit.
func TestConformance429(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
		e := newEnv(t, githubsim.Options{SAML: true, ThrottleStatus: http.StatusTooManyRequests})
		return connectortest.Fixture{
			Connector: e.conn, BadCredentials: e.connector(t, wrongToken),
			Person: dana, Unknown: connector.Person{Email: "nobody@acme.example"},
			Secret: secretToken, OtherSecrets: []string{wrongToken},
			Faults: e.sim.Faults, Recorder: e.sim.Recorder, ReadOnly: readOnly,
		}
	})
}

// readOnly counts GraphQL POSTs as reads: the connector only ever sends queries there, never
// mutations (the simulator knows no mutation and would answer it with an error).
func readOnly(c sim.Call) bool {
	return c.Method == http.MethodGet || c.Method == http.MethodHead ||
		(c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/graphql"))
}

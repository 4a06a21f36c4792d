package jenkins

import (
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/jenkins/jenkinssim"
)

// TestConformance runs the suite every connector must pass, in both modes, and against a
// Jenkins that demands a CSRF crumb even from API-token clients.
func TestConformance(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		mode string
		opts jenkinssim.Options
	}{
		"disable":             {mode: ModeDisable},
		"delete":              {mode: ModeDelete},
		"delete-crumb-legacy": {mode: ModeDelete, opts: jenkinssim.Options{CrumbForTokens: true, LegacyConfigurePage: true}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
				e := newEnv(t, tc.opts, tc.mode)
				return connectortest.Fixture{
					Connector:      e.conn,
					BadCredentials: e.connector(t, wrongToken, tc.mode),
					Person:         dana,
					Unknown:        connector.Person{Email: "nobody@acme.example", Name: "No Body"},
					Secret:         adminToken,
					OtherSecrets:   []string{wrongToken, basic(adminToken), basic(wrongToken)},
					Faults:         e.sim.Faults,
					Recorder:       e.sim.Recorder,
				}
			})
		})
	}
}

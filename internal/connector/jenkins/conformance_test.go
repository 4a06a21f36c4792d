package jenkins

import (
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/jenkins/jenkinssim"
)

// TestConformance runs the suite every connector must pass, in both modes, against a Jenkins
// that demands a CSRF crumb even from API-token clients, and against a current Jenkins without
// the people list, where the leaver is known by their jenkins handle (as in the demo) and an
// unknown person must come out not found rather than failing.
func TestConformance(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		mode   string
		opts   jenkinssim.Options
		person connector.Person
	}{
		"disable":             {mode: ModeDisable, opts: jenkinssim.Options{PeopleAPI: true}, person: dana},
		"delete":              {mode: ModeDelete, opts: jenkinssim.Options{PeopleAPI: true}, person: dana},
		"delete-crumb-legacy": {mode: ModeDelete, opts: jenkinssim.Options{CrumbForTokens: true, LegacyConfigurePage: true, PeopleAPI: true}, person: dana},
		"disable-no-people-list": {mode: ModeDisable, person: connector.Person{WorkerID: dana.WorkerID, Email: dana.Email, Name: dana.Name,
			Handles: map[string]string{"jenkins": "dscully"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
				e := newEnv(t, tc.opts, tc.mode)
				return connectortest.Fixture{
					Connector:      e.conn,
					BadCredentials: e.connector(t, wrongToken, tc.mode),
					Person:         tc.person,
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

// Package connectortest is the conformance suite every connector must pass against its
// simulator: plan reads only; apply is idempotent; verify reads back; a 429 with the vendor's
// headers paces instead of failing; a 401 is permanent; no secret appears in errors, plans or
// evidence.
//
// A connector's test calls Run with a function that starts a fresh simulator and returns the
// Fixture for it:
//
//	func TestConformance(t *testing.T) {
//		connectortest.Run(t, func(t *testing.T) connectortest.Fixture {
//			s := oktasim.New(...)
//			srv := httptest.NewServer(s)
//			t.Cleanup(srv.Close)
//			return connectortest.Fixture{Connector: okta.New(...), ...}
//		})
//	}
package connectortest

import (
	"context"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/sim"
)

// Fixture is one connector wired to a fresh simulator holding a seeded leaver.
type Fixture struct {
	// Connector has good credentials.
	Connector connector.Connector
	// BadCredentials talks to the same simulator with a wrong secret.
	BadCredentials connector.Connector
	// Person holds at least one of every kind of access the connector removes.
	Person connector.Person
	// Unknown has no account in the system.
	Unknown connector.Person
	// Secret is the credential Connector uses; it must never appear in errors, plans or evidence.
	Secret string
	// OtherSecrets are further strings that must never appear either: BadCredentials' wrong
	// secret, or a derived form such as the encoded value of a Basic Authorization header.
	OtherSecrets []string
	// Faults and Recorder are the simulator's. The Recorder must wrap the Faults
	// (rec.Wrap(faults.Wrap(mux, throttled))) so that injected 429s and 5xx are recorded.
	// The vendor's throttle response should ask for a short wait (about a second at most) so
	// the rate-limit check stays quick.
	Faults   *sim.Faults
	Recorder *sim.Recorder
	// ReadOnly reports whether a recorded call changes nothing; nil means GET and HEAD only.
	// Vendors that read with POST (AWS IAM's query API, Slack's Web API) supply their own.
	ReadOnly func(sim.Call) bool
	// ThrottleStatus is the status of the vendor's throttle response as written by the
	// simulator for Faults.ThrottleNext; 0 means 429. Google answers 403 and AWS IAM 400.
	ThrottleStatus int

	// A connector tested against a real server (an LDAP directory, a database) rather than a
	// simulator leaves Faults and Recorder nil and sets Snapshot and Unreachable instead.
	//
	// Snapshot describes the server state the connector could change for Person and Unknown
	// (their entries, memberships, role attributes), so that planning can be shown to change
	// nothing by comparing snapshots taken before and after.
	Snapshot func(ctx context.Context) (string, error)
	// Unreachable is the connector configured for an address where no server listens: its
	// failures must be retryable, never a finding and never permanent. There is no rate limit
	// to inject into a real server, so the rate-limit check does not apply to such fixtures.
	Unreachable connector.Connector
}

// realServer reports whether the fixture talks to a real server instead of a simulator.
func (f Fixture) realServer() bool { return f.Faults == nil && f.Recorder == nil }

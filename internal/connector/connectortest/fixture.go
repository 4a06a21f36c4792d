// Package connectortest is the conformance suite every connector must pass against its
// simulator: plan reads only; apply is idempotent; verify reads back; a 429 with the vendor's
// headers paces instead of failing; a 401 is permanent; no secret appears in errors, plans or
// evidence.
package connectortest

import (
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
	// Faults and Recorder are the simulator's.
	Faults   *sim.Faults
	Recorder *sim.Recorder
	// ReadOnly reports whether a recorded call changes nothing; nil means GET and HEAD only.
	ReadOnly func(sim.Call) bool
}

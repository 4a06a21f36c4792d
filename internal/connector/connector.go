// Package connector defines the contract every connected system implements, and the small
// HTTP, rate-limit and error helpers the connectors share.
//
// A connector never changes anything in Plan; Apply is idempotent (applying an action whose
// effect is already in place succeeds without a change, and removing something that is gone is
// success); Verify reads the system back and reports what it saw.
package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Person is the leaver as the connectors see them.
type Person struct {
	WorkerID string `json:"worker_id,omitempty"`
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
	// Manager is the manager's email address, used by systems that hand work over.
	Manager string `json:"manager,omitempty"`
	// Handles are per-system identities, keyed by system name, e.g. {"github": "octocat"}.
	// A connector prefers its handle over the email when one is given.
	Handles map[string]string `json:"handles,omitempty"`
}

// Handle returns the person's identity in system, or "" when none was given.
func (p Person) Handle(system string) string {
	if p.Handles == nil {
		return ""
	}
	return p.Handles[system]
}

// Rules for deriving a person's account name in a system that has no lookup by email (a
// database login, an LDAP uid).
const (
	// NameFromEmailLocal is the handle for the system if given, else the email's local part.
	NameFromEmailLocal = "email_local"
	// NameFromEmail is the whole email address.
	NameFromEmail = "email"
	// NameFromHandle is the handle for the system only.
	NameFromHandle = "handle"
)

// NameRule checks a configured account-name rule and returns it, or NameFromEmailLocal when
// none is configured, so every connector accepts the same spellings and default.
func NameRule(rule string) (string, error) {
	switch rule {
	case "":
		return NameFromEmailLocal, nil
	case NameFromEmailLocal, NameFromEmail, NameFromHandle:
		return rule, nil
	}
	return "", fmt.Errorf("must be %s, %s or %s, not %q", NameFromEmailLocal, NameFromEmail, NameFromHandle, rule)
}

// AccountName derives p's account name in system by rule (one of the NameFrom constants),
// lower-casing what comes from the email. When there is none it returns "" and why, for the
// plan's notes.
func (p Person) AccountName(system, rule string) (name, why string) {
	h := p.Handle(system)
	switch {
	case rule == NameFromHandle:
		if h == "" {
			return "", fmt.Sprintf("no %s handle was given, and accounts there are matched by handle", system)
		}
		return h, ""
	case rule == NameFromEmail:
		if p.Email == "" {
			return "", "no email was given"
		}
		return strings.ToLower(p.Email), ""
	case h != "":
		return h, ""
	}
	local, _, ok := strings.Cut(p.Email, "@")
	if !ok || local == "" {
		return "", "no email was given to derive the account name from"
	}
	return strings.ToLower(local), ""
}

// Action is one change in one system, planned before it is made. Actions are data: they are
// stored, shown, applied, verified and audited as values, so everything a connector needs to
// apply and verify one must be in Target and Params.
type Action struct {
	System string `json:"system"`
	// Kind names the sort of change, e.g. "remove_group"; dependencies are declared by kind.
	Kind string `json:"kind"`
	// Target identifies the object acted on within the system (a group ID, a factor ID, the
	// user ID for account-wide actions).
	Target string `json:"target"`
	// Detail is a one-line human description: "Remove from group Engineering (00g1)".
	Detail string `json:"detail"`
	// Params carries what Apply and Verify need beyond Target (the user ID, for instance).
	Params map[string]string `json:"params,omitempty"`
	// After lists kinds in the same system that must be verified before this action runs.
	After []string `json:"after,omitempty"`
	// Before records what the plan's read showed about the target, kept as evidence.
	Before string `json:"before,omitempty"`
}

// Key identifies the action within one case: one system, kind and target.
func (a Action) Key() string { return a.System + "/" + a.Kind + "/" + a.Target }

// Param returns a.Params[name], or "" when absent.
func (a Action) Param(name string) string {
	if a.Params == nil {
		return ""
	}
	return a.Params[name]
}

// Kept is an access the plan deliberately leaves alone, with the reason, so a reader of the plan
// sees it was considered and not forgotten.
type Kept struct {
	System string `json:"system"`
	Target string `json:"target"`
	Detail string `json:"detail"`
	Reason string `json:"reason"`
}

// Manual is work that only a human can do, found while planning or applying.
type Manual struct {
	System string `json:"system"`
	Detail string `json:"detail"`
}

// Rotation is a secret the person could read and may have copied, which leaving does not
// revoke: a repository's Actions secret, a shared deploy key. Only its name and where it lives
// are recorded, never its value; the ticket lists them for the owners to rotate.
type Rotation struct {
	System string `json:"system"`
	// Location is where the secret lives, e.g. "repository acme/payments".
	Location string `json:"location"`
	// Name is the secret's name, e.g. "AWS_SECRET_ACCESS_KEY".
	Name string `json:"name"`
	// Reason says why the person could read it, e.g. "admin on the repository".
	Reason string `json:"reason"`
}

// Plan is what one connector found for one person: the actions to take, what it keeps and why,
// and what a human must do. A person with no account in the system has NotFound set and an
// explanation in Notes; that is a finding, not an error.
type Plan struct {
	System string `json:"system"`
	// Account describes the person's identity in the system, e.g. "00u1ab (jane@acme.com, ACTIVE)".
	Account  string   `json:"account,omitempty"`
	NotFound bool     `json:"not_found,omitempty"`
	Actions  []Action `json:"actions"`
	Kept     []Kept   `json:"kept,omitempty"`
	Manual   []Manual `json:"manual,omitempty"`
	// Rotate lists secrets the person could read, for their owners to rotate.
	Rotate []Rotation `json:"rotate,omitempty"`
	Notes  []string   `json:"notes,omitempty"`
}

// Evidence is what a fresh read of the system showed after an action was applied.
type Evidence struct {
	// Verified is true only when the read shows the access is gone.
	Verified bool `json:"verified"`
	// Observed summarises the read for people: "user 00u1 status DEPROVISIONED".
	Observed string `json:"observed"`
	// Read holds the relevant part of the raw read-back, for the evidence record.
	Read json.RawMessage `json:"read,omitempty"`
	// CheckedAt is when the read was made.
	CheckedAt time.Time `json:"checked_at"`
}

// Observe is the evidence of one read-back made at at: whether the access is gone, a summary
// for people, and the relevant part of the read, stored as JSON (left out if it cannot be
// encoded, so a read that will not encode never costs the evidence its verdict).
func Observe(verified bool, observed string, read any, at time.Time) Evidence {
	raw, err := json.Marshal(read)
	if err != nil {
		raw = nil
	}
	return Evidence{Verified: verified, Observed: observed, Read: raw, CheckedAt: at.UTC()}
}

// UserGone is the evidence when the user no longer exists at all in system: a deleted user
// holds nothing, so whatever an action removes (what) is gone too.
func UserGone(system, uid, who, what string, at time.Time) Evidence {
	return Observe(true, fmt.Sprintf("user %s (%s) no longer exists in %s (deleted), so they hold no %s", uid, who, system, what),
		map[string]any{"user_id": uid, "exists": false}, at)
}

// Connector is the contract every connected system implements.
type Connector interface {
	// System is the name used in plans, tickets and audit records, e.g. "okta".
	System() string
	// Plan reads the system and returns every change needed to remove p's access. It never
	// changes anything.
	Plan(ctx context.Context, p Person) (Plan, error)
	// Apply makes one change. It is idempotent: an action whose effect is already in place
	// succeeds without a change.
	Apply(ctx context.Context, a Action) error
	// Verify reads the system back and reports whether the action's effect is in place. An
	// error means the read itself failed, not that the access is still there.
	Verify(ctx context.Context, a Action) (Evidence, error)
}

// Checker is implemented by connectors that can test their credentials and permissions
// without changing anything.
type Checker interface {
	Check(ctx context.Context) error
}

// SortActions orders actions deterministically for display: by system, then by the order of
// kinds given, then by target.
func SortActions(actions []Action, kindOrder []string) {
	rank := make(map[string]int, len(kindOrder))
	for i, k := range kindOrder {
		rank[k] = i
	}
	sort.SliceStable(actions, func(i, j int) bool {
		a, b := actions[i], actions[j]
		if a.System != b.System {
			return a.System < b.System
		}
		ra, okA := rank[a.Kind]
		rb, okB := rank[b.Kind]
		if !okA {
			ra = len(kindOrder)
		}
		if !okB {
			rb = len(kindOrder)
		}
		if ra != rb {
			return ra < rb
		}
		return strings.Compare(a.Target, b.Target) < 0
	})
}

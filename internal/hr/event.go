// Package hr turns terminations from every door (the Workday poller, the signed webhook, a
// CSV, the CLI and the API) into one Event type, so they all lead to the same case model.
package hr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Type says what an event asks for.
type Type string

const (
	// Termination ends a person's access at EffectiveAt.
	Termination Type = "termination"
	// Rescission cancels a termination that has not taken effect yet.
	Rescission Type = "rescission"
)

// Event is one HR fact about one person, from any source.
type Event struct {
	// ID is unique per source; the same ID twice is the same event.
	ID          string    `json:"event_id"`
	Source      string    `json:"source"`
	Type        Type      `json:"type"`
	WorkerID    string    `json:"worker_id,omitempty"`
	Email       string    `json:"email,omitempty"`
	Name        string    `json:"name,omitempty"`
	Manager     string    `json:"manager_email,omitempty"`
	EffectiveAt time.Time `json:"effective_at"`
	Reason      string    `json:"reason,omitempty"`
	Involuntary bool      `json:"involuntary,omitempty"`
	// Handles are the person's identities in systems where they differ from the email,
	// keyed by system name, e.g. {"github": "octocat"}; connectors prefer them.
	Handles map[string]string `json:"handles,omitempty"`
	// Actor is who or what brought the event in: "workday", "webhook", "cli:alice".
	Actor string `json:"actor,omitempty"`
}

// Validate lists every problem with the event at once.
func (e Event) Validate() error {
	if problems := e.Problems(); len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Problems returns every problem Validate reports, one per element, for doors that answer
// with a list (the webhook's 400, the CSV's per-row errors).
func (e Event) Problems() []string {
	var problems []string
	if strings.TrimSpace(e.ID) == "" {
		problems = append(problems, "event_id is required")
	}
	if e.Type != Termination && e.Type != Rescission {
		problems = append(problems, fmt.Sprintf("type must be %q or %q, not %q", Termination, Rescission, e.Type))
	}
	if strings.TrimSpace(e.WorkerID) == "" && strings.TrimSpace(e.Email) == "" {
		problems = append(problems, "worker_id or email is required")
	}
	if e.Email != "" {
		if _, err := mail.ParseAddress(e.Email); err != nil {
			problems = append(problems, fmt.Sprintf("email %q is not an address", e.Email))
		}
	}
	if e.Manager != "" {
		if _, err := mail.ParseAddress(e.Manager); err != nil {
			problems = append(problems, fmt.Sprintf("manager_email %q is not an address", e.Manager))
		}
	}
	problems = append(problems, HandleProblems(e.Handles)...)
	if e.Type == Termination && e.EffectiveAt.IsZero() {
		problems = append(problems, "effective_at is required for a termination")
	}
	return problems
}

// HandleProblems checks handles: a system name of lower-case letters, digits and dashes, and
// a value with no spaces or control characters (a handle is an identifier, never free text).
func HandleProblems(handles map[string]string) []string {
	var problems []string
	for _, system := range slices.Sorted(maps.Keys(handles)) {
		v := handles[system]
		if !handleSystem.MatchString(system) {
			problems = append(problems, fmt.Sprintf("handle system %q must be a system name such as github", system))
		}
		if strings.TrimSpace(v) == "" || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			problems = append(problems, fmt.Sprintf("handle for %s must be one identifier without spaces", system))
		}
	}
	return problems
}

var handleSystem = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// Digest is a hash of the event's content (not its source or actor), used to tell a retried
// delivery of the same event from a different event that reuses an ID.
func (e Event) Digest() string {
	c := e
	c.Source, c.Actor = "", ""
	c.EffectiveAt = c.EffectiveAt.UTC()
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Outcome says what receiving an event did.
type Outcome string

const (
	// Opened: a new case started now.
	Opened Outcome = "opened"
	// Scheduled: a new case will start at the effective time.
	Scheduled Outcome = "scheduled"
	// Duplicate: the event was seen before with the same content; nothing new happened.
	Duplicate Outcome = "duplicate"
	// Cancelled: a rescission cancelled a scheduled case.
	Cancelled Outcome = "cancelled"
	// Ignored: stored and recorded, but nothing to act on (a rescission too late, say).
	Ignored Outcome = "ignored"
)

// Receipt is the answer to a received event.
type Receipt struct {
	CaseID  int64   `json:"case_id,omitempty"`
	Outcome Outcome `json:"outcome"`
	Note    string  `json:"note,omitempty"`
}

// ErrConflict is returned when an event ID arrives again with different content.
var ErrConflict = errors.New("event_id was seen before with a different body")

// Intake receives events. Receive stores the event durably before returning, so a caller may
// acknowledge it to the sender once Receive has returned without error.
type Intake interface {
	Receive(ctx context.Context, e Event) (Receipt, error)
}

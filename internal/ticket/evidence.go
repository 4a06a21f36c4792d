package ticket

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
)

// EvidenceFormat names the evidence file's layout, so a reader can tell versions apart.
const EvidenceFormat = "offboard-evidence/1"

// Evidence is the JSON document attached to the ticket: the whole record of a case, for an
// auditor who has only the ticket.
type Evidence struct {
	Format string `json:"format"`
	// AsOf is the newest time the case or any step records: the evidence describes the case as
	// it stood then. It is derived from the data (not the clock), so rendering is repeatable.
	AsOf   *time.Time       `json:"as_of,omitempty"`
	Case   store.Case       `json:"case"`
	Person connector.Person `json:"person"`
	// Complete is true only when every step is verified with a verification time and nothing
	// needs a human.
	Complete   bool             `json:"complete"`
	Actions    int              `json:"actions"`
	Verified   int              `json:"verified"`
	NeedsHuman []string         `json:"needs_human,omitempty"`
	Plans      []connector.Plan `json:"plans"`
	Steps      []EvidenceStep   `json:"steps"`
}

// EvidenceStep is one step as the evidence shows it.
type EvidenceStep struct {
	ID        int64            `json:"id"`
	Seq       int              `json:"seq"`
	Action    connector.Action `json:"action"`
	DependsOn []int64          `json:"depends_on,omitempty"`
	State     store.StepState  `json:"state"`
	// Verified repeats the one rule the ticket follows: the step is verified and the time of
	// the read that proved it is recorded.
	Verified   bool                `json:"verified"`
	Attempts   int                 `json:"attempts"`
	AppliedAt  *time.Time          `json:"applied_at,omitempty"`
	VerifiedAt *time.Time          `json:"verified_at,omitempty"`
	Evidence   *connector.Evidence `json:"evidence,omitempty"`
	LastError  string              `json:"last_error,omitempty"`
}

// EvidenceJSON renders the evidence file: the case, the person, the plans, and every step with
// its action, state, attempts, times, read-back evidence and last error.
func EvidenceJSON(c store.Case, steps []store.Step) ([]byte, error) {
	verified, needs, complete := outcome(c, steps)
	ev := Evidence{
		Format: EvidenceFormat, AsOf: asOf(c, steps), Case: c, Person: c.Person,
		Complete: complete, Actions: len(steps), Verified: verified, NeedsHuman: needs,
		Plans: c.Plans, Steps: make([]EvidenceStep, 0, len(steps)),
	}
	// The plans are shown once, at the top level.
	ev.Case.Plans = nil
	if ev.Plans == nil {
		ev.Plans = []connector.Plan{}
	}
	for _, s := range steps {
		ev.Steps = append(ev.Steps, EvidenceStep{
			ID: s.ID, Seq: s.Seq, Action: s.Action, DependsOn: s.DependsOn, State: s.State, Verified: isVerified(s),
			Attempts: s.Attempts, AppliedAt: utc(s.AppliedAt), VerifiedAt: utc(s.VerifiedAt), Evidence: s.Evidence, LastError: s.LastError,
		})
	}
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("ticket: evidence of case %d: %w", c.ID, err)
	}
	return b, nil
}

// EvidenceFilename names the attached evidence file, e.g. "offboard-case-42-evidence.json".
func EvidenceFilename(c store.Case) string {
	return fmt.Sprintf("offboard-case-%d-evidence.json", c.ID)
}

func asOf(c store.Case, steps []store.Step) *time.Time {
	var latest time.Time
	see := func(t time.Time) {
		if t.After(latest) {
			latest = t
		}
	}
	see(c.CreatedAt)
	see(c.UpdatedAt)
	for _, s := range steps {
		see(s.UpdatedAt)
		if s.AppliedAt != nil {
			see(*s.AppliedAt)
		}
		if s.VerifiedAt != nil {
			see(*s.VerifiedAt)
		}
		if s.Evidence != nil {
			see(s.Evidence.CheckedAt)
		}
	}
	if latest.IsZero() {
		return nil
	}
	return utc(&latest)
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

package ticket

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
)

// Labels every offboarding ticket carries.
const (
	LabelOffboarding = "offboarding"
	LabelPartial     = "offboarding-partial"
)

// Summary is the ticket's title: "Deprovisioning: <name> <<email>>".
func Summary(p connector.Person) string {
	name := p.Name
	if name == "" {
		name = "worker " + p.WorkerID
	}
	if p.Email == "" {
		return "Deprovisioning: " + name
	}
	return fmt.Sprintf("Deprovisioning: %s <%s>", name, p.Email)
}

// Open is the ticket a case opens with: who is leaving, when, why, and where the request came
// from.
func Open(c store.Case) NewTicket {
	facts := []string{
		"Worker ID: " + orNone(c.Person.WorkerID),
		"Email: " + orNone(c.Person.Email),
		"Manager: " + orNone(c.Person.Manager),
		"Effective: " + c.EffectiveAt.UTC().Format(time.RFC3339),
		"Reason: " + orNone(c.Reason),
		fmt.Sprintf("Source: %s (event %s)", c.Source, c.EventID),
		fmt.Sprintf("Offboard case: %d", c.ID),
	}
	if c.Urgent {
		facts = append(facts, "Urgent: involuntary termination, handled ahead of other work")
	}
	intro := "offboard is removing this person's access from every connected system. Each removal is proven by reading the system back; this ticket is updated as that happens, failures included."
	if c.State == store.CaseScheduled {
		intro = "offboard will remove this person's access at the effective time below. Each removal will be proven by reading the system back; this ticket is updated as that happens, failures included."
	}
	return NewTicket{
		Summary:     Summary(c.Person),
		Description: Doc{Blocks: []Block{{Paragraph: intro}, {Bullets: facts}}},
		Labels:      []string{LabelOffboarding},
	}
}

// PlanComment lists, per system, the account found, every action in order with what it waits
// for, what is kept and why, what only a human can do, and any findings.
func PlanComment(c store.Case, steps []store.Step) Doc {
	d := Doc{Blocks: []Block{{Heading: "Plan"}}}
	d.Blocks = append(d.Blocks, Block{Paragraph: fmt.Sprintf("%d actions in %d systems. Nothing is marked done until a fresh read shows it.", len(steps), len(c.Plans))})
	for _, p := range c.Plans {
		head := p.System
		switch {
		case p.NotFound:
			head += ": no account found"
		case p.Account != "":
			head += ": " + p.Account
		}
		d.Blocks = append(d.Blocks, Block{Heading: head})
		var items []string
		for _, s := range stepsOf(steps, p.System) {
			item := s.Action.Detail
			if len(s.Action.After) > 0 {
				item += " (after " + strings.Join(s.Action.After, ", ") + ")"
			}
			items = append(items, item)
		}
		for _, k := range p.Kept {
			items = append(items, fmt.Sprintf("Kept: %s — %s", k.Detail, k.Reason))
		}
		for _, m := range p.Manual {
			items = append(items, "For a human: "+m.Detail)
		}
		for _, n := range p.Notes {
			items = append(items, "Note: "+n)
		}
		if len(items) == 0 {
			items = []string{"Nothing to remove."}
		}
		d.Blocks = append(d.Blocks, Block{Bullets: items})
	}
	return d
}

// SystemComment announces that one system finished: every action verified, or which failed
// and why.
func SystemComment(c store.Case, system string, steps []store.Step) Doc {
	own := stepsOf(steps, system)
	plan := planOf(c, system)
	if plan.NotFound {
		return Doc{Blocks: []Block{{Paragraph: fmt.Sprintf("%s: no account found for %s; nothing was removed there. A human should confirm they have none.", system, personName(c.Person))}}}
	}
	var failed []string
	verified := 0
	for _, s := range own {
		if s.State == store.StepVerified {
			verified++
			continue
		}
		failed = append(failed, stepProblem(s))
	}
	for _, m := range plan.Manual {
		failed = append(failed, "For a human: "+m.Detail)
	}
	if len(failed) == 0 {
		return Doc{Blocks: []Block{{Paragraph: fmt.Sprintf("%s: all %d actions verified by reading %s back.", system, len(own), system)}}}
	}
	return Doc{Blocks: []Block{
		{Paragraph: fmt.Sprintf("%s: %d of %d actions verified; %d need attention.", system, verified, len(own), len(failed))},
		{Bullets: failed},
	}}
}

// FinalComment is the closing table of every action with its verified result, and — when not
// everything is verified — what a human must do. Nothing is called verified unless the step
// is verified with a verification time.
func FinalComment(c store.Case, steps []store.Step) Doc {
	rows := make([][]string, 0, len(steps))
	verified := 0
	for _, s := range steps {
		result, when := string(s.State), "-"
		if isVerified(s) {
			verified++
			result = "verified"
			when = s.VerifiedAt.UTC().Format(time.RFC3339)
		}
		observed := ""
		if s.Evidence != nil {
			observed = s.Evidence.Observed
		}
		if !isVerified(s) && s.LastError != "" {
			observed = "error: " + s.LastError
		}
		applied := "-"
		if s.AppliedAt != nil {
			applied = s.AppliedAt.UTC().Format(time.RFC3339)
		}
		rows = append(rows, []string{s.Action.System, s.Action.Detail, result, applied, when, orNone(observed)})
	}
	d := Doc{}
	needs := NeedsHuman(c, steps)
	if len(needs) == 0 && verified == len(steps) {
		d.Blocks = append(d.Blocks, Block{Heading: "Offboarding complete"},
			Block{Paragraph: fmt.Sprintf("All %d actions verified by reading each system back. The evidence is attached.", len(steps))})
	} else {
		d.Blocks = append(d.Blocks, Block{Heading: "Offboarding NOT complete"},
			Block{Paragraph: fmt.Sprintf("%d of %d actions verified. Some access may remain until the items below are done. offboard keeps retrying what can be retried.", verified, len(steps))})
	}
	if len(rows) > 0 {
		d.Blocks = append(d.Blocks, Block{Table: &Table{Header: []string{"System", "Action", "Result", "Applied", "Verified", "Read-back"}, Rows: rows}})
	}
	if len(needs) > 0 {
		d.Blocks = append(d.Blocks, Block{Heading: "What a human must do"}, Block{Bullets: needs})
	}
	return d
}

// NeedsHuman lists what a person must do for the case to be complete: each step that is not
// verified (with its last error), each manual item, and each system where no account was
// found.
func NeedsHuman(c store.Case, steps []store.Step) []string {
	var out []string
	for _, s := range steps {
		if !isVerified(s) {
			out = append(out, stepProblem(s))
		}
	}
	for _, p := range c.Plans {
		if p.NotFound {
			out = append(out, fmt.Sprintf("Confirm %s has no %s account (none was found).", personName(c.Person), p.System))
		}
		for _, m := range p.Manual {
			out = append(out, fmt.Sprintf("%s: %s", p.System, m.Detail))
		}
	}
	if len(c.Plans) == 0 && len(steps) == 0 && (c.State == store.CasePartial) {
		out = append(out, "No system was checked; confirm the configuration and plan again.")
	}
	return out
}

func stepProblem(s store.Step) string {
	what := fmt.Sprintf("%s: %s — %s", s.Action.System, s.Action.Detail, s.State)
	switch {
	case s.State == store.StepPending:
		what += " (not started: waits on a step that did not finish)"
	case s.LastError != "":
		what += ": " + s.LastError
	}
	return what
}

// Evidence is the JSON document attached to the ticket.
type Evidence struct {
	Case  store.Case       `json:"case"`
	Steps []EvidenceStep   `json:"steps"`
	At    time.Time        `json:"generated_at"`
	Plans []connector.Plan `json:"plans"`
}

// EvidenceStep is one step as the evidence shows it.
type EvidenceStep struct {
	System     string              `json:"system"`
	Kind       string              `json:"kind"`
	Target     string              `json:"target"`
	Detail     string              `json:"detail"`
	Before     string              `json:"before,omitempty"`
	State      store.StepState     `json:"state"`
	Attempts   int                 `json:"attempts"`
	AppliedAt  *time.Time          `json:"applied_at,omitempty"`
	VerifiedAt *time.Time          `json:"verified_at,omitempty"`
	ReadBack   *connector.Evidence `json:"read_back,omitempty"`
	LastError  string              `json:"last_error,omitempty"`
}

// EvidenceJSON renders the evidence file: the case, its plans, and every step with its
// state, times, read-back and last error.
func EvidenceJSON(c store.Case, steps []store.Step) ([]byte, error) {
	ev := Evidence{Case: c, Plans: c.Plans, At: time.Now().UTC()}
	ev.Case.Plans = nil
	for _, s := range steps {
		ev.Steps = append(ev.Steps, EvidenceStep{
			System: s.Action.System, Kind: s.Action.Kind, Target: s.Action.Target, Detail: s.Action.Detail, Before: s.Action.Before,
			State: s.State, Attempts: s.Attempts, AppliedAt: s.AppliedAt, VerifiedAt: s.VerifiedAt, ReadBack: s.Evidence, LastError: s.LastError,
		})
	}
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("ticket: evidence of case %d: %w", c.ID, err)
	}
	return b, nil
}

// EvidenceFilename names the attached evidence file.
func EvidenceFilename(c store.Case) string {
	return fmt.Sprintf("offboard-case-%d-evidence.json", c.ID)
}

func isVerified(s store.Step) bool { return s.State == store.StepVerified && s.VerifiedAt != nil }

func stepsOf(steps []store.Step, system string) []store.Step {
	var out []store.Step
	for _, s := range steps {
		if s.Action.System == system {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

func planOf(c store.Case, system string) connector.Plan {
	for _, p := range c.Plans {
		if p.System == system {
			return p
		}
	}
	return connector.Plan{System: system}
}

func personName(p connector.Person) string {
	if p.Name != "" {
		return p.Name
	}
	if p.Email != "" {
		return p.Email
	}
	return "worker " + p.WorkerID
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

package ticket

// How steps, systems and people are described in the ticket's text.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
)

// outcome counts the verified steps and decides whether the case is complete: every step
// verified, nothing for a human, and at least one system checked.
func outcome(c store.Case, steps []store.Step) (verified int, needs []string, complete bool) {
	for _, s := range steps {
		if isVerified(s) {
			verified++
		}
	}
	needs = NeedsHuman(c, steps)
	complete = verified == len(steps) && len(needs) == 0 && (len(c.Plans) > 0 || len(steps) > 0)
	return verified, needs, complete
}

// planned reports whether a case in state s has been through planning.
func planned(s store.CaseState) bool {
	return s == store.CaseRunning || s == store.CasePartial || s == store.CaseCompleted
}

// stateLabel is the State column: "verified" only for a verified step.
func stateLabel(s store.Step) string {
	switch {
	case isVerified(s):
		return "verified"
	case s.State == store.StepVerified:
		return "unconfirmed (no read-back time)"
	case s.State == store.StepPending:
		return "not started"
	case s.State == store.StepFailed && s.Attempts > 0:
		return fmt.Sprintf("failed (%s)", count(s.Attempts, "attempt"))
	case s.State == store.StepRetrying && s.Attempts > 0:
		return fmt.Sprintf("retrying (%s so far)", count(s.Attempts, "attempt"))
	}
	return string(s.State)
}

// readBack is the Read-back column: what the last read showed and, for a step that is not
// verified, its last error.
func readBack(s store.Step) string {
	var parts []string
	if s.Evidence != nil && strings.TrimSpace(s.Evidence.Observed) != "" {
		parts = append(parts, s.Evidence.Observed)
	}
	if !isVerified(s) && s.LastError != "" {
		parts = append(parts, "error: "+s.LastError)
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "; ")
}

func verifiedLine(s store.Step) string {
	if s.Evidence != nil && strings.TrimSpace(s.Evidence.Observed) != "" {
		return s.Action.Detail + ": " + s.Evidence.Observed
	}
	return s.Action.Detail
}

// stepProblem describes a step that is not verified, for the people who must act on it.
func stepProblem(s store.Step, all []store.Step) string {
	what := s.Action.System + ": " + s.Action.Detail + " — "
	switch {
	case s.State == store.StepVerified:
		what += "marked done without a recorded read-back time; read the system back before relying on it"
	case s.State == store.StepPending:
		what += "not started: waits on " + orNone(blockers(s, all))
	case s.State == store.StepQueued:
		what += "queued, not yet applied"
	case s.State == store.StepFailed:
		what += "failed"
		if s.Attempts > 0 {
			what += " after " + count(s.Attempts, "attempt")
		}
	case s.State == store.StepRetrying:
		what += "still failing; offboard keeps retrying"
		if s.Attempts > 0 {
			what += " (" + count(s.Attempts, "attempt") + " so far)"
		}
	default:
		what += string(s.State)
	}
	if s.LastError != "" && s.State != store.StepPending {
		what += ": " + s.LastError
	}
	return what
}

// blockers names the unfinished steps s waits on: by step ID when they are resolved, else by
// the kinds it declares.
func blockers(s store.Step, all []store.Step) string {
	var names []string
	for _, id := range s.DependsOn {
		for _, o := range all {
			if o.ID == id && !isVerified(o) && !slices.Contains(names, o.Action.Detail) {
				names = append(names, o.Action.Detail)
			}
		}
	}
	if len(names) == 0 {
		return waitsFor(s, stepsOf(all, s.Action.System))
	}
	return strings.Join(names, "; ")
}

// waitsFor summarises the kinds s must wait for: the action itself when one step is of that
// kind, or how many there are.
func waitsFor(s store.Step, own []store.Step) string {
	var parts []string
	for _, kind := range s.Action.After {
		var of []store.Step
		for _, o := range own {
			if o.Action.Kind == kind {
				of = append(of, o)
			}
		}
		switch len(of) {
		case 0:
			parts = append(parts, kind)
		case 1:
			parts = append(parts, of[0].Action.Detail)
		default:
			parts = append(parts, fmt.Sprintf("all %d %s actions", len(of), kind))
		}
	}
	return strings.Join(parts, "; ")
}

func isVerified(s store.Step) bool { return s.State == store.StepVerified && s.VerifiedAt != nil }

// stepsOf returns system's steps in Seq order.
func stepsOf(steps []store.Step, system string) []store.Step {
	var out []store.Step
	for _, s := range steps {
		if s.Action.System == system {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b store.Step) int { return a.Seq - b.Seq })
	return out
}

// systemsOf lists the case's systems: those planned, in plan order, then any that only
// steps name, so no step goes unmentioned.
func systemsOf(c store.Case, steps []store.Step) []string {
	var out []string
	for _, p := range c.Plans {
		if !slices.Contains(out, p.System) {
			out = append(out, p.System)
		}
	}
	for _, s := range steps {
		if !slices.Contains(out, s.Action.System) {
			out = append(out, s.Action.System)
		}
	}
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
	switch {
	case p.Name != "":
		return p.Name
	case p.Email != "":
		return p.Email
	case p.WorkerID != "":
		return "worker " + p.WorkerID
	}
	return "the person"
}

// stamp formats t as RFC 3339 in UTC, or a dash when it is unknown.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(time.RFC3339)
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func needWord(n int) string {
	if n == 1 {
		return "1 item needs"
	}
	return fmt.Sprintf("%d items need", n)
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

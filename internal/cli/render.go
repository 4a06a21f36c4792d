package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/workflow"
)

// printPlan writes a plan for people: per system, the account, every action in order with
// what it waits for, what is kept and why, and what only a human can do.
func printPlan(w io.Writer, p connector.Person, plans []connector.Plan) {
	fmt.Fprintf(w, "Plan for %s\n", personLine(p))
	total := 0
	for _, plan := range plans {
		total += len(plan.Actions)
		fmt.Fprintf(w, "\n%s", plan.System)
		switch {
		case plan.NotFound:
			fmt.Fprintf(w, ": no account found\n")
		case plan.Account != "":
			fmt.Fprintf(w, ": %s\n", plan.Account)
		default:
			fmt.Fprintln(w)
		}
		for i, a := range plan.Actions {
			after := ""
			if len(a.After) > 0 {
				after = " (after " + strings.Join(a.After, ", ") + ")"
			}
			fmt.Fprintf(w, "  %2d. %s%s\n", i+1, a.Detail, after)
		}
		for _, k := range plan.Kept {
			fmt.Fprintf(w, "  keep: %s — %s\n", k.Detail, k.Reason)
		}
		for _, m := range plan.Manual {
			fmt.Fprintf(w, "  human: %s\n", m.Detail)
		}
		for _, r := range plan.Rotate {
			fmt.Fprintf(w, "  rotate: %s in %s (%s)\n", r.Name, r.Location, r.Reason)
		}
		for _, n := range plan.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
	fmt.Fprintf(w, "\n%d actions in %d systems. Nothing has been changed.\n", total, len(plans))
}

func personLine(p connector.Person) string {
	parts := []string{}
	if p.Name != "" {
		parts = append(parts, p.Name)
	}
	if p.Email != "" {
		parts = append(parts, "<"+p.Email+">")
	}
	if p.WorkerID != "" {
		parts = append(parts, "worker "+p.WorkerID)
	}
	return strings.Join(parts, " ")
}

// printCase writes a case and its steps as a table.
func printCase(w io.Writer, v workflow.CaseView) {
	fmt.Fprintf(w, "Case %d: %s — %s\n", v.ID, personLine(v.Person), v.State)
	fmt.Fprintf(w, "  effective %s, source %s (%s)", v.EffectiveAt.Format(time.RFC3339), v.Source, v.EventID)
	if v.Urgent {
		fmt.Fprint(w, ", urgent")
	}
	if v.TicketKey != "" {
		fmt.Fprintf(w, ", ticket %s", v.TicketKey)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tSYSTEM\tACTION\tSTATE\tVERIFIED\tREAD-BACK")
	for _, s := range v.Steps {
		verified := "-"
		if s.VerifiedAt != nil {
			verified = s.VerifiedAt.UTC().Format("15:04:05.000")
		}
		observed := ""
		if s.Evidence != nil {
			observed = s.Evidence.Observed
		}
		if s.State != store.StepVerified && s.LastError != "" {
			observed = "error: " + s.LastError
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", s.Seq, s.Action.System, truncate(s.Action.Detail, 60), s.State, verified, truncate(observed, 70))
	}
	_ = tw.Flush()
	if len(v.NeedsHuman) > 0 {
		fmt.Fprintln(w, "\nWhat a human must do:")
		for _, n := range v.NeedsHuman {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
	header := false
	for _, p := range v.Plans {
		for _, r := range p.Rotate {
			if !header {
				fmt.Fprintln(w, "\nSecrets to rotate (the leaver could read them; names only):")
				header = true
			}
			fmt.Fprintf(w, "  - %s: %s in %s (%s)\n", r.System, r.Name, r.Location, r.Reason)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// progress prints each step's state changes as a case moves, one line per change.
type progress struct {
	w    io.Writer
	seen map[int64]store.StepState
	last store.CaseState
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, seen: map[int64]store.StepState{}}
}

func (p *progress) update(v workflow.CaseView) {
	defer func() {
		if v.State != p.last {
			fmt.Fprintf(p.w, "case %d: %s\n", v.ID, v.State)
			p.last = v.State
		}
	}()
	for _, s := range v.Steps {
		if p.seen[s.ID] == s.State {
			continue
		}
		p.seen[s.ID] = s.State
		switch s.State {
		case store.StepVerified:
			obs := ""
			if s.Evidence != nil {
				obs = " — " + s.Evidence.Observed
			}
			fmt.Fprintf(p.w, "  ✓ %s: %s\n", s.Action.System, truncate(s.Action.Detail+obs, 150))
		case store.StepRetrying:
			fmt.Fprintf(p.w, "  ↻ %s: %s (attempt %d): %s\n", s.Action.System, s.Action.Detail, s.Attempts, truncate(s.LastError, 120))
		case store.StepFailed:
			fmt.Fprintf(p.w, "  ✗ %s: %s: %s\n", s.Action.System, s.Action.Detail, truncate(s.LastError, 160))
		}
	}
}

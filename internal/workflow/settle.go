package workflow

import (
	"context"
	"fmt"

	"github.com/offboard-dev/offboard/internal/audit"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/ticket"
)

// System outcomes announced on the ticket, once each.
const (
	systemDone     = "done"
	systemFailed   = "failed"
	systemNotFound = "not_found"
)

// settle recomputes where the case stands after a step changed: it announces systems that
// finished or failed, and moves the case to completed (everything verified, nothing for a
// human) or partial (nothing more will happen by itself soon, and something is not verified or
// needs a human). The caller holds the case lock and passes the case's steps as they stand in
// this transaction, or nil to have them read.
func (e *Engine) settle(ctx context.Context, tx store.Tx, c *store.Case, steps []store.Step) error {
	if c.State != store.CaseRunning && c.State != store.CasePartial {
		return nil
	}
	if steps == nil {
		var err error
		if steps, err = tx.ListSteps(ctx, c.ID); err != nil {
			return fmt.Errorf("engine: settle case %d: %w", c.ID, err)
		}
	}
	motion := e.inMotion(steps)
	changed := false
	if c.Systems == nil {
		c.Systems = map[string]string{}
	}
	for _, p := range c.Plans {
		status := systemStatus(p, steps, motion)
		if status == "" || c.Systems[p.System] == status {
			continue
		}
		c.Systems[p.System] = status
		changed = true
		kind := audit.KindSystemDone
		if status != systemDone {
			kind = audit.KindSystemFailed
		}
		if err := e.record(ctx, tx, c.ID, kind, "engine", fmt.Sprintf("%s: %s", p.System, status), nil); err != nil {
			return err
		}
		if err := e.queueTicket(ctx, tx, c, "comment", ticket.SystemComment(*c, p.System, steps)); err != nil {
			return err
		}
	}
	next := caseState(c.Plans, steps, motion)
	if next == c.State {
		if changed {
			return tx.UpdateCase(ctx, c)
		}
		return nil
	}
	c.State = next
	if err := tx.UpdateCase(ctx, c); err != nil {
		return fmt.Errorf("engine: settle case %d: %w", c.ID, err)
	}
	switch next {
	case store.CaseCompleted:
		if err := e.record(ctx, tx, c.ID, audit.KindCaseCompleted, "engine", fmt.Sprintf("case %d completed: all %d actions verified", c.ID, len(steps)), nil); err != nil {
			return err
		}
		return e.queueFinal(ctx, tx, c, steps)
	case store.CasePartial:
		needs := ticket.NeedsHuman(*c, steps)
		if err := e.record(ctx, tx, c.ID, audit.KindCasePartial, "engine", fmt.Sprintf("case %d is partial: %d items need a human", c.ID, len(needs)), needs); err != nil {
			return err
		}
		return e.queueFinal(ctx, tx, c, steps)
	}
	return nil
}

// queueFinal queues the closing ticket updates: the table of every action, the evidence, and
// either the done transition or the partial label.
func (e *Engine) queueFinal(ctx context.Context, tx store.Tx, c *store.Case, steps []store.Step) error {
	if e.tracker == nil {
		return nil
	}
	if err := e.queueTicket(ctx, tx, c, "comment", ticket.FinalComment(*c, steps)); err != nil {
		return err
	}
	evidence, err := ticket.EvidenceJSON(*c, steps)
	if err != nil {
		return fmt.Errorf("engine: evidence of case %d: %w", c.ID, err)
	}
	if err := e.queueTicket(ctx, tx, c, "attach", attachment{Filename: ticket.EvidenceFilename(*c), Data: evidence}); err != nil {
		return err
	}
	if c.State == store.CaseCompleted {
		// A case may pass through partial and back to running before it completes, so the
		// label is removed whenever it completes; removing an absent label changes nothing.
		if err := e.queueTicket(ctx, tx, c, "labels", labels{Remove: []string{ticket.LabelPartial}}); err != nil {
			return err
		}
		return e.queueTicket(ctx, tx, c, "transition", transition{Name: e.done})
	}
	return e.queueTicket(ctx, tx, c, "labels", labels{Add: []string{ticket.LabelPartial}})
}

// inMotion reports, per step ID, whether the step may still finish by itself soon: it is
// queued, applied, retrying within its first attempts, or pending behind steps in motion.
func (e *Engine) inMotion(steps []store.Step) map[int64]bool {
	byID := map[int64]store.Step{}
	for _, s := range steps {
		byID[s.ID] = s
	}
	memo := map[int64]bool{}
	var moving func(id int64, depth int) bool
	moving = func(id int64, depth int) bool {
		if v, ok := memo[id]; ok {
			return v
		}
		s := byID[id]
		var v bool
		switch s.State {
		case store.StepQueued:
			v = true
		case store.StepRetrying:
			v = s.Attempts < e.tune.PartialAfter
		case store.StepPending:
			v = depth < len(steps)
			for _, d := range s.DependsOn {
				dep := byID[d]
				if dep.State != store.StepVerified && !moving(d, depth+1) {
					v = false
					break
				}
			}
		}
		memo[id] = v
		return v
	}
	for _, s := range steps {
		moving(s.ID, 0)
	}
	return memo
}

func systemStatus(p connector.Plan, steps []store.Step, motion map[int64]bool) string {
	if p.NotFound {
		return systemNotFound
	}
	all := true
	for _, s := range steps {
		if s.Action.System != p.System {
			continue
		}
		if motion[s.ID] {
			return ""
		}
		if s.State != store.StepVerified {
			all = false
		}
	}
	if all && len(p.Manual) == 0 {
		return systemDone
	}
	return systemFailed
}

func caseState(plans []connector.Plan, steps []store.Step, motion map[int64]bool) store.CaseState {
	for _, s := range steps {
		if motion[s.ID] {
			return store.CaseRunning
		}
	}
	for _, s := range steps {
		if s.State != store.StepVerified {
			return store.CasePartial
		}
	}
	// Not having an account in some systems is normal (not everyone uses Jenkins) and is
	// reported on the ticket; found in none at all suggests the wrong identity, so a person
	// must confirm before the case is called complete.
	found := false
	for _, p := range plans {
		if len(p.Manual) > 0 {
			return store.CasePartial
		}
		found = found || !p.NotFound
	}
	if !found {
		return store.CasePartial
	}
	return store.CaseCompleted
}

package workflow

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/offboard-dev/offboard/internal/audit"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/ticket"
)

type planArgs struct {
	CaseID int64 `json:"case_id"`
}

func (planArgs) Kind() string { return "offboard_plan" }

type planWorker struct {
	river.WorkerDefaults[planArgs]
	e *Engine
}

// planFailuresBeforeGivingUp is how many attempts a system's plan may fail transiently before
// the case goes on without it (the system is then reported as needing a human).
const planFailuresBeforeGivingUp = 3

// Work reads every system for the case's person and turns the plans into steps.
func (w *planWorker) Work(ctx context.Context, job *river.Job[planArgs]) error {
	e := w.e
	var c store.Case
	err := e.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.GetCase(ctx, job.Args.CaseID)
		return err
	})
	if err != nil {
		return fmt.Errorf("plan case %d: %w", job.Args.CaseID, err)
	}
	if c.State != store.CaseScheduled && c.State != store.CasePlanning {
		return nil
	}
	giveUp := job.Attempt >= planFailuresBeforeGivingUp
	plans, err := e.PlanAll(ctx, c.Person, giveUp)
	if err != nil {
		_ = e.store.InTx(ctx, func(tx store.Tx) error {
			return e.record(ctx, tx, c.ID, audit.KindRetry, "engine", fmt.Sprintf("planning case %d failed (attempt %d), will retry: %v", c.ID, job.Attempt, err), nil)
		})
		return err
	}
	return e.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.LockCase(ctx, c.ID); err != nil {
			return err
		}
		cur, err := tx.GetCase(ctx, c.ID)
		if err != nil {
			return err
		}
		if cur.State != store.CaseScheduled && cur.State != store.CasePlanning {
			return nil
		}
		return e.startPlanned(ctx, tx, &cur, plans)
	})
}

// PlanAll asks every connector of the engine for its plan; see PlanAll.
func (e *Engine) PlanAll(ctx context.Context, p connector.Person, tolerate bool) ([]connector.Plan, error) {
	conns := make([]connector.Connector, len(e.order))
	for i, name := range e.order {
		conns[i] = e.connectors[name]
	}
	return PlanAll(ctx, conns, p, PlanOptions{Tolerate: tolerate, Timeout: e.tune.StepTimeout, Redact: e.redact})
}

// PlanOptions tune PlanAll.
type PlanOptions struct {
	// Tolerate reports a system whose plan fails as manual work in its Plan instead of
	// failing the whole plan (permanent failures are always reported that way).
	Tolerate bool
	// Timeout bounds each system's plan; 0 means five minutes.
	Timeout time.Duration
	// Redact removes secrets from error text; nil means none.
	Redact func(string) string
}

// PlanAll asks every connector for its plan, concurrently. It only reads.
func PlanAll(ctx context.Context, conns []connector.Connector, p connector.Person, o PlanOptions) ([]connector.Plan, error) {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Redact == nil {
		o.Redact = func(s string) string { return s }
	}
	plans := make([]connector.Plan, len(conns))
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, o.Timeout)
			defer cancel()
			plan, err := c.Plan(pctx, p)
			plan.System = c.System()
			plans[i], errs[i] = plan, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			continue
		}
		name := conns[i].System()
		if !o.Tolerate && !connector.IsPermanent(err) {
			return nil, fmt.Errorf("plan %s: %s", name, o.Redact(err.Error()))
		}
		msg := o.Redact(err.Error())
		plans[i] = connector.Plan{
			System: name,
			Manual: []connector.Manual{{System: name, Detail: "planning failed, so nothing was removed here: " + msg}},
			Notes:  []string{"could not read " + name + ": " + msg},
		}
	}
	return plans, nil
}

// startPlanned stores the plans as steps, records the plan, and enqueues the steps that
// depend on nothing. The caller holds the case lock.
func (e *Engine) startPlanned(ctx context.Context, tx store.Tx, c *store.Case, plans []connector.Plan) error {
	steps := stepsFromPlans(c.ID, plans)
	if err := tx.InsertSteps(ctx, steps); err != nil {
		return fmt.Errorf("engine: store steps of case %d: %w", c.ID, err)
	}
	// Dependencies are declared by kind; resolve them to step IDs now that IDs exist.
	for _, s := range steps {
		for _, kind := range s.Action.After {
			for _, other := range steps {
				if other.Action.System == s.Action.System && other.Action.Kind == kind {
					s.DependsOn = append(s.DependsOn, other.ID)
				}
			}
		}
	}
	// The case keeps each plan's findings (account, kept access, manual work, notes); its
	// actions live on as steps, and the full plan is in the audit record below. Not storing
	// the actions twice keeps every step's read of the case small.
	c.Plans = make([]connector.Plan, len(plans))
	for i, p := range plans {
		p.Actions = nil
		c.Plans[i] = p
	}
	c.State = store.CaseRunning
	if err := tx.UpdateCase(ctx, c); err != nil {
		return fmt.Errorf("engine: store plan of case %d: %w", c.ID, err)
	}
	total := 0
	for _, p := range plans {
		total += len(p.Actions)
	}
	if err := e.record(ctx, tx, c.ID, audit.KindPlan, "engine", fmt.Sprintf("plan for case %d: %d actions in %d systems", c.ID, total, len(plans)), plans); err != nil {
		return err
	}
	plain := make([]store.Step, len(steps))
	for i, s := range steps {
		plain[i] = *s
	}
	if err := e.queueTicket(ctx, tx, c, "comment", ticket.PlanComment(*c, plain)); err != nil {
		return err
	}
	var roots []*store.Step
	for _, s := range steps {
		if len(s.DependsOn) == 0 {
			roots = append(roots, s)
		} else if err := tx.UpdateStep(ctx, s); err != nil {
			return fmt.Errorf("engine: store dependencies of step %d: %w", s.ID, err)
		}
	}
	if err := e.enqueueSteps(ctx, tx, *c, roots); err != nil {
		return err
	}
	return e.settle(ctx, tx, c, nil)
}

func stepsFromPlans(caseID int64, plans []connector.Plan) []*store.Step {
	var steps []*store.Step
	seen := map[string]bool{}
	for _, p := range plans {
		for _, a := range p.Actions {
			if seen[a.Key()] {
				continue
			}
			seen[a.Key()] = true
			steps = append(steps, &store.Step{CaseID: caseID, Seq: len(steps) + 1, Action: a, State: store.StepPending})
		}
	}
	return steps
}

// enqueueSteps marks steps queued and inserts their jobs in the same transaction.
func (e *Engine) enqueueSteps(ctx context.Context, tx store.Tx, c store.Case, steps []*store.Step) error {
	jobs := make([]river.InsertManyParams, len(steps))
	for i, s := range steps {
		jobs[i] = river.InsertManyParams{Args: stepArgs{StepID: s.ID}, InsertOpts: &river.InsertOpts{Queue: queueFor(c)}}
	}
	if err := e.q.insertManyTx(ctx, tx, jobs); err != nil {
		return err
	}
	for _, s := range steps {
		s.State = store.StepQueued
		if err := tx.UpdateStep(ctx, s); err != nil {
			return fmt.Errorf("engine: queue step %d: %w", s.ID, err)
		}
	}
	return nil
}

package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/offboard-dev/offboard/internal/audit"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
)

type stepArgs struct {
	StepID int64 `json:"step_id"`
}

func (stepArgs) Kind() string { return "offboard_step" }

type stepWorker struct {
	river.WorkerDefaults[stepArgs]
	e *Engine
}

// errNotVerified means the action was applied but a fresh read still shows the access.
var errNotVerified = errors.New("read-back still shows the access")

// Work applies one action and verifies it by reading the system back. Only a verified read
// marks the step done; then, in the same transaction, the attempt is recorded (apply and
// verify), and the steps waiting on it are enqueued. Every attempt applies before it verifies:
// actions are idempotent, so a crash between the two costs one repeated, harmless call, and
// one write per attempt keeps a wide plan fast on a single SQLite connection.
func (w *stepWorker) Work(ctx context.Context, job *river.Job[stepArgs]) (err error) {
	e := w.e
	var s store.Step
	var c store.Case
	err = e.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if s, err = tx.GetStep(ctx, job.Args.StepID); err != nil {
			return err
		}
		c, err = tx.GetCase(ctx, s.CaseID)
		return err
	})
	if err != nil {
		return fmt.Errorf("step %d: load: %w", job.Args.StepID, err)
	}
	if c.State == store.CaseCancelled || s.State == store.StepVerified || s.State == store.StepFailed {
		return nil
	}
	s.Attempts++
	started := time.Now()
	defer func() {
		result := "retry"
		var stopped *rivertype.JobCancelError
		switch {
		case err == nil && s.State == store.StepVerified:
			result = "verified"
		case errors.As(err, &stopped):
			result = "failed"
		}
		e.metrics.step(s.Action.System, s.Action.Kind, result, time.Since(started))
	}()
	defer func() {
		// A connector bug must not leave the step looking queued forever.
		if r := recover(); r != nil {
			err = e.fail(ctx, job, s, fmt.Errorf("%s: connector panicked: %v", s.Action.Key(), r), nil)
		}
	}()
	conn, ok := e.connectors[s.Action.System]
	if !ok {
		return e.fail(ctx, job, s, connector.Permanent(fmt.Errorf("system %q is not configured on this engine", s.Action.System)), nil)
	}
	sctx, cancel := context.WithTimeout(ctx, e.tune.StepTimeout)
	defer cancel()

	if err := conn.Apply(sctx, s.Action); err != nil {
		return e.fail(ctx, job, s, err, nil)
	}
	s.AppliedAt = ptr(e.now())
	ev, err := e.verify(sctx, conn, s.Action)
	if err != nil {
		return e.fail(ctx, job, s, err, &ev)
	}
	return e.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.LockCase(ctx, s.CaseID); err != nil {
			return err
		}
		cur, err := tx.GetCase(ctx, s.CaseID)
		if err != nil {
			return err
		}
		s.State, s.VerifiedAt, s.Evidence, s.LastError = store.StepVerified, ptr(ev.CheckedAt), &ev, ""
		if err := tx.UpdateStep(ctx, &s); err != nil {
			return err
		}
		if err := e.recordApply(ctx, tx, s); err != nil {
			return err
		}
		if err := e.record(ctx, tx, s.CaseID, audit.KindVerify, "engine", fmt.Sprintf("verified %s: %s", s.Action.Key(), ev.Observed), ev); err != nil {
			return err
		}
		steps, err := tx.ListSteps(ctx, s.CaseID)
		if err != nil {
			return err
		}
		if err := e.releaseDependents(ctx, tx, cur, steps); err != nil {
			return err
		}
		return e.settle(ctx, tx, &cur, steps)
	})
}

// recordApply audits a successful apply, with the time it happened.
func (e *Engine) recordApply(ctx context.Context, tx store.Tx, s store.Step) error {
	data := struct {
		Action    connector.Action `json:"action"`
		AppliedAt time.Time        `json:"applied_at"`
		Attempt   int              `json:"attempt"`
	}{s.Action, *s.AppliedAt, s.Attempts}
	return e.record(ctx, tx, s.CaseID, audit.KindApply, "engine", fmt.Sprintf("applied %s: %s", s.Action.Key(), s.Action.Detail), data)
}

// verify reads the system back until it shows the change or the reads run out.
func (e *Engine) verify(ctx context.Context, conn connector.Connector, a connector.Action) (connector.Evidence, error) {
	delay := e.tune.VerifyDelay
	var last connector.Evidence
	for i := 0; i < e.tune.VerifyReads; i++ {
		ev, err := conn.Verify(ctx, a)
		if err != nil {
			return last, fmt.Errorf("verify %s: %w", a.Key(), err)
		}
		if ev.CheckedAt.IsZero() {
			ev.CheckedAt = e.now()
		}
		if ev.Verified {
			return ev, nil
		}
		last = ev
		if i == e.tune.VerifyReads-1 {
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return last, ctx.Err()
		}
		delay = min(delay*2, 5*time.Second)
	}
	return last, fmt.Errorf("verify %s: %w: %s", a.Key(), errNotVerified, last.Observed)
}

// releaseDependents enqueues every pending step of the case whose dependencies are all
// verified, updating steps (the case's steps as stored in this transaction) to match. The
// caller holds the case lock, so two steps finishing at once cannot both miss (or both
// enqueue) a dependent.
func (e *Engine) releaseDependents(ctx context.Context, tx store.Tx, c store.Case, steps []store.Step) error {
	verified := map[int64]bool{}
	for _, s := range steps {
		if s.State == store.StepVerified {
			verified[s.ID] = true
		}
	}
	var ready []*store.Step
	for i := range steps {
		s := &steps[i]
		if s.State != store.StepPending {
			continue
		}
		waiting := false
		for _, d := range s.DependsOn {
			if !verified[d] {
				waiting = true
				break
			}
		}
		if !waiting {
			ready = append(ready, s)
		}
	}
	return e.enqueueSteps(ctx, tx, c, ready)
}

// fail records a failed attempt and tells River what to do next: a permanent error stops the
// step for a human; a rate limit snoozes without counting; anything else retries with backoff
// until the attempts run out. verified is non-nil when the attempt applied the action and its
// read-back failed or still showed the access; the apply is recorded and the read kept as
// evidence.
func (e *Engine) fail(ctx context.Context, job *river.Job[stepArgs], s store.Step, cause error, verified *connector.Evidence) error {
	// The failure may be the job's own timeout; record it even so.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	msg := e.redact(cause.Error())
	permanent := connector.IsPermanent(cause) || job.Attempt >= job.MaxAttempts
	wait, paced := connector.RetryDelay(cause)
	err := e.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.LockCase(ctx, s.CaseID); err != nil {
			return err
		}
		c, err := tx.GetCase(ctx, s.CaseID)
		if err != nil {
			return err
		}
		s.LastError = msg
		if verified != nil && !verified.CheckedAt.IsZero() {
			s.Evidence = verified
		}
		kind := audit.KindRetry
		text := fmt.Sprintf("%s failed (attempt %d of %d), will retry: %s", s.Action.Key(), job.Attempt, job.MaxAttempts, msg)
		if permanent {
			s.State, kind = store.StepFailed, audit.KindStepFailed
			text = fmt.Sprintf("%s failed and needs a human: %s", s.Action.Key(), msg)
		} else {
			s.State = store.StepRetrying
		}
		if err := tx.UpdateStep(ctx, &s); err != nil {
			return err
		}
		if verified != nil {
			if err := e.recordApply(ctx, tx, s); err != nil {
				return err
			}
		}
		if err := e.record(ctx, tx, s.CaseID, kind, "engine", text, map[string]any{"action": s.Action, "attempt": job.Attempt, "error": msg}); err != nil {
			return err
		}
		return e.settle(ctx, tx, &c, nil)
	})
	if err != nil {
		return fmt.Errorf("step %d: record failure (%s): %w", s.ID, msg, err)
	}
	e.log.Warn("step failed", "case", s.CaseID, "step", s.ID, "action", s.Action.Key(), "attempt", job.Attempt, "permanent", permanent, "error", msg)
	switch {
	case permanent:
		return river.JobCancel(errors.New(msg))
	case paced:
		return river.JobSnooze(wait)
	default:
		return errors.New(msg)
	}
}

package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/offboard-dev/offboard/internal/audit"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/ticket"
)

// Receive stores an HR event and acts on it: a termination opens a case (now, or scheduled
// for its effective time), a rescission cancels a scheduled case. It returns only after the
// event and everything it caused are committed, so the caller may acknowledge the sender.
// The same event twice opens one case; an event ID reused with a different body is
// hr.ErrConflict.
func (e *Engine) Receive(ctx context.Context, ev hr.Event) (hr.Receipt, error) {
	return e.open(ctx, ev, nil)
}

// Open receives a termination whose plan the caller already made and showed (the CLI's run
// command), so the case starts applying at once with exactly that plan.
func (e *Engine) Open(ctx context.Context, ev hr.Event, plans []connector.Plan) (hr.Receipt, error) {
	if ev.Type != hr.Termination {
		return hr.Receipt{}, errors.New("engine: only a termination can be opened with a plan")
	}
	return e.open(ctx, ev, plans)
}

func (e *Engine) open(ctx context.Context, ev hr.Event, plans []connector.Plan) (hr.Receipt, error) {
	if err := ev.Validate(); err != nil {
		return hr.Receipt{}, fmt.Errorf("engine: bad event: %w", err)
	}
	var receipt hr.Receipt
	err := e.store.InTx(ctx, func(tx store.Tx) error {
		now := e.now()
		inserted, existing, err := tx.InsertEvent(ctx, ev, now)
		if err != nil {
			return fmt.Errorf("engine: store event %s: %w", ev.ID, err)
		}
		if !inserted {
			if existing.Digest != ev.Digest() {
				return hr.ErrConflict
			}
			receipt = hr.Receipt{CaseID: existing.CaseID, Outcome: hr.Duplicate, Note: "event already received"}
			return nil
		}
		// On PostgreSQL an audit append holds the chain's lock until commit, so a case lock
		// (which the rescission takes) must come first; receivedRecord is called after it.
		switch ev.Type {
		case hr.Termination:
			receipt, err = e.openCase(ctx, tx, ev, plans, now)
		case hr.Rescission:
			receipt, err = e.rescind(ctx, tx, ev, now)
		}
		if err != nil {
			return err
		}
		return tx.SetEventOutcome(ctx, ev.ID, receipt.CaseID, receipt.Outcome)
	})
	if err != nil {
		return hr.Receipt{}, err
	}
	return receipt, nil
}

func (e *Engine) receivedRecord(ctx context.Context, tx store.Tx, ev hr.Event) error {
	return e.record(ctx, tx, 0, audit.KindEventReceived, actorOf(ev), fmt.Sprintf("%s %s for %s from %s", ev.Type, ev.ID, who(ev), ev.Source), ev)
}

func (e *Engine) openCase(ctx context.Context, tx store.Tx, ev hr.Event, plans []connector.Plan, now time.Time) (hr.Receipt, error) {
	if c, ok, err := tx.FindOpenCase(ctx, ev.WorkerID, ev.Email); err != nil {
		return hr.Receipt{}, fmt.Errorf("engine: look for an open case: %w", err)
	} else if ok {
		if c.State == store.CaseScheduled && !c.EffectiveAt.Equal(ev.EffectiveAt.UTC()) && plans == nil {
			return e.reschedule(ctx, tx, c, ev, now)
		}
		if err := e.receivedRecord(ctx, tx, ev); err != nil {
			return hr.Receipt{}, err
		}
		return hr.Receipt{CaseID: c.ID, Outcome: hr.Duplicate, Note: fmt.Sprintf("case %d is already open for this person", c.ID)}, nil
	}
	if err := e.receivedRecord(ctx, tx, ev); err != nil {
		return hr.Receipt{}, err
	}
	c := &store.Case{
		Person:      connector.Person{WorkerID: ev.WorkerID, Email: ev.Email, Name: ev.Name, Manager: ev.Manager, Handles: ev.Handles},
		State:       store.CasePlanning,
		Urgent:      ev.Involuntary,
		Source:      ev.Source,
		EventID:     ev.ID,
		Reason:      ev.Reason,
		EffectiveAt: ev.EffectiveAt.UTC(),
	}
	scheduled := ev.EffectiveAt.After(now.Add(time.Second)) && plans == nil
	if scheduled {
		c.State = store.CaseScheduled
	}
	if err := tx.CreateCase(ctx, c); err != nil {
		return hr.Receipt{}, fmt.Errorf("engine: create case: %w", err)
	}
	if err := e.queueTicket(ctx, tx, c, "create", ticket.Open(*c)); err != nil {
		return hr.Receipt{}, err
	}
	if plans != nil {
		if err := e.record(ctx, tx, c.ID, audit.KindCaseOpened, actorOf(ev), fmt.Sprintf("case %d opened for %s with a plan confirmed by %s", c.ID, who(ev), actorOf(ev)), nil); err != nil {
			return hr.Receipt{}, err
		}
		if err := e.startPlanned(ctx, tx, c, plans); err != nil {
			return hr.Receipt{}, err
		}
		return hr.Receipt{CaseID: c.ID, Outcome: hr.Opened}, nil
	}
	opts := &river.InsertOpts{Queue: queueFor(*c), UniqueOpts: river.UniqueOpts{ByArgs: true}}
	if scheduled {
		opts.ScheduledAt = c.EffectiveAt
	}
	jobID, _, err := e.q.insertTx(ctx, tx, planArgs{CaseID: c.ID}, opts)
	if err != nil {
		return hr.Receipt{}, err
	}
	c.JobID = jobID
	if err := tx.UpdateCase(ctx, c); err != nil {
		return hr.Receipt{}, fmt.Errorf("engine: record job of case %d: %w", c.ID, err)
	}
	if scheduled {
		msg := fmt.Sprintf("case %d scheduled for %s at %s", c.ID, who(ev), c.EffectiveAt.Format(time.RFC3339))
		if err := e.record(ctx, tx, c.ID, audit.KindCaseScheduled, actorOf(ev), msg, nil); err != nil {
			return hr.Receipt{}, err
		}
		return hr.Receipt{CaseID: c.ID, Outcome: hr.Scheduled}, nil
	}
	if err := e.record(ctx, tx, c.ID, audit.KindCaseOpened, actorOf(ev), fmt.Sprintf("case %d opened for %s", c.ID, who(ev)), nil); err != nil {
		return hr.Receipt{}, err
	}
	return hr.Receipt{CaseID: c.ID, Outcome: hr.Opened}, nil
}

// reschedule moves a case that has not started to the effective time of a newer termination
// for the same person (HR corrected the date), or starts it now if that time has come.
func (e *Engine) reschedule(ctx context.Context, tx store.Tx, c store.Case, ev hr.Event, now time.Time) (hr.Receipt, error) {
	if err := tx.LockCase(ctx, c.ID); err != nil {
		return hr.Receipt{}, fmt.Errorf("engine: lock case %d: %w", c.ID, err)
	}
	if err := e.receivedRecord(ctx, tx, ev); err != nil {
		return hr.Receipt{}, err
	}
	if c.JobID != 0 {
		if err := e.q.cancelTx(ctx, tx, c.JobID); err != nil {
			return hr.Receipt{}, err
		}
	}
	was := c.EffectiveAt
	c.EffectiveAt, c.Urgent = ev.EffectiveAt.UTC(), c.Urgent || ev.Involuntary
	outcome := hr.Scheduled
	opts := &river.InsertOpts{Queue: queueFor(c)}
	if c.EffectiveAt.After(now.Add(time.Second)) {
		opts.ScheduledAt = c.EffectiveAt
	} else {
		c.State, outcome = store.CasePlanning, hr.Opened
	}
	jobID, _, err := e.q.insertTx(ctx, tx, planArgs{CaseID: c.ID}, opts)
	if err != nil {
		return hr.Receipt{}, err
	}
	c.JobID = jobID
	if err := tx.UpdateCase(ctx, &c); err != nil {
		return hr.Receipt{}, fmt.Errorf("engine: reschedule case %d: %w", c.ID, err)
	}
	msg := fmt.Sprintf("case %d moved from %s to %s by %s", c.ID, was.Format(time.RFC3339), c.EffectiveAt.Format(time.RFC3339), ev.ID)
	if err := e.record(ctx, tx, c.ID, audit.KindCaseScheduled, actorOf(ev), msg, nil); err != nil {
		return hr.Receipt{}, err
	}
	if err := e.queueTicket(ctx, tx, &c, "comment", ticket.Doc{Blocks: []ticket.Block{{Paragraph: "Effective time changed: " + msg + "."}}}); err != nil {
		return hr.Receipt{}, err
	}
	return hr.Receipt{CaseID: c.ID, Outcome: outcome, Note: msg}, nil
}

func (e *Engine) rescind(ctx context.Context, tx store.Tx, ev hr.Event, now time.Time) (hr.Receipt, error) {
	c, ok, err := tx.FindOpenCase(ctx, ev.WorkerID, ev.Email)
	if err != nil {
		return hr.Receipt{}, fmt.Errorf("engine: look for the case to rescind: %w", err)
	}
	if !ok {
		return hr.Receipt{Outcome: hr.Ignored, Note: "no open case for this person"}, e.receivedRecord(ctx, tx, ev)
	}
	if err := tx.LockCase(ctx, c.ID); err != nil {
		return hr.Receipt{}, fmt.Errorf("engine: lock case %d: %w", c.ID, err)
	}
	if err := e.receivedRecord(ctx, tx, ev); err != nil {
		return hr.Receipt{}, err
	}
	if c, err = tx.GetCase(ctx, c.ID); err != nil {
		return hr.Receipt{}, fmt.Errorf("engine: read case: %w", err)
	}
	if c.State != store.CaseScheduled {
		note := fmt.Sprintf("case %d is already %s; the rescission is recorded but access already removed must be restored by a human", c.ID, c.State)
		if err := e.record(ctx, tx, c.ID, audit.KindHumanAction, actorOf(ev), "rescission arrived too late: "+note, nil); err != nil {
			return hr.Receipt{}, err
		}
		if err := e.queueTicket(ctx, tx, &c, "comment", ticket.Doc{Blocks: []ticket.Block{{Paragraph: "Rescission received (" + ev.ID + ") after the termination took effect. " + note + "."}}}); err != nil {
			return hr.Receipt{}, err
		}
		return hr.Receipt{CaseID: c.ID, Outcome: hr.Ignored, Note: note}, nil
	}
	if c.JobID != 0 {
		if err := e.q.cancelTx(ctx, tx, c.JobID); err != nil {
			return hr.Receipt{}, err
		}
	}
	c.State = store.CaseCancelled
	if err := tx.UpdateCase(ctx, &c); err != nil {
		return hr.Receipt{}, fmt.Errorf("engine: cancel case %d: %w", c.ID, err)
	}
	msg := fmt.Sprintf("case %d cancelled by rescission %s before it took effect (%s)", c.ID, ev.ID, c.EffectiveAt.Format(time.RFC3339))
	if err := e.record(ctx, tx, c.ID, audit.KindCaseCancelled, actorOf(ev), msg, nil); err != nil {
		return hr.Receipt{}, err
	}
	if err := e.queueTicket(ctx, tx, &c, "comment", ticket.Doc{Blocks: []ticket.Block{{Paragraph: "Cancelled: " + msg + ". Nothing was changed in any system."}}}); err != nil {
		return hr.Receipt{}, err
	}
	return hr.Receipt{CaseID: c.ID, Outcome: hr.Cancelled}, nil
}

func queueFor(c store.Case) string {
	if c.Urgent {
		return QueueUrgent
	}
	return QueueDefault
}

func actorOf(ev hr.Event) string {
	if ev.Actor != "" {
		return ev.Actor
	}
	return ev.Source
}

func who(ev hr.Event) string {
	switch {
	case ev.Name != "" && ev.Email != "":
		return fmt.Sprintf("%s <%s>", ev.Name, ev.Email)
	case ev.Email != "":
		return ev.Email
	default:
		return "worker " + ev.WorkerID
	}
}

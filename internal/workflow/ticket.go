package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/offboard-dev/offboard/internal/audit"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/ticket"
)

type attachment struct {
	Filename string `json:"filename"`
	Data     []byte `json:"data"`
}

type labels struct {
	Add    []string `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

type transition struct {
	Name string `json:"name"`
}

type ticketArgs struct {
	CaseID int64 `json:"case_id"`
	// FollowUp marks the job queued for updates that arrived while another delivery job for
	// the case was already running (and may have finished reading the outbox).
	FollowUp bool `json:"follow_up,omitempty"`
}

func (ticketArgs) Kind() string { return "offboard_ticket" }

// uniqueWhileQueued dedupes ticket jobs for a case while one waits or runs, but not once it
// completed, so later updates always get a job.
var uniqueWhileQueued = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable,
}}

// queueTicket adds a ticket update to the case's outbox and makes sure a job will deliver it.
// The content is rendered now, so the ticket tells what was true when it happened.
func (e *Engine) queueTicket(ctx context.Context, tx store.Tx, c *store.Case, kind string, payload any) error {
	if e.tracker == nil {
		return nil
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("engine: encode ticket %s: %w", kind, err)
	}
	u := &store.TicketUpdate{CaseID: c.ID, Kind: kind, Payload: json.RawMessage(e.redact(string(b)))}
	if err := tx.AddTicketUpdate(ctx, u); err != nil {
		return fmt.Errorf("engine: queue ticket %s for case %d: %w", kind, c.ID, err)
	}
	return e.queueDelivery(ctx, tx, c.ID)
}

// queueDelivery makes sure a job will deliver the case's outbox. A delivery job that is
// already running may have read the outbox before this transaction commits, so then a
// follow-up job is queued shortly after it; deliveries for one case never overlap (the
// ticket lease).
func (e *Engine) queueDelivery(ctx context.Context, tx store.Tx, caseID int64) error {
	opts := &river.InsertOpts{Queue: QueueTicket, UniqueOpts: uniqueWhileQueued, MaxAttempts: 1000}
	_, state, err := e.q.insertTx(ctx, tx, ticketArgs{CaseID: caseID}, opts)
	if err != nil || state != rivertype.JobStateRunning {
		return err
	}
	opts.ScheduledAt = e.now().Add(200 * time.Millisecond)
	_, _, err = e.q.insertTx(ctx, tx, ticketArgs{CaseID: caseID, FollowUp: true}, opts)
	return err
}

type ticketWorker struct {
	river.WorkerDefaults[ticketArgs]
	e *Engine
}

// ticketLease is how long one delivery may hold a case's ticket before another may take it
// over; it is renewed before each update, so only a crashed holder lets it run out.
const ticketLease = 2 * time.Minute

// Work delivers a case's pending ticket updates in order. A transient failure stops here and
// is retried with backoff (later updates wait, so the ticket reads in order); a permanent one
// is recorded and skipped so it cannot block the rest. One delivery runs per case at a time,
// across replicas, under a lease; a job that finds the lease taken tries again shortly.
func (w *ticketWorker) Work(ctx context.Context, job *river.Job[ticketArgs]) error {
	e := w.e
	holder := fmt.Sprintf("job %d attempt %d", job.ID, job.Attempt)
	lease := func() (bool, error) {
		var ok bool
		err := e.store.InTx(ctx, func(tx store.Tx) error {
			var err error
			ok, err = tx.LeaseTicket(ctx, job.Args.CaseID, holder, e.now().Add(ticketLease))
			return err
		})
		return ok, err
	}
	if ok, err := lease(); err != nil {
		return fmt.Errorf("ticket for case %d: %w", job.Args.CaseID, err)
	} else if !ok {
		return river.JobSnooze(time.Second)
	}
	defer func() {
		release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = e.store.InTx(release, func(tx store.Tx) error { return tx.ReleaseTicket(release, job.Args.CaseID, holder) })
	}()
	for {
		var c store.Case
		var pending []store.TicketUpdate
		err := e.store.InTx(ctx, func(tx store.Tx) error {
			var err error
			if c, err = tx.GetCase(ctx, job.Args.CaseID); err != nil {
				return err
			}
			pending, err = tx.PendingTicketUpdates(ctx, c.ID)
			return err
		})
		if err != nil {
			return fmt.Errorf("ticket for case %d: %w", job.Args.CaseID, err)
		}
		if len(pending) == 0 {
			return nil
		}
		key := c.TicketKey
		for _, u := range pending {
			if ok, err := lease(); err != nil || !ok {
				// Lost to an expiry (this delivery stalled past the lease); whoever holds it now
				// delivers the rest.
				return err
			}
			if err := e.deliver(ctx, &key, u); err != nil {
				msg := e.redact(err.Error())
				permanent := connector.IsPermanent(err)
				if permanent {
					e.metrics.ticket("failed_permanently")
				} else {
					e.metrics.ticket("failed")
				}
				rerr := e.store.InTx(ctx, func(tx store.Tx) error {
					if err := tx.FinishTicketUpdate(ctx, u.ID, permanent, msg); err != nil {
						return err
					}
					if permanent || u.Attempts == 0 {
						return e.record(ctx, tx, c.ID, audit.KindTicketFailed, "engine", fmt.Sprintf("ticket %s update failed (permanent=%v): %s", u.Kind, permanent, msg), nil)
					}
					return nil
				})
				if rerr != nil {
					return rerr
				}
				if permanent {
					continue
				}
				return errors.New(msg)
			}
			err := e.store.InTx(ctx, func(tx store.Tx) error {
				if u.Kind == "create" {
					if err := tx.LockCase(ctx, c.ID); err != nil {
						return err
					}
					cur, err := tx.GetCase(ctx, c.ID)
					if err != nil {
						return err
					}
					cur.TicketKey = key
					if err := tx.UpdateCase(ctx, &cur); err != nil {
						return err
					}
					if err := e.record(ctx, tx, c.ID, audit.KindTicketUpdated, "engine", "ticket "+key+" created", nil); err != nil {
						return err
					}
				}
				return tx.FinishTicketUpdate(ctx, u.ID, true, "")
			})
			if err != nil {
				return fmt.Errorf("ticket for case %d: record delivery: %w", c.ID, err)
			}
			e.metrics.ticket("delivered")
		}
	}
}

func (e *Engine) deliver(ctx context.Context, key *string, u store.TicketUpdate) error {
	if u.Kind != "create" && *key == "" {
		return errors.New("the ticket has not been created yet")
	}
	switch u.Kind {
	case "create":
		if *key != "" {
			return nil
		}
		var t ticket.NewTicket
		if err := json.Unmarshal(u.Payload, &t); err != nil {
			return connector.Permanent(fmt.Errorf("decode ticket: %w", err))
		}
		k, err := e.tracker.Create(ctx, t)
		if err != nil {
			return err
		}
		*key = k
		return nil
	case "comment":
		var d ticket.Doc
		if err := json.Unmarshal(u.Payload, &d); err != nil {
			return connector.Permanent(fmt.Errorf("decode comment: %w", err))
		}
		return e.tracker.Comment(ctx, *key, d)
	case "attach":
		var a attachment
		if err := json.Unmarshal(u.Payload, &a); err != nil {
			return connector.Permanent(fmt.Errorf("decode attachment: %w", err))
		}
		return e.tracker.Attach(ctx, *key, a.Filename, a.Data)
	case "labels":
		var l labels
		if err := json.Unmarshal(u.Payload, &l); err != nil {
			return connector.Permanent(fmt.Errorf("decode labels: %w", err))
		}
		return e.tracker.Label(ctx, *key, l.Add, l.Remove)
	case "transition":
		var t transition
		if err := json.Unmarshal(u.Payload, &t); err != nil {
			return connector.Permanent(fmt.Errorf("decode transition: %w", err))
		}
		return e.tracker.Transition(ctx, *key, t.Name)
	}
	return connector.Permanent(fmt.Errorf("unknown ticket update %q", u.Kind))
}

type sweepArgs struct{}

func (sweepArgs) Kind() string { return "offboard_ticket_sweep" }

type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	e *Engine
}

// Work re-queues delivery for every case with undelivered ticket updates, covering an update
// queued while its case's delivery job was finishing.
func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	e := w.e
	if e.tracker == nil {
		return nil
	}
	return e.store.InTx(ctx, func(tx store.Tx) error {
		ids, err := tx.CasesWithPendingTicketUpdates(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := e.queueDelivery(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

type periodicArgs struct {
	Name string `json:"name"`
}

func (periodicArgs) Kind() string { return "offboard_periodic" }

type periodicWorker struct {
	river.WorkerDefaults[periodicArgs]
	e    *Engine
	jobs []Periodic
}

func (w *periodicWorker) Work(ctx context.Context, job *river.Job[periodicArgs]) error {
	for _, p := range w.jobs {
		if p.Name == job.Args.Name {
			if err := p.Run(ctx); err != nil {
				w.e.log.Error("periodic job failed", "job", p.Name, "error", w.e.redact(err.Error()))
				return fmt.Errorf("%s: %w", p.Name, err)
			}
			return nil
		}
	}
	return river.JobCancel(fmt.Errorf("no periodic job named %q on this replica", job.Args.Name))
}

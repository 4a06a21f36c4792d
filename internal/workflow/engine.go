// Package workflow runs cases on the durable job engine (River): it opens cases from HR events,
// plans them, applies and verifies each step in dependency order, settles each case as
// completed or partial, and keeps the ticket truthful through an outbox. Jobs carry only IDs;
// the state lives in the store, written in the same transaction as the jobs it enqueues, so a
// crash at any point resumes without losing or repeating work.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/offboard-dev/offboard/internal/audit"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/ticket"
)

// Queue names. Urgent (involuntary, walk-out) cases have their own workers so a bulk layoff on
// the default queue cannot starve them; ticket updates have theirs so a slow ticket system
// never holds a revocation worker.
const (
	QueueUrgent  = "urgent"
	QueueDefault = river.QueueDefault
	QueueTicket  = "ticket"
)

// Config wires an Engine.
type Config struct {
	Store      store.Store
	Backend    Backend
	Connectors []connector.Connector
	// Tracker writes tickets; nil means no ticket system is configured.
	Tracker ticket.Tracker
	// DoneTransition is the ticket transition used when everything is verified.
	DoneTransition string
	Log            *slog.Logger
	// Redact removes known secrets from text before it is stored or logged.
	Redact func(string) string
	// Periodic jobs run on the leader only (one replica at a time).
	Periodic []Periodic
	// Workers per queue; 0 means 50 (urgent and default). The ticket queue has 2.
	Workers int
	// Tuning; zero values get production defaults (see withDefaults).
	Tuning Tuning
	// Metrics receives the engine's Prometheus series; nil means none.
	Metrics prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Periodic is a job the leader runs on an interval, such as the Workday poll.
type Periodic struct {
	Name     string
	Interval time.Duration
	Run      func(ctx context.Context) error
}

// Tuning holds the engine's timing knobs.
type Tuning struct {
	// VerifyReads is how many read-backs one attempt makes before it counts as unverified;
	// systems such as Okta show a change only after a moment.
	VerifyReads int
	// VerifyDelay is the first pause between read-backs; it doubles each time.
	VerifyDelay time.Duration
	// PartialAfter is the attempt after which a still-failing step makes its case partial
	// (the step keeps retrying; the case tells people it needs attention).
	PartialAfter int
	// MaxAttempts is how many times a step is tried before it is marked failed for good.
	MaxAttempts int
	// StepTimeout bounds one attempt of one step.
	StepTimeout time.Duration
	// RescueAfter is how long a job may show as running before it is taken to belong to a
	// crashed process and run again; it must exceed StepTimeout. 0 means 1.5 × StepTimeout.
	RescueAfter time.Duration
	// PollInterval is how often idle workers look for new jobs; it is the latency between
	// a step being verified and its dependents starting on a database without notifications.
	PollInterval time.Duration
	// TicketSweep is how often cases with undelivered ticket updates are re-queued.
	TicketSweep time.Duration
	// RetryBase scales the retry schedule (1, 3, 10 units, then attempt⁴ units, at most an
	// hour); 0 means one second. Tests shorten it.
	RetryBase time.Duration
}

func (t Tuning) withDefaults() Tuning {
	// Ten reads, pausing 25 ms at first and doubling (at most 5 s), give a change about
	// eleven seconds to show: enough for Okta's deactivation, short enough to retry soon.
	if t.VerifyReads <= 0 {
		t.VerifyReads = 10
	}
	if t.VerifyDelay <= 0 {
		t.VerifyDelay = 25 * time.Millisecond
	}
	if t.PartialAfter <= 0 {
		t.PartialAfter = 3
	}
	if t.MaxAttempts <= 0 {
		t.MaxAttempts = 20
	}
	if t.StepTimeout <= 0 {
		t.StepTimeout = 2 * time.Minute
	}
	if t.RescueAfter <= t.jobTimeout() {
		t.RescueAfter = t.StepTimeout * 3 / 2
	}
	if t.PollInterval <= 0 {
		t.PollInterval = 20 * time.Millisecond
	}
	if t.TicketSweep <= 0 {
		t.TicketSweep = 30 * time.Second
	}
	if t.RetryBase <= 0 {
		t.RetryBase = time.Second
	}
	return t
}

// jobTimeout leaves a job a little longer than its step, for the database writes after it.
func (t Tuning) jobTimeout() time.Duration { return t.StepTimeout + t.StepTimeout/4 }

// Engine runs cases. It implements hr.Intake.
type Engine struct {
	store      store.Store
	q          queue
	connectors map[string]connector.Connector
	order      []string
	tracker    ticket.Tracker
	done       string
	log        *slog.Logger
	redact     func(string) string
	tune       Tuning
	now        func() time.Time
	metrics    *metrics
	// stopping is set once Stop begins, so that River's complaints about its own cancelled
	// context are not logged as errors.
	stopping atomic.Bool
}

// New builds an Engine and its job client; call Start to begin working.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil || cfg.Backend == nil {
		return nil, errors.New("engine: store and backend are required")
	}
	e := &Engine{
		store:      cfg.Store,
		connectors: map[string]connector.Connector{},
		tracker:    cfg.Tracker,
		done:       cfg.DoneTransition,
		log:        cfg.Log,
		redact:     cfg.Redact,
		tune:       cfg.Tuning.withDefaults(),
		now:        cfg.Now,
		metrics:    newMetrics(cfg.Metrics),
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.redact == nil {
		e.redact = func(s string) string { return s }
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.done == "" {
		e.done = "Done"
	}
	for _, c := range cfg.Connectors {
		if _, dup := e.connectors[c.System()]; dup {
			return nil, fmt.Errorf("engine: two connectors named %q", c.System())
		}
		e.connectors[c.System()] = c
		e.order = append(e.order, c.System())
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &planWorker{e: e})
	river.AddWorker(workers, &stepWorker{e: e})
	river.AddWorker(workers, &ticketWorker{e: e})
	river.AddWorker(workers, &sweepWorker{e: e})
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(e.tune.TicketSweep), func() (river.JobArgs, *river.InsertOpts) {
			return sweepArgs{}, &river.InsertOpts{Queue: QueueTicket}
		}, &river.PeriodicJobOpts{ID: "ticket_sweep", RunOnStart: true}),
	}
	if len(cfg.Periodic) > 0 {
		river.AddWorker(workers, &periodicWorker{e: e, jobs: cfg.Periodic})
	}
	for _, p := range cfg.Periodic {
		name := p.Name
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(p.Interval), func() (river.JobArgs, *river.InsertOpts) {
			return periodicArgs{Name: name}, &river.InsertOpts{Queue: QueueDefault, MaxAttempts: 1}
		}, &river.PeriodicJobOpts{ID: "periodic_" + name, RunOnStart: true}))
	}
	// Steps spend their time waiting on vendor APIs, and each connector caps its own
	// requests in flight, so many workers cost little and let wide plans (dozens of group
	// removals) run in one round.
	n := cfg.Workers
	if n <= 0 {
		n = 50
	}
	rc := &river.Config{
		Queues: map[string]river.QueueConfig{
			QueueUrgent:  {MaxWorkers: n},
			QueueDefault: {MaxWorkers: n},
			QueueTicket:  {MaxWorkers: 2},
		},
		Workers:              workers,
		PeriodicJobs:         periodic,
		FetchCooldown:        min(10*time.Millisecond, e.tune.PollInterval),
		FetchPollInterval:    e.tune.PollInterval,
		JobTimeout:           e.tune.jobTimeout(),
		RescueStuckJobsAfter: e.tune.RescueAfter,
		MaxAttempts:          e.tune.MaxAttempts,
		RetryPolicy:          retryPolicy{base: e.tune.RetryBase},
		Logger:               slog.New(riverLog{e.log.Handler(), &e.stopping}).With("component", "river"),
	}
	q, err := cfg.Backend(rc)
	if err != nil {
		return nil, err
	}
	e.q = q
	return e, nil
}

// Start begins working jobs; it returns once the job client is running.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.q.start(ctx); err != nil {
		return fmt.Errorf("engine: start: %w", err)
	}
	return nil
}

// Stop lets running jobs finish (bounded by ctx) and stops fetching new ones.
func (e *Engine) Stop(ctx context.Context) error {
	e.stopping.Store(true)
	if err := e.q.stop(ctx); err != nil {
		return fmt.Errorf("engine: stop: %w", err)
	}
	return nil
}

// Systems lists the connected systems in configuration order.
func (e *Engine) Systems() []string { return append([]string(nil), e.order...) }

// retryPolicy retries quickly at first, so a blip costs seconds, then backs off to an hour,
// so a system down for a day is retried without hammering it.
type retryPolicy struct{ base time.Duration }

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	n := len(job.Errors) + 1
	var units int
	switch n {
	case 1:
		units = 1
	case 2:
		units = 3
	case 3:
		units = 10
	default:
		units = min(n*n*n*n, 3600)
	}
	return time.Now().UTC().Add(min(time.Duration(units)*p.base, time.Hour))
}

// record appends an audit record inside tx, with secrets removed from its text.
func (e *Engine) record(ctx context.Context, tx store.Tx, caseID int64, kind, actor, msg string, data any) error {
	r := &audit.Record{At: e.now(), Actor: actor, CaseID: caseID, Kind: kind, Message: e.redact(msg)}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("audit %s: encode data: %w", kind, err)
		}
		r.Data = json.RawMessage(e.redact(string(b)))
	}
	if err := tx.AppendAudit(ctx, r); err != nil {
		return fmt.Errorf("audit %s: %w", kind, err)
	}
	return nil
}

// ptr returns a pointer to a copy of t.
func ptr(t time.Time) *time.Time { return &t }

// Package store keeps offboard's own state: HR events, cases, steps, the audit chain and the
// ticket outbox. The same code runs on SQLite (the embedded default) and PostgreSQL (for
// several replicas); sqlite/ and postgres/ open each, and storetest/ is the one suite both pass.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/offboard-dev/offboard/internal/audit"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/hr"
)

// ErrNotFound is returned when a row asked for by ID does not exist.
var ErrNotFound = errors.New("not found")

// CaseState is where a case stands.
type CaseState string

const (
	// CaseScheduled waits for its effective time.
	CaseScheduled CaseState = "scheduled"
	// CasePlanning is reading the systems to build the plan.
	CasePlanning CaseState = "planning"
	// CaseRunning is applying and verifying its steps.
	CaseRunning CaseState = "running"
	// CaseCompleted has every step verified.
	CaseCompleted CaseState = "completed"
	// CasePartial could not finish: some step failed or keeps failing. It stays open and its
	// retrying steps continue; the ticket says what a human must do.
	CasePartial CaseState = "partial"
	// CaseCancelled was rescinded (or cancelled by a human) before it took effect.
	CaseCancelled CaseState = "cancelled"
)

// Open reports whether the case may still change by itself.
func (s CaseState) Open() bool {
	return s == CaseScheduled || s == CasePlanning || s == CaseRunning || s == CasePartial
}

// Case is one person's offboarding.
type Case struct {
	ID          int64            `json:"id"`
	Person      connector.Person `json:"person"`
	State       CaseState        `json:"state"`
	Urgent      bool             `json:"urgent"`
	Source      string           `json:"source"`
	EventID     string           `json:"event_id"`
	Reason      string           `json:"reason,omitempty"`
	EffectiveAt time.Time        `json:"effective_at"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
	// TicketKey is the deprovisioning ticket, e.g. "SEC-42", once created.
	TicketKey string `json:"ticket_key,omitempty"`
	// Plans are what each connector found: the account, kept access, manual work and notes.
	// Their actions are the case's steps (the audit's plan record holds the plan whole).
	Plans []connector.Plan `json:"plans,omitempty"`
	// Systems records, per system, the last outcome announced on the ticket ("done",
	// "failed"), so each is announced once.
	Systems map[string]string `json:"systems,omitempty"`
	// JobID is the engine job that will start a scheduled case, so a rescission can cancel it.
	JobID int64 `json:"-"`
}

// StepState is where one action stands.
type StepState string

const (
	// StepPending waits for the steps it depends on.
	StepPending StepState = "pending"
	// StepQueued has a job and will run.
	StepQueued StepState = "queued"
	// StepVerified was read back and shown to be in effect.
	StepVerified StepState = "verified"
	// StepRetrying failed and will be tried again.
	StepRetrying StepState = "retrying"
	// StepFailed failed in a way retrying cannot fix; a human must act.
	StepFailed StepState = "failed"
)

// Step is one action of a case and everything known about it.
type Step struct {
	ID        int64            `json:"id"`
	CaseID    int64            `json:"case_id"`
	Seq       int              `json:"seq"`
	Action    connector.Action `json:"action"`
	DependsOn []int64          `json:"depends_on,omitempty"`
	State     StepState        `json:"state"`
	Attempts  int              `json:"attempts"`
	LastError string           `json:"last_error,omitempty"`
	// AppliedAt is when Apply last succeeded; VerifiedAt when a read-back proved it.
	AppliedAt  *time.Time          `json:"applied_at,omitempty"`
	VerifiedAt *time.Time          `json:"verified_at,omitempty"`
	Evidence   *connector.Evidence `json:"evidence,omitempty"`
	UpdatedAt  time.Time           `json:"updated_at"`
}

// EventRecord is a stored HR event with what it led to.
type EventRecord struct {
	Event      hr.Event   `json:"event"`
	Digest     string     `json:"digest"`
	ReceivedAt time.Time  `json:"received_at"`
	CaseID     int64      `json:"case_id,omitempty"`
	Outcome    hr.Outcome `json:"outcome,omitempty"`
}

// TicketUpdate is one pending change to a case's ticket, kept in an outbox so that a ticket
// system outage never blocks revocation and no update is lost.
type TicketUpdate struct {
	ID     int64  `json:"id"`
	CaseID int64  `json:"case_id"`
	Kind   string `json:"kind"`
	// Payload is the rendered content, fixed when the update was queued.
	Payload   json.RawMessage `json:"payload"`
	CreatedAt time.Time       `json:"created_at"`
	DoneAt    *time.Time      `json:"done_at,omitempty"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"last_error,omitempty"`
}

// CaseFilter narrows ListCases. Zero values match everything.
type CaseFilter struct {
	States []CaseState
	Email  string
	// Limit caps the result (newest first); 0 means 100.
	Limit int
}

// Store opens transactions on the database.
type Store interface {
	// InTx runs fn in one transaction, committed if fn returns nil and rolled back otherwise.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Driver names the database: "sqlite" or "postgres".
	Driver() string
	Close() error
}

// Tx is every query, inside one transaction. Methods take the caller's context.
type Tx interface {
	// Raw is the driver's transaction (*sql.Tx for SQLite, pgx.Tx for PostgreSQL), so the job
	// engine can enqueue work in the same transaction.
	Raw() any

	// InsertEvent stores e unless its ID is already stored. It returns the existing record
	// (and inserted=false) when the ID was seen before.
	InsertEvent(ctx context.Context, e hr.Event, receivedAt time.Time) (inserted bool, existing EventRecord, err error)
	// SetEventOutcome records what an event led to.
	SetEventOutcome(ctx context.Context, eventID string, caseID int64, outcome hr.Outcome) error
	// ListEvents returns the newest events first, at most limit (0 means 100).
	ListEvents(ctx context.Context, limit int) ([]EventRecord, error)

	// CreateCase inserts c and sets its ID, CreatedAt and UpdatedAt.
	CreateCase(ctx context.Context, c *Case) error
	GetCase(ctx context.Context, id int64) (Case, error)
	// LockCase takes a write lock on the case row until the transaction ends, so that steps
	// finishing at once on different replicas see each other's results.
	LockCase(ctx context.Context, id int64) error
	// UpdateCase writes every mutable field of c and sets UpdatedAt.
	UpdateCase(ctx context.Context, c *Case) error
	// FindOpenCase returns the newest open case for the worker ID or (if workerID is "") email.
	FindOpenCase(ctx context.Context, workerID, email string) (Case, bool, error)
	ListCases(ctx context.Context, f CaseFilter) ([]Case, error)

	// InsertSteps inserts steps and sets their IDs and UpdatedAt.
	InsertSteps(ctx context.Context, steps []*Step) error
	GetStep(ctx context.Context, id int64) (Step, error)
	// UpdateStep writes every mutable field of s and sets UpdatedAt.
	UpdateStep(ctx context.Context, s *Step) error
	// ListSteps returns a case's steps in Seq order.
	ListSteps(ctx context.Context, caseID int64) ([]Step, error)

	// AppendAudit seals r onto the end of the hash chain (setting Seq, PrevHash and Hash) and
	// stores it. Appends are serialised across replicas.
	AppendAudit(ctx context.Context, r *audit.Record) error
	// ListAudit returns records with Seq > after, in order, at most limit (0 = all).
	ListAudit(ctx context.Context, after int64, limit int) ([]audit.Record, error)
	// AuditHead returns the last sealed record's Seq and Hash, kept apart from the records so
	// that deleting the newest records is detected.
	AuditHead(ctx context.Context) (seq int64, hash string, err error)

	// AddTicketUpdate queues u and sets its ID and CreatedAt.
	AddTicketUpdate(ctx context.Context, u *TicketUpdate) error
	// PendingTicketUpdates returns a case's undone updates in queue order.
	PendingTicketUpdates(ctx context.Context, caseID int64) ([]TicketUpdate, error)
	// FinishTicketUpdate records an attempt: done, or failed with errMsg.
	FinishTicketUpdate(ctx context.Context, id int64, done bool, errMsg string) error
	// CasesWithPendingTicketUpdates lists the cases that have undone updates.
	CasesWithPendingTicketUpdates(ctx context.Context) ([]int64, error)
	// LeaseTicket takes, or renews for the same holder, the lease on delivering a case's
	// ticket updates until expires, so that only one delivery runs per case across replicas.
	// It reports false while another holder's lease has not expired.
	LeaseTicket(ctx context.Context, caseID int64, holder string, expires time.Time) (bool, error)
	// ReleaseTicket gives up the holder's lease, if it still has it.
	ReleaseTicket(ctx context.Context, caseID int64, holder string) error
}

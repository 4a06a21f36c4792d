package workflow_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/audit"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/store/postgres"
	"github.com/offboard-dev/offboard/internal/store/sqlite"
	"github.com/offboard-dev/offboard/internal/store/storetest"
	"github.com/offboard-dev/offboard/internal/ticket"
	"github.com/offboard-dev/offboard/internal/workflow"
)

// fastTuning keeps the engine's waits short so tests finish in seconds.
var fastTuning = workflow.Tuning{
	VerifyReads:  3,
	VerifyDelay:  5 * time.Millisecond,
	PartialAfter: 2,
	MaxAttempts:  4,
	StepTimeout:  10 * time.Second,
	PollInterval: 20 * time.Millisecond,
	TicketSweep:  200 * time.Millisecond,
	RetryBase:    20 * time.Millisecond,
}

type harness struct {
	eng   *workflow.Engine
	store store.Store
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harnessOpts struct {
	backend    string // "sqlite" (default) or "postgres"
	connectors []connector.Connector
	tracker    ticket.Tracker
	redact     func(string) string
	tuning     *workflow.Tuning
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	ctx := context.Background()
	var st store.Store
	var backend workflow.Backend
	switch o.backend {
	case "postgres":
		url := storetest.NewPostgresSchema(t, storetest.PostgresURL(t))
		pg, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		st, backend = pg, workflow.Postgres(pg.Pool())
	default:
		sq, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "offboard.db"))
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		st, backend = sq, workflow.SQLite(sq.DB())
	}
	logs := &syncBuffer{}
	tuning := fastTuning
	if o.tuning != nil {
		tuning = *o.tuning
	}
	eng, err := workflow.New(workflow.Config{
		Store:      st,
		Backend:    backend,
		Connectors: o.connectors,
		Tracker:    o.tracker,
		Log:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Redact:     o.redact,
		Tuning:     tuning,
	})
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatalf("start engine: %v", err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = eng.Stop(stopCtx)
		_ = st.Close()
	})
	return &harness{eng: eng, store: st, logs: logs}
}

// waitCase polls until the case reaches one of states, failing the test with the case as it
// stands if it does not within the deadline (a deadline against hangs, not a speed check).
func (h *harness) waitCase(t *testing.T, id int64, states ...store.CaseState) workflow.CaseView {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v, err := h.eng.Case(context.Background(), id)
		if err == nil && slices.Contains(states, v.State) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("case %d did not reach %v: %s (err %v)", id, states, describe(v), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitTicketDrained polls until every ticket update of the case was delivered, and returns
// the case as it is then: a view read before may not know the ticket's key yet, since the
// ticket is created off the critical path.
func (h *harness) waitTicketDrained(t *testing.T, id int64) workflow.CaseView {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := h.eng.PendingTicketUpdates(context.Background(), id)
		if err == nil && n == 0 {
			v, err := h.eng.Case(context.Background(), id)
			if err != nil {
				t.Fatalf("read case %d: %v", id, err)
			}
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("case %d still has %d undelivered ticket updates (err %v)", id, n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func describe(v workflow.CaseView) string {
	var b strings.Builder
	fmt.Fprintf(&b, "state=%s", v.State)
	for _, s := range v.Steps {
		fmt.Fprintf(&b, "\n  %s %s attempts=%d err=%q", s.Action.Key(), s.State, s.Attempts, s.LastError)
	}
	return b.String()
}

func termination(id, email string, at time.Time) hr.Event {
	return hr.Event{ID: id, Source: "test", Actor: "test", Type: hr.Termination, WorkerID: "W-" + id, Email: email,
		Name: "Test Person", EffectiveAt: at}
}

// verifiedChain reads the whole audit log, fails the test if its hash chain is broken, and
// returns the records.
func verifiedChain(t *testing.T, st store.Store) []audit.Record {
	t.Helper()
	var recs []audit.Record
	var headSeq int64
	var headHash string
	err := st.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		if recs, err = tx.ListAudit(context.Background(), 0, 0); err != nil {
			return err
		}
		headSeq, headHash, err = tx.AuditHead(context.Background())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if problems := audit.Verify(recs, headSeq, headHash); len(problems) > 0 {
		t.Fatalf("audit chain broken: %v", problems)
	}
	return recs
}

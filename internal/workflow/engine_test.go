package workflow_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/store"
)

func TestCaseCompletesOnlyWhenEveryStepIsVerified(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			sys := newFakeSystem("fake")
			sys.add("ann@example.com", "eng", "ops", "admins")
			tr := newFakeTracker()
			h := newHarness(t, harnessOpts{backend: backend, connectors: []connector.Connector{sys}, tracker: tr})
			r, err := h.eng.Receive(context.Background(), termination("e1", "ann@example.com", time.Now()))
			if err != nil || r.Outcome != hr.Opened {
				t.Fatalf("receive: %+v, %v", r, err)
			}
			v := h.waitCase(t, r.CaseID, store.CaseCompleted, store.CasePartial)
			if v.State != store.CaseCompleted {
				t.Fatalf("case ended %s, want completed:\n%s", v.State, describe(v))
			}
			if len(v.Steps) != 5 {
				t.Fatalf("want 5 steps (session, 3 groups, close), got %d", len(v.Steps))
			}
			for _, s := range v.Steps {
				if s.State != store.StepVerified || s.VerifiedAt == nil || s.AppliedAt == nil || s.Evidence == nil || !s.Evidence.Verified {
					t.Errorf("step %s is %s without full evidence: %+v", s.Action.Key(), s.State, s)
				}
			}
			v = h.waitTicketDrained(t, r.CaseID)
			tk := tr.ticket(v.TicketKey)
			if v.TicketKey == "" || tk.status != "Done" {
				t.Fatalf("ticket %q status %q, want Done", v.TicketKey, tk.status)
			}
			if tk.labels["offboarding-partial"] {
				t.Error("a completed case's ticket carries the partial label")
			}
			if len(tk.attachments) != 1 {
				t.Errorf("want the evidence attached once, got %d attachments", len(tk.attachments))
			}
		})
	}
}

func TestDependentsStartOnlyAfterTheirDependenciesAreVerified(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("bo@example.com", "g1", "g2", "g3", "g4")
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}})
	r, err := h.eng.Receive(context.Background(), termination("e1", "bo@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	h.waitCase(t, r.CaseID, store.CaseCompleted)
	order := sys.appliedOrder()
	if len(order) != 6 || order[0] != "fake/revoke_session/bo@example.com" || order[5] != "fake/close/bo@example.com" {
		t.Fatalf("session must go first and the account close last, got %v", order)
	}
}

func TestPermanentFailureLeavesTheCasePartialAndTheTicketOpen(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("cy@example.com", "eng", "locked")
	sys.permanent["fake/remove_group/locked"] = true
	tr := newFakeTracker()
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}, tracker: tr})
	r, err := h.eng.Receive(context.Background(), termination("e1", "cy@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	v := h.waitCase(t, r.CaseID, store.CasePartial, store.CaseCompleted)
	if v.State != store.CasePartial {
		t.Fatalf("want partial, got %s", v.State)
	}
	states := map[string]store.StepState{}
	for _, s := range v.Steps {
		states[s.Action.Key()] = s.State
	}
	if states["fake/remove_group/locked"] != store.StepFailed {
		t.Errorf("refused step is %s, want failed", states["fake/remove_group/locked"])
	}
	if states["fake/close/cy@example.com"] != store.StepPending {
		t.Errorf("the close waiting on a failed step is %s, want pending (never run)", states["fake/close/cy@example.com"])
	}
	if sys.applyCalls("fake/close/cy@example.com") != 0 {
		t.Error("the account was closed although a step it depends on failed")
	}
	if len(v.NeedsHuman) == 0 {
		t.Error("a partial case must say what a human must do")
	}
	v = h.waitTicketDrained(t, r.CaseID)
	tk := tr.ticket(v.TicketKey)
	if tk.status == "Done" || !tk.labels["offboarding-partial"] {
		t.Fatalf("partial ticket: status %q labels %v; want open with offboarding-partial", tk.status, tk.labels)
	}
	if !strings.Contains(strings.Join(tk.comments, "\n"), "refused fake/remove_group/locked") {
		t.Errorf("the ticket does not say why the step failed:\n%s", strings.Join(tk.comments, "\n"))
	}
}

func TestStepThatNeverVerifiesIsNeverGreen(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("di@example.com", "eng")
	sys.neverGone["fake/remove_group/eng"] = true
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}})
	r, err := h.eng.Receive(context.Background(), termination("e1", "di@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	v := h.waitCase(t, r.CaseID, store.CasePartial, store.CaseCompleted)
	if v.State != store.CasePartial {
		t.Fatalf("a case with an unverifiable step ended %s", v.State)
	}
	for _, s := range v.Steps {
		if s.Action.Kind == "remove_group" {
			if s.State == store.StepVerified || s.VerifiedAt != nil {
				t.Fatalf("unverified step reported verified: %+v", s)
			}
			if !strings.Contains(s.LastError, "still shows") || s.Evidence == nil || s.Evidence.Verified {
				t.Errorf("want the failed read-back kept as evidence, got err %q evidence %+v", s.LastError, s.Evidence)
			}
		}
	}
}

func TestTransientFailuresAreRetriedUntilVerified(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("ed@example.com", "eng")
	sys.transient["fake/remove_group/eng"] = 2
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}})
	r, err := h.eng.Receive(context.Background(), termination("e1", "ed@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	h.waitCase(t, r.CaseID, store.CaseCompleted)
	if n := sys.applyCalls("fake/remove_group/eng"); n != 3 {
		t.Errorf("want 2 failed attempts and 1 success, got %d calls", n)
	}
}

func TestPartialCaseCompletesWhenALaterRetrySucceeds(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("fa@example.com", "eng")
	sys.mu.Lock()
	sys.neverGone["fake/remove_group/eng"] = true
	sys.mu.Unlock()
	tr := newFakeTracker()
	tune := fastTuning
	tune.MaxAttempts = 8
	tune.RetryBase = 100 * time.Millisecond
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}, tracker: tr, tuning: &tune})
	r, err := h.eng.Receive(context.Background(), termination("e1", "fa@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	h.waitCase(t, r.CaseID, store.CasePartial)
	sys.mu.Lock()
	delete(sys.neverGone, "fake/remove_group/eng")
	sys.mu.Unlock()
	v := h.waitCase(t, r.CaseID, store.CaseCompleted)
	v = h.waitTicketDrained(t, r.CaseID)
	tk := tr.ticket(v.TicketKey)
	if tk.status != "Done" || tk.labels["offboarding-partial"] {
		t.Fatalf("after the retry completed the case the ticket is %q with labels %v", tk.status, tk.labels)
	}
}

func TestTicketOutageDoesNotBlockRevocation(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("gu@example.com", "eng")
	tr := newFakeTracker()
	tr.setDown(true)
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}, tracker: tr})
	r, err := h.eng.Receive(context.Background(), termination("e1", "gu@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	v := h.waitCase(t, r.CaseID, store.CaseCompleted)
	if v.TicketKey != "" {
		t.Fatal("ticket created while the tracker was down")
	}
	n, err := h.eng.PendingTicketUpdates(context.Background(), r.CaseID)
	if err != nil || n == 0 {
		t.Fatalf("want ticket updates waiting in the outbox, got %d (%v)", n, err)
	}
	tr.setDown(false)
	h.waitCase(t, r.CaseID, store.CaseCompleted)
	v = h.waitTicketDrained(t, r.CaseID)
	if tk := tr.ticket(v.TicketKey); v.TicketKey == "" || tk.status != "Done" {
		t.Fatalf("after the outage the ticket is %q %+v", v.TicketKey, tk)
	}
}

func TestTheSameEventTwiceOpensOneCase(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("hu@example.com")
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}})
	ev := termination("e1", "hu@example.com", time.Now())
	first, err := h.eng.Receive(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	second, err := h.eng.Receive(context.Background(), ev)
	if err != nil || second.Outcome != hr.Duplicate || second.CaseID != first.CaseID {
		t.Fatalf("second delivery: %+v, %v; want duplicate of case %d", second, err, first.CaseID)
	}
	changed := ev
	changed.Reason = "something else"
	if _, err := h.eng.Receive(context.Background(), changed); !errors.Is(err, hr.ErrConflict) {
		t.Fatalf("an event ID reused with a different body: want ErrConflict, got %v", err)
	}
	other := termination("e2", "hu@example.com", time.Now())
	other.WorkerID = ev.WorkerID
	third, err := h.eng.Receive(context.Background(), other)
	if err != nil || third.Outcome != hr.Duplicate || third.CaseID != first.CaseID {
		t.Fatalf("a second termination while a case is open: %+v, %v", third, err)
	}
}

func TestRescissionCancelsAScheduledCase(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("iv@example.com", "eng")
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}})
	r, err := h.eng.Receive(context.Background(), termination("e1", "iv@example.com", time.Now().Add(24*time.Hour)))
	if err != nil || r.Outcome != hr.Scheduled {
		t.Fatalf("future termination: %+v, %v; want scheduled", r, err)
	}
	resc := hr.Event{ID: "e1-rescinded", Source: "test", Type: hr.Rescission, WorkerID: "W-e1", Email: "iv@example.com"}
	rr, err := h.eng.Receive(context.Background(), resc)
	if err != nil || rr.Outcome != hr.Cancelled || rr.CaseID != r.CaseID {
		t.Fatalf("rescission: %+v, %v", rr, err)
	}
	v := h.waitCase(t, r.CaseID, store.CaseCancelled)
	if len(v.Steps) != 0 || len(sys.appliedOrder()) != 0 {
		t.Fatal("a rescinded case changed something")
	}
	if !hasAudit(t, h, r.CaseID, "case_cancelled") {
		t.Error("the cancellation is not in the audit log")
	}
}

func TestFutureTerminationStartsAtItsEffectiveTime(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("jo@example.com", "eng")
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}})
	at := time.Now().Add(2 * time.Second)
	r, err := h.eng.Receive(context.Background(), termination("e1", "jo@example.com", at))
	if err != nil || r.Outcome != hr.Scheduled {
		t.Fatalf("%+v, %v", r, err)
	}
	if len(sys.appliedOrder()) != 0 {
		t.Fatal("changed before the effective time")
	}
	h.waitCase(t, r.CaseID, store.CaseCompleted)
	if first := sys.appliedOrder(); len(first) == 0 {
		t.Fatal("nothing applied")
	}
}

func TestPersonNotFoundIsAFindingNotASuccess(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}})
	r, err := h.eng.Receive(context.Background(), termination("e1", "nobody@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	v := h.waitCase(t, r.CaseID, store.CasePartial, store.CaseCompleted)
	if v.State != store.CasePartial || len(v.NeedsHuman) == 0 {
		t.Fatalf("a person found nowhere must be partial with a finding, got %s %v", v.State, v.NeedsHuman)
	}
}

// TestNoAccountInOneSystemIsNotWorkForAPerson protects against alert fatigue: most people have
// no account in some connected system, and a case whose person was found elsewhere and whose
// every action is verified completes, with the absence reported.
func TestNoAccountInOneSystemIsNotWorkForAPerson(t *testing.T) {
	t.Parallel()
	okta, jenkins := newFakeSystem("okta"), newFakeSystem("jenkins")
	okta.add("ka@example.com", "eng")
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{okta, jenkins}})
	r, err := h.eng.Receive(context.Background(), termination("e1", "ka@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	v := h.waitCase(t, r.CaseID, store.CasePartial, store.CaseCompleted)
	if v.State != store.CaseCompleted || len(v.NeedsHuman) != 0 {
		t.Fatalf("found in okta, absent from jenkins: got %s %v, want completed", v.State, v.NeedsHuman)
	}
}

func TestAuditChainRecordsTheWholeCase(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("ka@example.com", "eng")
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}})
	r, err := h.eng.Receive(context.Background(), termination("e1", "ka@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	h.waitCase(t, r.CaseID, store.CaseCompleted)
	recs := verifiedChain(t, h.store)
	var kinds []string
	for _, r := range recs {
		kinds = append(kinds, r.Kind)
	}
	for _, want := range []string{"event_received", "case_opened", "plan", "apply", "verify", "system_done", "case_completed"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("audit has no %q record; kinds: %v", want, kinds)
		}
	}
}

func hasAudit(t *testing.T, h *harness, caseID int64, kind string) bool {
	t.Helper()
	var found bool
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		recs, err := tx.ListAudit(context.Background(), 0, 0)
		for _, r := range recs {
			if r.CaseID == caseID && r.Kind == kind {
				found = true
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestCorrectedEffectiveTimeMovesAScheduledCase(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("lu@example.com", "eng")
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{sys}})
	first := termination("e1", "lu@example.com", time.Now().Add(48*time.Hour))
	r, err := h.eng.Receive(context.Background(), first)
	if err != nil || r.Outcome != hr.Scheduled {
		t.Fatalf("%+v, %v", r, err)
	}
	later := first
	later.ID, later.EffectiveAt = "e1-corrected", time.Now().Add(72*time.Hour)
	if r2, err := h.eng.Receive(context.Background(), later); err != nil || r2.Outcome != hr.Scheduled || r2.CaseID != r.CaseID {
		t.Fatalf("a later date for the same person: %+v, %v", r2, err)
	}
	v, err := h.eng.Case(context.Background(), r.CaseID)
	if err != nil || !v.EffectiveAt.Equal(later.EffectiveAt.UTC().Truncate(time.Microsecond)) {
		t.Fatalf("case effective at %v, want %v (%v)", v.EffectiveAt, later.EffectiveAt, err)
	}
	now := first
	now.ID, now.EffectiveAt = "e1-moved-up", time.Now()
	r3, err := h.eng.Receive(context.Background(), now)
	if err != nil || r3.Outcome != hr.Opened || r3.CaseID != r.CaseID {
		t.Fatalf("moved up to now: %+v, %v", r3, err)
	}
	h.waitCase(t, r.CaseID, store.CaseCompleted)
	if !hasAudit(t, h, r.CaseID, "case_scheduled") {
		t.Error("the move is not in the audit log")
	}
}

// panicky is a connector whose Apply panics: a bug in one connector.
type panicky struct{ *fakeSystem }

func (p panicky) Apply(ctx context.Context, a connector.Action) error {
	if a.Kind == "remove_group" {
		panic("nil map in connector")
	}
	return p.fakeSystem.Apply(ctx, a)
}

func TestAPanickingConnectorLeavesARecordNotAStuckCase(t *testing.T) {
	t.Parallel()
	sys := newFakeSystem("fake")
	sys.add("mo@example.com", "eng")
	h := newHarness(t, harnessOpts{connectors: []connector.Connector{panicky{sys}}})
	r, err := h.eng.Receive(context.Background(), termination("e1", "mo@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	v := h.waitCase(t, r.CaseID, store.CasePartial)
	for _, s := range v.Steps {
		if s.Action.Kind == "remove_group" && !strings.Contains(s.LastError, "panicked") {
			t.Fatalf("the panic is not recorded on the step: %+v", s)
		}
	}
}

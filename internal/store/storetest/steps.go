package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/store"
)

// Steps come back in Seq order whatever the insert order, one case's steps only, and every
// field, evidence and both optional times included, survives insert, get and update.
func testStepsRoundTrip(t *testing.T, s store.Store) {
	var steps []*store.Step
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		c := sampleCase("W1", "s@example.com", store.CaseRunning)
		other := sampleCase("W2", "o@example.com", store.CaseRunning)
		if err := tx.CreateCase(ctx, &c); err != nil {
			return err
		}
		if err := tx.CreateCase(ctx, &other); err != nil {
			return err
		}
		steps = []*store.Step{sampleStep(c.ID, 3, "deactivate"), sampleStep(c.ID, 1, "clear_sessions"), sampleStep(c.ID, 2, "remove_group")}
		steps[1].DependsOn = nil
		if err := tx.InsertSteps(ctx, steps); err != nil {
			return err
		}
		if err := tx.InsertSteps(ctx, []*store.Step{sampleStep(other.ID, 1, "suspend")}); err != nil {
			return err
		}
		for _, st := range steps {
			if st.ID == 0 || st.UpdatedAt.IsZero() {
				t.Fatalf("InsertSteps left step %d with ID %d UpdatedAt %v", st.Seq, st.ID, st.UpdatedAt)
			}
		}
		got, err := tx.ListSteps(ctx, c.ID)
		if err != nil {
			return err
		}
		requireEqual(t, "ListSteps", got, []store.Step{*steps[1], *steps[2], *steps[0]})
		return nil
	})

	st := steps[0]
	applied := time.Date(2026, 11, 30, 10, 0, 0, 123456789, zone)
	verified := applied.Add(1500 * time.Millisecond)
	st.Action.Detail = "changed detail"
	st.Action.Before = "ACTIVE"
	st.DependsOn = []int64{steps[1].ID, steps[2].ID}
	st.State = store.StepVerified
	st.Attempts = 3
	st.LastError = "okta: 503 Service Unavailable"
	st.AppliedAt = &applied
	st.VerifiedAt = &verified
	st.Evidence = sampleEvidence()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.UpdateStep(ctx, st); err != nil {
			return err
		}
		if !st.AppliedAt.Equal(norm(applied)) {
			t.Errorf("UpdateStep left AppliedAt %v, want %v", st.AppliedAt, norm(applied))
		}
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.GetStep(ctx, st.ID)
		if err != nil {
			return err
		}
		requireEqual(t, "updated step", got, *st)

		// Clearing the optional fields must clear them in the database too.
		st.AppliedAt, st.VerifiedAt, st.Evidence, st.DependsOn = nil, nil, nil, nil
		st.State, st.LastError = store.StepRetrying, ""
		if err := tx.UpdateStep(ctx, st); err != nil {
			return err
		}
		got, err = tx.GetStep(ctx, st.ID)
		if err != nil {
			return err
		}
		requireEqual(t, "step with optional fields cleared", got, *st)
		return nil
	})
}

func testStepsMissing(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.GetStep(ctx, 404); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetStep of a missing ID: got %v, want ErrNotFound", err)
		}
		st := sampleStep(1, 1, "suspend")
		st.ID = 404
		if err := tx.UpdateStep(ctx, st); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateStep of a missing ID: got %v, want ErrNotFound", err)
		}
		steps, err := tx.ListSteps(ctx, 404)
		if err != nil {
			return err
		}
		if len(steps) != 0 {
			t.Errorf("ListSteps of a missing case returned %d steps", len(steps))
		}
		return nil
	})
	err := s.InTx(context.Background(), func(tx store.Tx) error {
		return tx.InsertSteps(context.Background(), []*store.Step{sampleStep(404, 1, "suspend")})
	})
	if err == nil {
		t.Error("InsertSteps for a case that does not exist succeeded; steps must belong to a case")
	}
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
)

// Every field of a case survives create, get and update exactly, JobID and JSON fields
// included; the store normalises times to UTC microseconds and keeps CreatedAt.
func testCaseRoundTrip(t *testing.T, s store.Store) {
	c := sampleCase("W1", "Jo@Example.com", store.CaseScheduled)
	effective := c.EffectiveAt
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateCase(ctx, &c); err != nil {
			return err
		}
		if c.ID == 0 || c.CreatedAt.IsZero() || !c.UpdatedAt.Equal(c.CreatedAt) {
			t.Fatalf("CreateCase set ID %d CreatedAt %v UpdatedAt %v; want an ID and equal times", c.ID, c.CreatedAt, c.UpdatedAt)
		}
		if !c.EffectiveAt.Equal(norm(effective)) || c.EffectiveAt.Location() != time.UTC {
			t.Fatalf("CreateCase left EffectiveAt %v, want %v", c.EffectiveAt, norm(effective))
		}
		got, err := tx.GetCase(ctx, c.ID)
		if err != nil {
			return err
		}
		requireEqual(t, "case read in the same transaction", got, c)
		return nil
	})

	created := c
	c.Person = connector.Person{WorkerID: "W1b", Email: "new@example.com", Name: "Jo L.", Handles: map[string]string{"aws": "jo"}}
	c.State = store.CasePartial
	c.Urgent = false
	c.Source = "cli"
	c.EventID = "evt-2"
	c.Reason = "changed"
	c.EffectiveAt = time.Date(2027, 1, 2, 3, 4, 5, 6000, time.UTC)
	c.TicketKey = "SEC-8"
	c.Plans = []connector.Plan{{System: "aws", Actions: []connector.Action{{System: "aws", Kind: "delete_key", Target: "AKIA1"}}}}
	c.Systems = map[string]string{}
	c.JobID = 9
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.UpdateCase(ctx, &c); err != nil {
			return err
		}
		if !c.CreatedAt.Equal(created.CreatedAt) || c.UpdatedAt.Before(created.UpdatedAt) {
			t.Errorf("UpdateCase: CreatedAt %v UpdatedAt %v, want CreatedAt kept and UpdatedAt not earlier", c.CreatedAt, c.UpdatedAt)
		}
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.GetCase(ctx, c.ID)
		if err != nil {
			return err
		}
		requireEqual(t, "updated case", got, c)
		c.Plans, c.Systems = nil, nil
		if err := tx.UpdateCase(ctx, &c); err != nil {
			return err
		}
		got, err = tx.GetCase(ctx, c.ID)
		if err != nil {
			return err
		}
		requireEqual(t, "case with nil plans and systems", got, c)
		return nil
	})
}

func testCaseMissing(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.GetCase(ctx, 404); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetCase of a missing ID: got %v, want ErrNotFound", err)
		}
		if err := tx.LockCase(ctx, 404); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LockCase of a missing ID: got %v, want ErrNotFound", err)
		}
		c := sampleCase("W", "w@example.com", store.CaseRunning)
		c.ID = 404
		if err := tx.UpdateCase(ctx, &c); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateCase of a missing ID: got %v, want ErrNotFound", err)
		}
		return nil
	})
}

// FindOpenCase matches the worker ID when given (and then only it), else the email without
// regard to case, ignores closed cases and prefers the newest.
func testFindOpenCase(t *testing.T, s store.Store) {
	ids := map[string]int64{}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, c := range []struct {
			name, worker, email string
			state               store.CaseState
		}{
			{"w1-closed", "W1", "a@example.com", store.CaseCompleted},
			{"w1-older", "W1", "a@example.com", store.CaseRunning},
			{"w1-newest", "W1", "A@Example.COM", store.CasePartial},
			{"w1-cancelled-later", "W1", "a@example.com", store.CaseCancelled},
			{"w2-cancelled", "W2", "b@example.com", store.CaseCancelled},
			{"c-no-worker", "", "c@example.com", store.CaseScheduled},
		} {
			sc := sampleCase(c.worker, c.email, c.state)
			if err := tx.CreateCase(ctx, &sc); err != nil {
				return err
			}
			ids[c.name] = sc.ID
		}
		return nil
	})
	tests := []struct {
		name, worker, email string
		want                string // "" means none
	}{
		{"worker", "W1", "", "w1-newest"},
		{"worker wins over email", "W1", "c@example.com", "w1-newest"},
		{"email any case", "", "a@EXAMPLE.com", "w1-newest"},
		{"only closed cases", "W2", "", ""},
		{"worker given, email ignored", "W2", "c@example.com", ""},
		{"email only", "", "c@example.com", "c-no-worker"},
		{"unknown worker", "W9", "", ""},
		{"nothing to match", "", "", ""},
	}
	for _, tc := range tests {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, ok, err := tx.FindOpenCase(ctx, tc.worker, tc.email)
			if err != nil {
				return err
			}
			switch {
			case tc.want == "" && ok:
				t.Errorf("%s: found case %d, want none", tc.name, got.ID)
			case tc.want != "" && !ok:
				t.Errorf("%s: found nothing, want %s", tc.name, tc.want)
			case tc.want != "" && got.ID != ids[tc.want]:
				t.Errorf("%s: found case %d, want %s (%d)", tc.name, got.ID, tc.want, ids[tc.want])
			}
			return nil
		})
	}
}

// Exactly the states CaseState.Open reports as open are found.
func testFindOpenCaseStates(t *testing.T, s store.Store) {
	states := []store.CaseState{store.CaseScheduled, store.CasePlanning, store.CaseRunning,
		store.CaseCompleted, store.CasePartial, store.CaseCancelled}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, st := range states {
			c := sampleCase("W-"+string(st), string(st)+"@example.com", st)
			if err := tx.CreateCase(ctx, &c); err != nil {
				return err
			}
			_, ok, err := tx.FindOpenCase(ctx, "W-"+string(st), "")
			if err != nil {
				return err
			}
			if ok != st.Open() {
				t.Errorf("state %s: found=%v, want %v", st, ok, st.Open())
			}
		}
		return nil
	})
}

// ListCases filters by state and email (any case), returns the newest first and honours the
// limit.
func testListCases(t *testing.T, s store.Store) {
	var ids []int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i, st := range []store.CaseState{store.CaseRunning, store.CaseCompleted, store.CasePartial, store.CaseRunning, store.CaseCancelled} {
			email := "x@example.com"
			if i%2 == 1 {
				email = "Y@example.com"
			}
			c := sampleCase(fmt.Sprintf("W%d", i), email, st)
			if err := tx.CreateCase(ctx, &c); err != nil {
				return err
			}
			ids = append(ids, c.ID)
		}
		return nil
	})
	tests := []struct {
		name string
		f    store.CaseFilter
		want []int64
	}{
		{"all, newest first", store.CaseFilter{}, []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"states", store.CaseFilter{States: []store.CaseState{store.CaseRunning, store.CasePartial}}, []int64{ids[3], ids[2], ids[0]}},
		{"email any case", store.CaseFilter{Email: "y@EXAMPLE.com"}, []int64{ids[3], ids[1]}},
		{"state and email", store.CaseFilter{States: []store.CaseState{store.CaseRunning}, Email: "x@example.com"}, []int64{ids[0]}},
		{"limit", store.CaseFilter{Limit: 2}, []int64{ids[4], ids[3]}},
		{"no match", store.CaseFilter{Email: "nobody@example.com"}, nil},
	}
	for _, tc := range tests {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.ListCases(ctx, tc.f)
			if err != nil {
				return err
			}
			var gotIDs []int64
			for _, c := range got {
				gotIDs = append(gotIDs, c.ID)
			}
			if fmt.Sprint(gotIDs) != fmt.Sprint(tc.want) {
				t.Errorf("%s: got cases %v, want %v", tc.name, gotIDs, tc.want)
			}
			return nil
		})
	}
}

// With no limit, ListCases returns the newest 100.
func testListCasesDefaultLimit(t *testing.T, s store.Store) {
	var last int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 101 {
			c := sampleCase(fmt.Sprintf("W%d", i), "many@example.com", store.CaseCompleted)
			if err := tx.CreateCase(ctx, &c); err != nil {
				return err
			}
			last = c.ID
		}
		got, err := tx.ListCases(ctx, store.CaseFilter{})
		if err != nil {
			return err
		}
		if len(got) != 100 {
			t.Fatalf("ListCases with no limit returned %d cases, want 100", len(got))
		}
		if got[0].ID != last {
			t.Errorf("ListCases with no limit starts at case %d, want the newest, %d", got[0].ID, last)
		}
		return nil
	})
}

package workflow

import (
	"context"
	"fmt"

	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/ticket"
)

// CaseView is a case with its steps, as the API, the CLI and the evidence show it.
type CaseView struct {
	store.Case
	Steps []store.Step `json:"steps"`
	// NeedsHuman lists what a person must do for the case to be complete.
	NeedsHuman []string `json:"needs_human,omitempty"`
}

// Case returns one case with its steps.
func (e *Engine) Case(ctx context.Context, id int64) (CaseView, error) {
	return LoadCase(ctx, e.store, id)
}

// LoadCase reads one case with its steps from st.
func LoadCase(ctx context.Context, st store.Store, id int64) (CaseView, error) {
	var v CaseView
	err := st.InTx(ctx, func(tx store.Tx) error {
		c, err := tx.GetCase(ctx, id)
		if err != nil {
			return err
		}
		steps, err := tx.ListSteps(ctx, id)
		if err != nil {
			return err
		}
		v = CaseView{Case: c, Steps: steps}
		return nil
	})
	if err != nil {
		return CaseView{}, fmt.Errorf("case %d: %w", id, err)
	}
	if v.State == store.CasePartial {
		v.NeedsHuman = ticket.NeedsHuman(v.Case, v.Steps)
	}
	return v, nil
}

// PendingTicketUpdates reports how many ticket updates of a case are not yet delivered.
func (e *Engine) PendingTicketUpdates(ctx context.Context, caseID int64) (int, error) {
	var n int
	err := e.store.InTx(ctx, func(tx store.Tx) error {
		p, err := tx.PendingTicketUpdates(ctx, caseID)
		n = len(p)
		return err
	})
	return n, err
}

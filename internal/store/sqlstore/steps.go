package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
)

const stepColumns = `id, case_id, seq, action, depends_on, state, attempts, last_error, applied_at,
	verified_at, evidence, updated_at`

// stepFields are the values of the columns from action to evidence; the column lists in
// InsertSteps and UpdateStep follow the same order.
func stepFields(s *store.Step) ([]any, error) {
	action, err := jsonArg("action", s.Action)
	if err != nil {
		return nil, err
	}
	deps, err := jsonArg("depends_on", s.DependsOn)
	if err != nil {
		return nil, err
	}
	var evidence any
	if s.Evidence != nil {
		if evidence, err = jsonArg("evidence", s.Evidence); err != nil {
			return nil, err
		}
	}
	return []any{action, deps, string(s.State), s.Attempts, s.LastError, s.AppliedAt, s.VerifiedAt, evidence}, nil
}

// normStepTimes makes the caller's times what the store keeps, so a step equals what
// GetStep returns.
func normStepTimes(s *store.Step) {
	for _, p := range []**time.Time{&s.AppliedAt, &s.VerifiedAt} {
		if *p != nil {
			t := normTime(**p)
			*p = &t
		}
	}
}

// InsertSteps inserts steps and sets their IDs and UpdatedAt.
func (t *Tx) InsertSteps(ctx context.Context, steps []*store.Step) error {
	now := t.stamp()
	for _, s := range steps {
		normStepTimes(s)
		fields, err := stepFields(s)
		if err != nil {
			return fmt.Errorf("insert step %d of case %d: %w", s.Seq, s.CaseID, err)
		}
		args := append([]any{s.CaseID, s.Seq}, fields...)
		err = t.queryRow(ctx, `INSERT INTO steps (case_id, seq, action, depends_on, state, attempts, last_error,
				applied_at, verified_at, evidence, updated_at)
			VALUES (`+placeholders(len(args)+1)+`)
			RETURNING id`, append(args, now)...).Scan(&s.ID)
		if err != nil {
			return fmt.Errorf("insert step %d of case %d: %w", s.Seq, s.CaseID, err)
		}
		s.UpdatedAt = now
	}
	return nil
}

// GetStep returns the step with id, or an error wrapping store.ErrNotFound.
func (t *Tx) GetStep(ctx context.Context, id int64) (store.Step, error) {
	s, err := scanStep(t.queryRow(ctx, `SELECT `+stepColumns+` FROM steps WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Step{}, fmt.Errorf("step %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Step{}, fmt.Errorf("get step %d: %w", id, err)
	}
	return s, nil
}

// UpdateStep writes every field of s except ID, CaseID and Seq, and sets UpdatedAt.
func (t *Tx) UpdateStep(ctx context.Context, s *store.Step) error {
	normStepTimes(s)
	fields, err := stepFields(s)
	if err != nil {
		return fmt.Errorf("update step %d: %w", s.ID, err)
	}
	now := t.stamp()
	n, err := t.exec(ctx, `UPDATE steps SET action = ?, depends_on = ?, state = ?, attempts = ?, last_error = ?,
			applied_at = ?, verified_at = ?, evidence = ?, updated_at = ?
		WHERE id = ?`, append(fields, now, s.ID)...)
	if err != nil {
		return fmt.Errorf("update step %d: %w", s.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update step %d: %w", s.ID, store.ErrNotFound)
	}
	s.UpdatedAt = now
	return nil
}

// ListSteps returns a case's steps in Seq order.
func (t *Tx) ListSteps(ctx context.Context, caseID int64) ([]store.Step, error) {
	rows, err := t.query(ctx, `SELECT `+stepColumns+` FROM steps WHERE case_id = ? ORDER BY seq, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("list steps of case %d: %w", caseID, err)
	}
	defer rows.Close()
	var out []store.Step
	for rows.Next() {
		s, err := scanStep(rows)
		if err != nil {
			return nil, fmt.Errorf("list steps of case %d: %w", caseID, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list steps of case %d: %w", caseID, err)
	}
	return out, nil
}

func scanStep(row Row) (store.Step, error) {
	var (
		s                      store.Step
		action, deps, evidence []byte
		state                  string
	)
	err := row.Scan(&s.ID, &s.CaseID, &s.Seq, bytesCol{&action}, bytesCol{&deps}, &state, &s.Attempts,
		&s.LastError, nullTimeCol{&s.AppliedAt}, nullTimeCol{&s.VerifiedAt}, bytesCol{&evidence},
		timeCol{&s.UpdatedAt})
	if err != nil {
		return store.Step{}, err
	}
	s.State = store.StepState(state)
	if err := decodeJSON("step action", s.ID, action, &s.Action); err != nil {
		return store.Step{}, err
	}
	if err := decodeJSON("step depends_on", s.ID, deps, &s.DependsOn); err != nil {
		return store.Step{}, err
	}
	if evidence != nil {
		s.Evidence = new(connector.Evidence)
		if err := decodeJSON("step evidence", s.ID, evidence, s.Evidence); err != nil {
			return store.Step{}, err
		}
	}
	return s, nil
}

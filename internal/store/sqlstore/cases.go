package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/offboard-dev/offboard/internal/store"
)

// caseStates lists every case state so that the open ones can be derived from
// store.CaseState.Open rather than restated in SQL.
var caseStates = []store.CaseState{
	store.CaseScheduled, store.CasePlanning, store.CaseRunning,
	store.CaseCompleted, store.CasePartial, store.CaseCancelled,
}

func openStates() []any {
	var out []any
	for _, s := range caseStates {
		if s.Open() {
			out = append(out, string(s))
		}
	}
	return out
}

const caseColumns = `id, person, state, urgent, source, event_id, reason, effective_at, created_at,
	updated_at, ticket_key, plans, systems, job_id`

// caseFields are the values of every column after id and before created_at; the column lists
// in CreateCase and UpdateCase follow the same order.
func caseFields(c *store.Case) ([]any, error) {
	person, err := jsonArg("person", c.Person)
	if err != nil {
		return nil, err
	}
	plans, err := jsonArg("plans", c.Plans)
	if err != nil {
		return nil, err
	}
	systems, err := jsonArg("systems", c.Systems)
	if err != nil {
		return nil, err
	}
	return []any{
		c.Person.WorkerID, c.Person.Email, strings.ToLower(c.Person.Email), person,
		string(c.State), c.Urgent, c.Source, c.EventID, c.Reason, c.EffectiveAt,
		c.TicketKey, plans, systems, c.JobID,
	}, nil
}

// CreateCase inserts c and sets its ID, CreatedAt and UpdatedAt. EffectiveAt is normalised to
// what is stored (UTC, microseconds), so c equals what GetCase returns.
func (t *Tx) CreateCase(ctx context.Context, c *store.Case) error {
	c.EffectiveAt = normTime(c.EffectiveAt)
	fields, err := caseFields(c)
	if err != nil {
		return fmt.Errorf("create case: %w", err)
	}
	now := t.stamp()
	err = t.queryRow(ctx, `INSERT INTO cases (worker_id, email, email_norm, person, state, urgent, source,
			event_id, reason, effective_at, ticket_key, plans, systems, job_id, created_at, updated_at)
		VALUES (`+placeholders(len(fields)+2)+`)
		RETURNING id`, append(fields, now, now)...).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("create case for %s: %w", c.Person.Email, err)
	}
	c.CreatedAt, c.UpdatedAt = now, now
	return nil
}

// GetCase returns the case with id, or an error wrapping store.ErrNotFound.
func (t *Tx) GetCase(ctx context.Context, id int64) (store.Case, error) {
	c, err := scanCase(t.queryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Case{}, fmt.Errorf("case %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Case{}, fmt.Errorf("get case %d: %w", id, err)
	}
	return c, nil
}

// LockCase locks the case row until the transaction ends (SELECT ... FOR UPDATE on
// PostgreSQL; on SQLite every transaction already holds the database's write lock).
func (t *Tx) LockCase(ctx context.Context, id int64) error {
	var got int64
	err := t.queryRow(ctx, `SELECT id FROM cases WHERE id = ?`+t.d.lockRows, id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("lock case %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("lock case %d: %w", id, err)
	}
	return nil
}

// UpdateCase writes every field of c except ID and CreatedAt, and sets UpdatedAt.
func (t *Tx) UpdateCase(ctx context.Context, c *store.Case) error {
	c.EffectiveAt = normTime(c.EffectiveAt)
	fields, err := caseFields(c)
	if err != nil {
		return fmt.Errorf("update case %d: %w", c.ID, err)
	}
	now := t.stamp()
	n, err := t.exec(ctx, `UPDATE cases SET worker_id = ?, email = ?, email_norm = ?, person = ?, state = ?,
			urgent = ?, source = ?, event_id = ?, reason = ?, effective_at = ?, ticket_key = ?, plans = ?,
			systems = ?, job_id = ?, updated_at = ?
		WHERE id = ?`, append(fields, now, c.ID)...)
	if err != nil {
		return fmt.Errorf("update case %d: %w", c.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update case %d: %w", c.ID, store.ErrNotFound)
	}
	c.UpdatedAt = now
	return nil
}

// FindOpenCase returns the newest open case for workerID or, when workerID is "", for email
// compared case-insensitively. With neither, it finds nothing.
func (t *Tx) FindOpenCase(ctx context.Context, workerID, email string) (store.Case, bool, error) {
	var where string
	var args []any
	switch {
	case workerID != "":
		where, args = `worker_id = ?`, []any{workerID}
	case email != "":
		where, args = `email_norm = ?`, []any{strings.ToLower(email)}
	default:
		return store.Case{}, false, nil
	}
	open := openStates()
	c, err := scanCase(t.queryRow(ctx, `SELECT `+caseColumns+` FROM cases
		WHERE `+where+` AND state IN (`+placeholders(len(open))+`)
		ORDER BY id DESC LIMIT 1`, append(args, open...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Case{}, false, nil
	}
	if err != nil {
		return store.Case{}, false, fmt.Errorf("find open case for %q/%q: %w", workerID, email, err)
	}
	return c, true, nil
}

// ListCases returns the newest cases first that match f.
func (t *Tx) ListCases(ctx context.Context, f store.CaseFilter) ([]store.Case, error) {
	var conds []string
	var args []any
	if len(f.States) > 0 {
		conds = append(conds, `state IN (`+placeholders(len(f.States))+`)`)
		for _, s := range f.States {
			args = append(args, string(s))
		}
	}
	if f.Email != "" {
		conds = append(conds, `email_norm = ?`)
		args = append(args, strings.ToLower(f.Email))
	}
	where := ""
	if len(conds) > 0 {
		where = ` WHERE ` + strings.Join(conds, ` AND `)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	rows, err := t.query(ctx, `SELECT `+caseColumns+` FROM cases`+where+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var out []store.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	return out, nil
}

func scanCase(row Row) (store.Case, error) {
	var (
		c                      store.Case
		person, plans, systems []byte
		state                  string
	)
	err := row.Scan(&c.ID, bytesCol{&person}, &state, &c.Urgent, &c.Source, &c.EventID, &c.Reason,
		timeCol{&c.EffectiveAt}, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}, &c.TicketKey,
		bytesCol{&plans}, bytesCol{&systems}, &c.JobID)
	if err != nil {
		return store.Case{}, err
	}
	c.State = store.CaseState(state)
	if err := decodeJSON("case person", c.ID, person, &c.Person); err != nil {
		return store.Case{}, err
	}
	if err := decodeJSON("case plans", c.ID, plans, &c.Plans); err != nil {
		return store.Case{}, err
	}
	if err := decodeJSON("case systems", c.ID, systems, &c.Systems); err != nil {
		return store.Case{}, err
	}
	return c, nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/store"
)

// defaultLimit caps listings that were given no limit.
const defaultLimit = 100

const eventColumns = `id, body, digest, received_at, case_id, outcome`

// InsertEvent stores e unless its ID is already stored, in which case it returns the stored
// record. Concurrent inserts of one ID are safe: the loser's insert does nothing and it reads
// the winner's row.
func (t *Tx) InsertEvent(ctx context.Context, e hr.Event, receivedAt time.Time) (bool, store.EventRecord, error) {
	body, err := jsonArg("event "+e.ID, e)
	if err != nil {
		return false, store.EventRecord{}, err
	}
	var id int64
	err = t.queryRow(ctx, `INSERT INTO hr_events (event_id, source, type, digest, body, received_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (event_id) DO NOTHING
		RETURNING id`,
		e.ID, e.Source, string(e.Type), e.Digest(), body, receivedAt).Scan(&id)
	switch {
	case err == nil:
		return true, store.EventRecord{}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, store.EventRecord{}, fmt.Errorf("insert event %s: %w", e.ID, err)
	}
	existing, err := scanEvent(t.queryRow(ctx, `SELECT `+eventColumns+` FROM hr_events WHERE event_id = ?`, e.ID))
	if err != nil {
		return false, store.EventRecord{}, fmt.Errorf("read stored event %s: %w", e.ID, err)
	}
	return false, existing, nil
}

// SetEventOutcome records what an event led to.
func (t *Tx) SetEventOutcome(ctx context.Context, eventID string, caseID int64, outcome hr.Outcome) error {
	n, err := t.exec(ctx, `UPDATE hr_events SET case_id = ?, outcome = ? WHERE event_id = ?`, caseID, string(outcome), eventID)
	if err != nil {
		return fmt.Errorf("set outcome of event %s: %w", eventID, err)
	}
	if n == 0 {
		return fmt.Errorf("set outcome of event %s: %w", eventID, store.ErrNotFound)
	}
	return nil
}

// ListEvents returns the newest events first, at most limit (0 means 100).
func (t *Tx) ListEvents(ctx context.Context, limit int) ([]store.EventRecord, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	rows, err := t.query(ctx, `SELECT `+eventColumns+` FROM hr_events ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []store.EventRecord
	for rows.Next() {
		r, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

func scanEvent(row Row) (store.EventRecord, error) {
	var (
		r       store.EventRecord
		id      int64
		body    []byte
		outcome string
	)
	if err := row.Scan(&id, bytesCol{&body}, &r.Digest, timeCol{&r.ReceivedAt}, &r.CaseID, &outcome); err != nil {
		return store.EventRecord{}, err
	}
	if err := decodeJSON("event", id, body, &r.Event); err != nil {
		return store.EventRecord{}, err
	}
	r.Outcome = hr.Outcome(outcome)
	return r, nil
}

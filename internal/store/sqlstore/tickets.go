package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/offboard-dev/offboard/internal/store"
)

// AddTicketUpdate queues u and sets its ID and CreatedAt. Its payload is stored byte for byte.
func (t *Tx) AddTicketUpdate(ctx context.Context, u *store.TicketUpdate) error {
	now := t.stamp()
	err := t.queryRow(ctx, `INSERT INTO ticket_updates (case_id, kind, payload, created_at)
		VALUES (?, ?, ?, ?) RETURNING id`, u.CaseID, u.Kind, rawArg(u.Payload), now).Scan(&u.ID)
	if err != nil {
		return fmt.Errorf("queue ticket update %s for case %d: %w", u.Kind, u.CaseID, err)
	}
	u.CreatedAt = now
	return nil
}

// PendingTicketUpdates returns a case's undone updates in queue order.
func (t *Tx) PendingTicketUpdates(ctx context.Context, caseID int64) ([]store.TicketUpdate, error) {
	rows, err := t.query(ctx, `SELECT id, case_id, kind, payload, created_at, done_at, attempts, last_error
		FROM ticket_updates WHERE case_id = ? AND done_at IS NULL ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("pending ticket updates of case %d: %w", caseID, err)
	}
	defer rows.Close()
	var out []store.TicketUpdate
	for rows.Next() {
		var u store.TicketUpdate
		var payload []byte
		if err := rows.Scan(&u.ID, &u.CaseID, &u.Kind, bytesCol{&payload}, timeCol{&u.CreatedAt},
			nullTimeCol{&u.DoneAt}, &u.Attempts, &u.LastError); err != nil {
			return nil, fmt.Errorf("pending ticket updates of case %d: %w", caseID, err)
		}
		if payload != nil {
			u.Payload = payload
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending ticket updates of case %d: %w", caseID, err)
	}
	return out, nil
}

// FinishTicketUpdate records an attempt: it counts the attempt, keeps errMsg as the last
// error (empty on success) and, when done, takes the update off the queue.
func (t *Tx) FinishTicketUpdate(ctx context.Context, id int64, done bool, errMsg string) error {
	var doneAt any
	if done {
		doneAt = t.stamp()
	}
	n, err := t.exec(ctx, `UPDATE ticket_updates SET attempts = attempts + 1, last_error = ?, done_at = ?
		WHERE id = ?`, errMsg, doneAt, id)
	if err != nil {
		return fmt.Errorf("finish ticket update %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("finish ticket update %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// CasesWithPendingTicketUpdates lists, in ID order, the cases that have undone updates.
func (t *Tx) CasesWithPendingTicketUpdates(ctx context.Context) ([]int64, error) {
	rows, err := t.query(ctx, `SELECT DISTINCT case_id FROM ticket_updates WHERE done_at IS NULL ORDER BY case_id`)
	if err != nil {
		return nil, fmt.Errorf("cases with pending ticket updates: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("cases with pending ticket updates: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cases with pending ticket updates: %w", err)
	}
	return out, nil
}

// LeaseTicket takes (or renews, for the same holder) the case's delivery lease until expires.
// It reports false when another holder's lease has not expired yet.
func (t *Tx) LeaseTicket(ctx context.Context, caseID int64, holder string, expires time.Time) (bool, error) {
	n, err := t.exec(ctx, `INSERT INTO ticket_leases (case_id, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (case_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE ticket_leases.expires_at < ? OR ticket_leases.holder = excluded.holder`,
		caseID, holder, normTime(expires), t.stamp())
	if err != nil {
		return false, fmt.Errorf("lease ticket of case %d: %w", caseID, err)
	}
	return n == 1, nil
}

// ReleaseTicket gives up the holder's lease on the case's ticket, if it still has it.
func (t *Tx) ReleaseTicket(ctx context.Context, caseID int64, holder string) error {
	if _, err := t.exec(ctx, `DELETE FROM ticket_leases WHERE case_id = ? AND holder = ?`, caseID, holder); err != nil {
		return fmt.Errorf("release ticket lease of case %d: %w", caseID, err)
	}
	return nil
}

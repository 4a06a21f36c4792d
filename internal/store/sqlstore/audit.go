package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/offboard-dev/offboard/internal/audit"
)

// The audit tables are append-only: this file has the only statements that touch them, and
// none updates or deletes a record.

// AppendAudit seals r onto the end of the chain and stores it. The head row is read with a
// row lock (on SQLite the transaction already holds the write lock), so appends from several
// replicas queue up behind each other and the chain stays unbroken; the lock is held until the
// caller's transaction ends.
func (t *Tx) AppendAudit(ctx context.Context, r *audit.Record) error {
	if len(r.Data) > 0 && !json.Valid(r.Data) {
		return fmt.Errorf("append audit %s: data is not valid JSON", r.Kind)
	}
	var seq int64
	var head string
	if err := t.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+t.d.lockRows).Scan(&seq, &head); err != nil {
		return fmt.Errorf("append audit %s: read chain head: %w", r.Kind, err)
	}
	r.Seq = seq + 1
	audit.Seal(head, r)
	if _, err := t.exec(ctx, `INSERT INTO audit_records (seq, at, actor, case_id, kind, message, data, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Seq, r.At, r.Actor, r.CaseID, r.Kind, r.Message, rawArg(r.Data), r.PrevHash, r.Hash); err != nil {
		return fmt.Errorf("append audit %s: insert record %d: %w", r.Kind, r.Seq, err)
	}
	if _, err := t.exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, r.Seq, r.Hash); err != nil {
		return fmt.Errorf("append audit %s: move chain head to %d: %w", r.Kind, r.Seq, err)
	}
	return nil
}

// ListAudit returns records with Seq > after in order, at most limit (0 = all).
func (t *Tx) ListAudit(ctx context.Context, after int64, limit int) ([]audit.Record, error) {
	query := `SELECT seq, at, actor, case_id, kind, message, data, prev_hash, hash
		FROM audit_records WHERE seq > ? ORDER BY seq`
	args := []any{after}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit after %d: %w", after, err)
	}
	defer rows.Close()
	var out []audit.Record
	for rows.Next() {
		var r audit.Record
		var data []byte
		if err := rows.Scan(&r.Seq, timeCol{&r.At}, &r.Actor, &r.CaseID, &r.Kind, &r.Message, bytesCol{&data},
			&r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("list audit after %d: %w", after, err)
		}
		if data != nil {
			r.Data = data
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit after %d: %w", after, err)
	}
	return out, nil
}

// AuditHead returns the last sealed record's Seq and Hash (0 and "" before the first).
func (t *Tx) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	if err := t.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("read audit head: %w", err)
	}
	return seq, hash, nil
}

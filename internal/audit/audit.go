// Package audit defines offboard's append-only, hash-chained audit records: every event
// received, plan, apply, verify, failure, retry and human action, with actor and time. Each
// record's hash covers its content and the previous record's hash, so an edited, deleted or
// reordered record breaks the chain.
package audit

import (
	"encoding/json"
	"time"
)

// Record is one audit entry.
type Record struct {
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	CaseID  int64     `json:"case_id,omitempty"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	// Data holds structured detail (an action, evidence, an error).
	Data     json.RawMessage `json:"data,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

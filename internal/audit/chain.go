package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Seal fixes r's time to microsecond precision in UTC (what every store keeps exactly), links it
// to the previous record's hash and computes its own hash. Seq must already be set.
func Seal(prevHash string, r *Record) {
	r.At = r.At.UTC().Truncate(time.Microsecond)
	r.PrevHash = prevHash
	r.Hash = Hash(*r)
}

// Hash computes the hash a record must carry: SHA-256 over its content and PrevHash, in a fixed
// encoding, so any change to a sealed record changes it.
func Hash(r Record) string {
	data := r.Data
	if len(data) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, data); err == nil {
			data = buf.Bytes()
		}
	}
	canonical, _ := json.Marshal(struct {
		Seq      int64           `json:"seq"`
		At       string          `json:"at"`
		Actor    string          `json:"actor"`
		CaseID   int64           `json:"case_id"`
		Kind     string          `json:"kind"`
		Message  string          `json:"message"`
		Data     json.RawMessage `json:"data,omitempty"`
		PrevHash string          `json:"prev_hash"`
	}{r.Seq, r.At.UTC().Format(time.RFC3339Nano), r.Actor, r.CaseID, r.Kind, r.Message, data, r.PrevHash})
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

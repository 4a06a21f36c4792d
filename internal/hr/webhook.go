package hr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/signature"
)

// MaxWebhookBody is the largest webhook body accepted. One event is a few hundred bytes; the
// limit only stops a sender (or an attacker) from making the server buffer without end.
const MaxWebhookBody = 1 << 20

// Webhook is the signed HR webhook, POST /v1/hr/events. It accepts one event per request,
// signed with Sign, and answers only after the intake has stored it durably, so a 202 means
// the event will not be lost and anything else means the sender should retry (or fix the
// request, for a 4xx).
type Webhook struct {
	// Intake receives each accepted event.
	Intake Intake
	// Secrets are the accepted signing secrets; more than one during a rotation.
	Secrets [][]byte
	// Log records every rejection; nil discards.
	Log *slog.Logger
	// Now is the clock the signature's timestamp is checked against; nil means time.Now.
	Now func() time.Time
}

// NewWebhook returns the handler for POST /v1/hr/events, accepting bodies signed with any of
// secrets in the Offboard-Signature header.
func NewWebhook(intake Intake, secrets [][]byte, log *slog.Logger) http.Handler {
	return &Webhook{Intake: intake, Secrets: secrets, Log: log}
}

// webhookFields lists the fields a webhook body may carry. The body is decoded field by field
// rather than into a struct, so one answer can name every problem instead of the first.
var webhookFields = []string{"event_id", "type", "worker_id", "email", "name", "manager_email", "effective_at", "reason", "involuntary", "handles"}

func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, r, http.StatusMethodNotAllowed, "method not allowed", fmt.Sprintf("%s is not allowed; use POST", r.Method))
		return
	}
	if r.ContentLength > MaxWebhookBody {
		h.reject(w, r, http.StatusRequestEntityTooLarge, "body too large", fmt.Sprintf("the body is larger than %d bytes", MaxWebhookBody))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBody+1))
	if err != nil {
		h.reject(w, r, http.StatusBadRequest, "unreadable body", "the body could not be read")
		return
	}
	if len(body) > MaxWebhookBody {
		h.reject(w, r, http.StatusRequestEntityTooLarge, "body too large", fmt.Sprintf("the body is larger than %d bytes", MaxWebhookBody))
		return
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if err := signature.Verify(r.Header.Get(signature.Header), body, h.Secrets, now()); err != nil {
		msg := "signature rejected: " + err.Error()
		if errors.Is(err, signature.ErrNoSecrets) {
			// The sender cannot fix this one; say so in the log, not in the answer.
			msg = "signature rejected"
		}
		h.reject(w, r, http.StatusUnauthorized, err.Error(), msg)
		return
	}
	ev, reasons := decodeWebhookEvent(body)
	if len(reasons) > 0 {
		h.log().Warn("hr webhook: rejected", "status", http.StatusBadRequest, "reason", "invalid event",
			"problems", strings.Join(reasons, "; "), "remote", r.RemoteAddr)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid event", "reasons": reasons})
		return
	}
	receipt, err := h.Intake.Receive(r.Context(), ev)
	switch {
	case errors.Is(err, ErrConflict):
		h.reject(w, r, http.StatusConflict, "event_id conflict", fmt.Sprintf("event_id %q was received before with a different body", ev.ID))
	case err != nil:
		h.log().Error("hr webhook: could not store event", "event_id", ev.ID, "error", err, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the event could not be stored; retry later"})
	default:
		h.log().Info("hr webhook: event received", "event_id", ev.ID, "type", ev.Type, "outcome", receipt.Outcome,
			"case_id", receipt.CaseID, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusAccepted, receipt)
	}
}

func (h *Webhook) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

// reject logs why a request was refused and answers with a JSON error. Neither the log nor the
// answer carries the signature header or a secret.
func (h *Webhook) reject(w http.ResponseWriter, r *http.Request, status int, reason, msg string) {
	h.log().Warn("hr webhook: rejected", "status", status, "reason", reason, "remote", r.RemoteAddr)
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeWebhookEvent turns a body into an Event, or lists every reason it cannot: bad JSON,
// unknown fields, fields of the wrong type, an unparseable effective_at and whatever
// Event.Validate finds.
func decodeWebhookEvent(body []byte) (Event, []string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return Event{}, []string{"body is not a JSON object: " + err.Error()}
	}
	if fields == nil {
		return Event{}, []string{"body is not a JSON object"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return Event{}, []string{"body has data after the JSON object"}
	}
	var reasons []string
	var unknown []string
	for k := range fields {
		if !slices.Contains(webhookFields, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		reasons = append(reasons, fmt.Sprintf("unknown field %q", k))
	}
	str := func(name string) string {
		var s string
		if raw, ok := fields[name]; ok {
			if err := json.Unmarshal(raw, &s); err != nil {
				reasons = append(reasons, fmt.Sprintf("%s must be a string", name))
			}
		}
		return strings.TrimSpace(s)
	}
	ev := Event{
		ID:       str("event_id"),
		Source:   "webhook",
		Actor:    "webhook",
		Type:     Type(str("type")),
		WorkerID: str("worker_id"),
		Email:    str("email"),
		Name:     str("name"),
		Manager:  str("manager_email"),
		Reason:   str("reason"),
	}
	if raw, ok := fields["handles"]; ok {
		if err := json.Unmarshal(raw, &ev.Handles); err != nil {
			reasons = append(reasons, `handles must be an object of strings, e.g. {"github": "octocat"}`)
		}
	}
	if raw, ok := fields["involuntary"]; ok {
		if err := json.Unmarshal(raw, &ev.Involuntary); err != nil {
			reasons = append(reasons, "involuntary must be true or false")
		}
	}
	badEffective := false
	if at := str("effective_at"); at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			badEffective = true
			reasons = append(reasons, fmt.Sprintf("effective_at %q is not an RFC 3339 time such as 2026-11-30T17:00:00-08:00", at))
		} else {
			ev.EffectiveAt = t
		}
	}
	for _, p := range ev.Problems() {
		if badEffective && ev.EffectiveAt.IsZero() && strings.HasPrefix(p, "effective_at is required") {
			continue // already reported as unparseable
		}
		reasons = append(reasons, p)
	}
	return ev, reasons
}

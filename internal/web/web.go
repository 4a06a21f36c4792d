// Package web serves offboard's HTTP API: health, cases, the signed HR webhook and the API door
// for opening a case. Responses never carry credentials.
package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/workflow"
)

// Server holds what the API needs.
type Server struct {
	Store store.Store
	// Intake receives events opened through the API.
	Intake hr.Intake
	// Webhook is the signed HR webhook handler (nil when no webhook secret is configured).
	Webhook http.Handler
	// APIToken, when set, is required as "Authorization: Bearer <token>" on /v1/cases.
	APIToken string
	// Metrics serves Prometheus metrics at /metrics (nil: not served). They carry counts by
	// system and action kind only, never who is being offboarded.
	Metrics http.Handler
	Log     *slog.Logger
	Now     func() time.Time
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.health)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	mux.HandleFunc("GET /v1/cases", s.auth(s.listCases))
	mux.HandleFunc("GET /v1/cases/{id}", s.auth(s.getCase))
	mux.HandleFunc("POST /v1/cases", s.auth(s.openCase))
	if s.Webhook != nil {
		mux.Handle("POST /v1/hr/events", s.Webhook)
	} else {
		mux.HandleFunc("POST /v1/hr/events", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "the HR webhook is not configured (hr.webhook.secret)")
		})
	}
	return mux
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.APIToken != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.APIToken)) != 1 {
				s.log().Warn("api: unauthorized request", "path", r.URL.Path, "remote", r.RemoteAddr)
				writeError(w, http.StatusUnauthorized, "missing or wrong API token")
				return
			}
		}
		next(w, r)
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		_, _, err := tx.AuditHead(ctx)
		return err
	})
	if err != nil {
		s.log().Error("health: store unreachable", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unhealthy", "store": "unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "store": s.Store.Driver()})
}

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) {
	f := store.CaseFilter{Email: r.URL.Query().Get("email")}
	for _, st := range r.URL.Query()["state"] {
		f.States = append(f.States, store.CaseState(st))
	}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit must be a number from 1 to 1000")
			return
		}
		f.Limit = n
	}
	var cases []store.Case
	err := s.Store.InTx(r.Context(), func(tx store.Tx) error {
		var err error
		cases, err = tx.ListCases(r.Context(), f)
		return err
	})
	if err != nil {
		s.log().Error("api: list cases", "error", err)
		writeError(w, http.StatusInternalServerError, "could not list cases")
		return
	}
	if cases == nil {
		cases = []store.Case{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": cases})
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, "case id must be a positive number")
		return
	}
	v, err := workflow.LoadCase(r.Context(), s.Store, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no case %d", id))
		return
	}
	if err != nil {
		s.log().Error("api: get case", "case", id, "error", err)
		writeError(w, http.StatusInternalServerError, "could not read the case")
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// openRequest is the API's termination body: the webhook's fields, authenticated by the API
// token instead of a signature.
type openRequest struct {
	EventID      string    `json:"event_id"`
	WorkerID     string    `json:"worker_id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	ManagerEmail string    `json:"manager_email"`
	EffectiveAt  time.Time `json:"effective_at"`
	Reason       string    `json:"reason"`
	Involuntary  bool      `json:"involuntary"`
	// Handles are identities in systems where they are not the email, e.g. {"github": "octocat"}.
	Handles map[string]string `json:"handles"`
}

func (s *Server) openCase(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	var req openRequest
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad body: "+err.Error())
		return
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if req.EffectiveAt.IsZero() {
		req.EffectiveAt = now()
	}
	if req.EventID == "" {
		req.EventID = fmt.Sprintf("api:%s:%s", firstNonEmpty(req.WorkerID, req.Email), req.EffectiveAt.UTC().Format(time.RFC3339))
	}
	ev := hr.Event{ID: req.EventID, Source: "api", Actor: "api", Type: hr.Termination, WorkerID: req.WorkerID, Email: req.Email,
		Name: req.Name, Manager: req.ManagerEmail, EffectiveAt: req.EffectiveAt, Reason: req.Reason, Involuntary: req.Involuntary, Handles: req.Handles}
	if err := ev.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	receipt, err := s.Intake.Receive(r.Context(), ev)
	switch {
	case errors.Is(err, hr.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case err != nil:
		s.log().Error("api: open case", "error", err)
		writeError(w, http.StatusInternalServerError, "could not store the termination; nothing was opened")
	default:
		writeJSON(w, http.StatusAccepted, receipt)
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

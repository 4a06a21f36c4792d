// Package tool is an example internal admin tool connected to offboard through offboard's
// webhook protocol (version 1): offboard POSTs a signed JSON request to plan, apply or verify
// the removal of a leaver's access, and the tool answers in JSON.
//
// It is meant to be copied. handler.go, protocol.go and signature.go implement the protocol
// and need no change; admin.go is the in-memory "admin tool" with accounts, roles and API
// keys, which a company replaces with calls to its own tool. It uses only the standard library.
package tool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// MaxRequestBody bounds the request body; offboard's requests are a few kilobytes.
const MaxRequestBody = 1 << 20

// Options configures the handler.
type Options struct {
	// Secret is the secret shared with offboard (connectors.webhook[].secret).
	Secret string
	// PreviousSecret is also accepted while the secret is being rotated; empty when not.
	PreviousSecret string
	// Admin is the tool's data; nil means a new, empty Admin.
	Admin *Admin
	// Now is the clock for signature timestamps; nil means time.Now.
	Now func() time.Time
	// Log receives one line per request; nil means slog.Default().
	Log *slog.Logger
}

// Handler serves the protocol. It answers every path, so it can be mounted anywhere.
type Handler struct {
	opts  Options
	admin *Admin
}

// NewHandler returns the protocol handler for opts.
func NewHandler(opts Options) *Handler {
	if opts.Admin == nil {
		opts.Admin = NewAdmin()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Handler{opts: opts, admin: opts.Admin}
}

// Admin returns the tool's data, for seeding.
func (h *Handler) Admin() *Admin { return h.admin }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "request body is too large or unreadable")
		return
	}
	// Check the signature before looking at anything else in the request.
	if err := h.verify(r.Header.Get(SignatureHeader), body); err != nil {
		h.opts.Log.Warn("webhook request refused", "reason", err.Error(), "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "bad_signature", errBadSignature.Error())
		return
	}
	req, err := decodeRequest(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if req.Version != Version {
		writeError(w, http.StatusBadRequest, "unsupported_version", fmt.Sprintf("this tool speaks version %d", Version))
		return
	}
	// The phase in the query string is for logs and proxies; the signed body decides, and the
	// two must agree so nobody reading logs is misled.
	if q := r.URL.Query().Get("phase"); q != "" && q != req.Phase {
		writeError(w, http.StatusBadRequest, "phase_mismatch", "the phase in the URL differs from the signed body")
		return
	}
	h.opts.Log.Info("webhook request", "phase", req.Phase, "system", req.System, "key", req.IdempotencyKey)
	resp, status, err := h.dispatch(req)
	if err != nil {
		writeError(w, status, "bad_request", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *Handler) verify(header string, body []byte) error {
	now := h.opts.Now()
	err := VerifySignature(header, body, []byte(h.opts.Secret), now)
	if err != nil && h.opts.PreviousSecret != "" {
		if VerifySignature(header, body, []byte(h.opts.PreviousSecret), now) == nil {
			return nil
		}
	}
	return err
}

// decodeRequest reads one JSON object, refusing unknown fields so a protocol mismatch is
// loud rather than silently half-understood.
func decodeRequest(body []byte) (Request, error) {
	var req Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("body is not a valid request: %v", err)
	}
	if dec.More() {
		return req, errors.New("body holds more than one JSON value")
	}
	return req, nil
}

func (h *Handler) dispatch(req Request) (any, int, error) {
	switch req.Phase {
	case PhaseCheck:
		return CheckResponse{Version: Version, Phase: PhaseCheck, Problems: h.admin.Check()}, 0, nil
	case PhasePlan:
		resp := h.admin.Plan(req.Person)
		resp.Version, resp.Phase = Version, PhasePlan
		return resp, 0, nil
	case PhaseApply, PhaseVerify:
		if req.Action == nil {
			return nil, http.StatusBadRequest, fmt.Errorf("%s needs an action", req.Phase)
		}
		if req.Phase == PhaseApply {
			resp := h.admin.Apply(req.Person, *req.Action)
			resp.Version, resp.Phase = Version, PhaseApply
			return resp, 0, nil
		}
		resp := h.admin.Verify(req.Person, *req.Action)
		resp.Version, resp.Phase = Version, PhaseVerify
		return resp, 0, nil
	default:
		return nil, http.StatusBadRequest, fmt.Errorf("unknown phase %q", req.Phase)
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, ErrorResponse{Version: Version, Error: ErrorBody{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

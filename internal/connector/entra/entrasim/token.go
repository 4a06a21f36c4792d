package entrasim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/offboard-dev/offboard/internal/sim"
)

// token is the Microsoft identity platform's client-credentials grant
// (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow): a form POST
// with client_id, client_secret (in the body, or HTTP Basic), grant_type=client_credentials
// and scope=https://graph.microsoft.com/.default. Refusals carry the AADSTS error JSON.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if !strings.EqualFold(r.PathValue("tenant"), s.opts.TenantID) || s.opts.TenantID == "" {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", r.PathValue("tenant")))
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	switch {
	case r.PostForm.Get("grant_type") != "client_credentials":
		s.aadError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	case id != s.opts.ClientID || id == "":
		s.aadError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory.", id))
	case s.opts.ClientSecret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1:
		s.aadError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
	case r.PostForm.Get("scope") != Scope:
		s.aadError(w, http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.")
	default:
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		tok := "eyJ0eXAiOiJKV1Qi.sim." + hex.EncodeToString(b)
		s.mu.Lock()
		s.tokens[tok] = s.now().Add(s.opts.TokenLifetime)
		s.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		secs := int(s.opts.TokenLifetime.Seconds())
		sim.WriteJSON(w, http.StatusOK, map[string]any{
			"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok,
		})
	}
}

// aadError writes the identity platform's error JSON: error, error_description starting with
// the AADSTS code, error_codes, timestamp, trace_id and correlation_id.
func (s *Server) aadError(w http.ResponseWriter, status int, code string, aadsts int, description string) {
	id := fmt.Sprintf("00000000-0000-4000-9000-%012d", s.reqSeq.Add(1))
	sim.WriteJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, description, id, id, s.now().UTC().Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{aadsts},
		"timestamp":         s.now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          id,
		"correlation_id":    id,
	})
}

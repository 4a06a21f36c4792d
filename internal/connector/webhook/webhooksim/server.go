// Package webhooksim simulates a company's internal tool connected through offboard's webhook
// protocol, for tests, `offboard sim` and the demo (mounted at /webhook-example).
//
// It is not a separate imitation: it serves the very example tool offboard ships
// (examples/webhook-tool/tool), so the conformance suite proves the example a company copies
// works with the connector. Around the tool's handler it adds what every simulator has:
// injected faults (5xx, a 429 with Retry-After, latency, dropped connections) and a request
// log. It never imports the connector; the protocol it follows is docs/connectors/webhook.md.
package webhooksim

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/offboard-dev/offboard/examples/webhook-tool/tool"
	"github.com/offboard-dev/offboard/internal/sim"
)

// Options configures the simulated tool.
type Options struct {
	// Secret is the secret shared with offboard; requests signed with anything else get 401.
	Secret string
	// Now is the tool's clock for signature timestamps; nil means time.Now.
	Now func() time.Time
}

// Server is the simulated tool. It is an http.Handler answering POST on any path, so it can
// be mounted under any prefix. All methods are safe for concurrent use.
type Server struct {
	// Faults injects failures in front of the tool. Set before serving, or use New's.
	Faults *sim.Faults
	// Recorder logs every request answered, injected faults included. A request's phase is
	// in its query string (phase=plan), which the tool checks against the signed body.
	Recorder *sim.Recorder

	admin   *tool.Admin
	handler http.Handler
}

// New returns a simulated tool with no accounts.
func New(opts Options) *Server {
	s := &Server{Faults: &sim.Faults{}, Recorder: &sim.Recorder{}, admin: tool.NewAdmin()}
	mux := sim.NewMux()
	// The protocol uses one URL and POST only (docs/connectors/webhook.md, "Requests"); any
	// other method answers 501, as for any endpoint a simulator does not implement.
	mux.Handle("POST /", tool.NewHandler(tool.Options{Secret: opts.Secret, Admin: s.admin, Now: opts.Now, Log: discard()}))
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(rootPath(mux), throttled))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// throttled is the protocol's 429: a Retry-After in seconds and the usual error body.
func throttled(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Retry-After", "1")
	sim.WriteJSON(w, http.StatusTooManyRequests, tool.ErrorResponse{
		Version: tool.Version,
		Error:   tool.ErrorBody{Code: "rate_limited", Message: "too many requests; retry after 1 second"},
	})
}

// rootPath serves a request whose path http.StripPrefix emptied (a tool mounted at exactly
// /webhook-example) as the root, instead of letting the mux redirect it.
func rootPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" {
			r2 := *r
			u := *r.URL
			u.Path = "/"
			r2.URL = &u
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

// AddAccount creates an active account and returns its ID (u-1, u-2, ...). Usernames are
// unique; two accounts may share an email, which plans report as ambiguous.
func (s *Server) AddAccount(username, email, name string) (string, error) {
	return s.admin.AddAccount(username, email, name)
}

// GrantRole gives the account with username a role.
func (s *Server) GrantRole(username, role string) error { return s.admin.GrantRole(username, role) }

// AddAPIKey issues an API key to the account with username and returns its ID (k-1, ...).
func (s *Server) AddAPIKey(username, keyName string) (string, error) {
	return s.admin.AddAPIKey(username, keyName)
}

// Holdings lists every access the accounts with email still hold: active status, roles and
// unrevoked API keys. It is empty once the person is offboarded.
func (s *Server) Holdings(email string) []string { return s.admin.Holdings(email) }

// discard keeps the example tool's request log out of test and demo output; the Recorder
// already logs every request.
func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

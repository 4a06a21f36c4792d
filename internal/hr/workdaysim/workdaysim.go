// Package workdaysim simulates a Workday tenant's Report-as-a-Service (RaaS) endpoint serving
// one custom report, for tests, `offboard sim` and the demo.
//
// It is written from Workday's public description of RaaS (the project's apis.md §2.1), not
// from the poller: GET /ccx/service/customreport2/{tenant}/{owner}/{report}?format=json with
// HTTP Basic credentials of an Integration System User answers {"Report_Entry":[rows]}, each
// row an object keyed by the report columns' aliases, the whole report in one reply (RaaS has
// no pagination). Report prompts arrive as further query parameters; the simulator records them
// but does not filter on them. Anything else answers 501.
package workdaysim

import (
	"crypto/subtle"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Options configures the simulated tenant and report. Empty fields take the defaults shown.
type Options struct {
	// Username and Password are the Integration System User's credentials
	// (default "ISU_offboard" / "workday-sim-password").
	Username, Password string
	// Tenant, Owner and Report name the report in its URL
	// (default "acme" / "ISU_offboard" / "Terminations").
	Tenant, Owner, Report string
	// RetryAfter is the Retry-After sent with an injected 429 (default 1 s). Workday does not
	// publish its throttling headers; tests shorten this to keep storms fast.
	RetryAfter time.Duration
}

// Server is the simulated RaaS endpoint. It is an http.Handler; mount it under any prefix.
type Server struct {
	// Faults injects latency, 5xx, 429 and dropped connections.
	Faults *sim.Faults
	// Recorder logs every request answered, prompts included.
	Recorder *sim.Recorder

	opts    Options
	handler http.Handler

	mu   sync.Mutex
	rows []map[string]any
}

// New returns a simulator serving an empty report.
func New(opts Options) *Server {
	if opts.Username == "" {
		opts.Username = "ISU_offboard"
	}
	if opts.Password == "" {
		opts.Password = "workday-sim-password"
	}
	if opts.Tenant == "" {
		opts.Tenant = "acme"
	}
	if opts.Owner == "" {
		opts.Owner = "ISU_offboard"
	}
	if opts.Report == "" {
		opts.Report = "Terminations"
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	s := &Server{Faults: &sim.Faults{}, Recorder: &sim.Recorder{}, opts: opts}
	mux := sim.NewMux()
	mux.HandleFunc("GET /ccx/service/customreport2/{tenant}/{owner}/{report}", s.report)
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(mux, s.throttled))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// ReportPath is the report's path, to be put after the host (and any mount prefix) in the
// poller's report URL, followed by "?format=json".
func (s *Server) ReportPath() string {
	return "/ccx/service/customreport2/" + s.opts.Tenant + "/" + s.opts.Owner + "/" + s.opts.Report
}

// AddRow appends a row to the report. Keys are column aliases such as "Employee_ID".
func (s *Server) AddRow(row map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = append(s.rows, maps.Clone(row))
}

// SetRows replaces every row of the report.
func (s *Server) SetRows(rows []map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		s.rows = append(s.rows, maps.Clone(r))
	}
}

// Rows returns a copy of the report's rows.
func (s *Server) Rows() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(s.rows))
	for _, r := range s.rows {
		out = append(out, maps.Clone(r))
	}
	return out
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.Username)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Password)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+s.opts.Tenant+`"`)
		plain(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if r.PathValue("tenant") != s.opts.Tenant || r.PathValue("owner") != s.opts.Owner || r.PathValue("report") != s.opts.Report {
		plain(w, http.StatusNotFound, "Report not found")
		return
	}
	// Real RaaS falls back to XML without format; the simulator refuses instead, so a client
	// that lost the parameter is caught rather than handed a body it cannot read.
	if f := r.URL.Query().Get("format"); f != "json" {
		plain(w, http.StatusBadRequest, "format must be json; got "+strconv.Quote(f))
		return
	}
	rows := s.Rows()
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(map[string]any{"Report_Entry": rows})
}

func (s *Server) throttled(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Retry-After", strconv.FormatFloat(s.opts.RetryAfter.Seconds(), 'f', -1, 64))
	plain(w, http.StatusTooManyRequests, "Too Many Requests")
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

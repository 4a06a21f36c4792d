// Package oktasim simulates the parts of the Okta Management API that offboarding uses, for
// tests, `offboard sim` and the demo.
//
// It is written from Okta's own API description (okta-management-openapi-spec,
// management-minimal.yaml) and rate-limit documentation as summarised in the project's apis.md
// §1 and §11, never from the offboard connector: a shared misunderstanding cannot hide in both.
// It reproduces what makes Okta hard to offboard from: group types that refuse removal (403
// E0000006), group-rule exclusions left behind by a manual removal, factors that cannot be
// unenrolled once a user is deactivated, asynchronous deactivation (transitioningToStatus),
// the two-step user delete, Link-header paging with an opaque `after` cursor, the
// X-Rate-Limit-* headers on every response, 429 E0000047 over the per-minute budget or the
// concurrency cap, and Okta's error body on every error. Anything else answers 501.
package oktasim

import (
	"crypto/subtle"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Options configures a simulated Okta org. Zero fields take the defaults given.
type Options struct {
	// Token is the API token every request must present as `Authorization: SSWS <token>`. An
	// empty Token authorises nothing.
	Token string
	// PerMinute is the org's per-minute request budget; 0 means unlimited.
	PerMinute int
	// PageSize is how many items a list returns when the request gives no `limit` (default
	// 20, Okta's default for grants and tokens). A `limit` up to 200 is honoured.
	PageSize int
	// TransitionReads is how many reads of a deactivated user still show the deactivation in
	// progress (transitioningToStatus DEPROVISIONED); default 1, negative for none.
	TransitionReads int
	// MaxConcurrent caps requests in flight at once; the first request over it gets 429
	// (default 75, Okta's org-wide concurrency limit for API traffic).
	MaxConcurrent int
	// Now is the clock for the rate-limit window, Reset headers and timestamps (default
	// time.Now). Tests share a fake clock with the client to wait out a budget instantly.
	Now func() time.Time
}

// AdminID is the ID of the admin user the API token belongs to, returned by GET
// /api/v1/users/me.
const AdminID = "00u0admin00000000001"

// Server is a simulated Okta org. It is an http.Handler; mount it under any path prefix with
// http.StripPrefix (pagination links keep the prefix). All methods are safe for concurrent use.
type Server struct {
	// Faults injects latency, 5xx, Okta's own 429 and dropped connections. Set it before
	// serving or leave the one New made.
	Faults *sim.Faults
	// Recorder logs every request answered, injected faults included.
	Recorder *sim.Recorder

	opts     Options
	budget   *sim.Budget
	mux      *sim.Mux
	inflight atomic.Int64
	errSeq   atomic.Int64

	mu          sync.Mutex
	users       map[string]*user
	userOrder   []string
	groups      map[string]*group
	groupOrder  []string
	members     map[string]map[string]*membership // group ID → user ID → why
	memberOrder map[string][]string               // user ID → group IDs in the order joined
	factors     map[string][]Factor
	roles       map[string][]Role
	grants      map[string][]Grant
	tokens      map[string][]ClientToken
	clientNames map[string]string
	rules       map[string]*rule
	ruleOrder   []string
}

// New returns an org holding only the Everyone group and the admin user the token belongs to.
func New(opts Options) *Server {
	if opts.PageSize <= 0 {
		opts.PageSize = 20
	}
	if opts.TransitionReads == 0 {
		opts.TransitionReads = 1
	}
	if opts.TransitionReads < 0 {
		opts.TransitionReads = 0
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 75
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		Faults:      &sim.Faults{},
		Recorder:    &sim.Recorder{},
		opts:        opts,
		budget:      sim.NewBudget(opts.PerMinute),
		users:       make(map[string]*user),
		groups:      make(map[string]*group),
		members:     make(map[string]map[string]*membership),
		memberOrder: make(map[string][]string),
		factors:     make(map[string][]Factor),
		roles:       make(map[string][]Role),
		grants:      make(map[string][]Grant),
		tokens:      make(map[string][]ClientToken),
		clientNames: make(map[string]string),
		rules:       make(map[string]*rule),
	}
	s.budget.SetClock(opts.Now)
	_ = s.addGroupLocked(Group{ID: EveryoneID, Name: "Everyone", Type: BuiltIn})
	_ = s.AddUser(User{ID: AdminID, Login: "offboard-admin@example.com", FirstName: "Offboard", LastName: "Admin"})
	s.mux = sim.NewMux()
	for _, rt := range s.routes() {
		s.mux.HandleFunc(rt.Method+" "+rt.Path, rt.handler)
	}
	return s
}

func (s *Server) now() time.Time { return s.opts.Now() }

// ServeHTTP answers one request: recorded, capped for concurrency, subject to injected faults,
// charged to the budget, authenticated, then routed.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := s.Recorder.Wrap(s.limitConcurrency(s.Faults.Wrap(http.HandlerFunc(s.serveAPI), s.throttled)))
	h.ServeHTTP(w, r)
}

// limitConcurrency answers 429 to the first request over the concurrency cap. Okta counts a
// request as in flight for its whole life, so the cap wraps injected latency too. The Reset
// Okta sends for concurrency violations is only an estimate (apis.md §1.5); a second is used.
func (s *Server) limitConcurrency(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.inflight.Add(1)
		defer s.inflight.Add(-1)
		if n > int64(s.opts.MaxConcurrent) {
			s.tooMany(w, s.opts.MaxConcurrent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// throttled is Okta's 429 for an injected throttle: E0000047 with X-Rate-Limit-Remaining 0 and
// a Reset at most a second away, so clients that wait until Reset recover quickly.
func (s *Server) throttled(w http.ResponseWriter, _ *http.Request) {
	limit := s.opts.PerMinute
	if limit <= 0 {
		limit = 600
	}
	s.tooMany(w, limit)
}

func (s *Server) tooMany(w http.ResponseWriter, limit int) {
	reset := s.now().Truncate(time.Second).Add(time.Second)
	setRateHeaders(w, limit, 0, reset)
	s.fail(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
}

// serveAPI charges the budget (X-Rate-Limit-* on every response, apis.md §1.5), checks the
// SSWS token (401 E0000011, the spec's ErrorInvalidToken401) and routes.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	limit, remaining, reset, ok := s.budget.Take()
	setRateHeaders(w, limit, remaining, reset)
	if !ok {
		s.fail(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	if !s.authorized(r) {
		s.fail(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "SSWS") || s.opts.Token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.opts.Token)) == 1
}

func setRateHeaders(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

// errorBody is Okta's Error schema (apis.md §1.3).
type errorBody struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []errorCause `json:"errorCauses"`
}

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

// fail writes Okta's error body.
func (s *Server) fail(w http.ResponseWriter, status int, code, summary string, causes ...string) {
	body := errorBody{
		ErrorCode:    code,
		ErrorSummary: summary,
		ErrorLink:    code,
		ErrorID:      fmt.Sprintf("oaesim%014d", s.errSeq.Add(1)),
		ErrorCauses:  []errorCause{},
	}
	for _, c := range causes {
		body.ErrorCauses = append(body.ErrorCauses, errorCause{ErrorSummary: c})
	}
	sim.WriteJSON(w, status, body)
}

// notFound is the spec's ErrorResourceNotFound404: E0000007 "Not found: {0}".
func (s *Server) notFound(w http.ResponseWriter, id, kind string) {
	s.fail(w, http.StatusNotFound, "E0000007", fmt.Sprintf("Not found: Resource not found: %s (%s)", id, kind))
}

// forbidden is the spec's ErrorAccessDenied403: E0000006.
func (s *Server) forbidden(w http.ResponseWriter, cause string) {
	s.fail(w, http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action", cause)
}

func (s *Server) invalid(w http.ResponseWriter, what, cause string) {
	s.fail(w, http.StatusBadRequest, "E0000001", "Api validation failed: "+what, cause)
}

// maxLimit is the largest page Okta serves (the spec's `limit` maximum).
const maxLimit = 200

// writePage answers one page of a list with Okta's Link headers: rel="self" always and
// rel="next" (carrying the `after` cursor and the `limit`) while more remain. Items are
// listed in ID order and the cursor is the last ID served, so an item removed between two
// page reads shifts nothing: no item is skipped or served twice, as with Okta's opaque
// cursors.
func writePage[T any](s *Server, w http.ResponseWriter, r *http.Request, items []T, id func(T) string) {
	q := r.URL.Query()
	limit := s.opts.PageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.invalid(w, "limit", "limit: must be a whole number from 1 to 200")
			return
		}
		limit = min(n, maxLimit)
	}
	items = slices.Clone(items)
	slices.SortStableFunc(items, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	if after := q.Get("after"); after != "" {
		items = slices.DeleteFunc(items, func(it T) bool { return id(it) <= after })
	}
	page, rest := sim.Page(items, "", limit)
	if page == nil {
		page = []T{}
	}
	w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="self"`, sim.PageURL(r, q)))
	if rest != "" {
		nq := maps.Clone(q)
		nq.Set("after", id(page[len(page)-1]))
		nq.Set("limit", strconv.Itoa(limit))
		w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="next"`, sim.PageURL(r, nq)))
	}
	sim.WriteJSON(w, http.StatusOK, page)
}

// boolParam reads an optional boolean query parameter; ok is false when it is malformed.
func boolParam(r *http.Request, name string) (value, ok bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, true
	}
	b, err := strconv.ParseBool(v)
	return b, err == nil
}

const timeLayout = "2006-01-02T15:04:05.000Z"

func stamp(t time.Time) string { return t.UTC().Format(timeLayout) }

// href is a _links entry for path on this server, under the same mount prefix as r.
func href(r *http.Request, path string) map[string]string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	prefix := ""
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && r.RequestURI != "" {
		prefix = strings.TrimSuffix(u.Path, r.URL.Path)
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: prefix + path}
	return map[string]string{"href": u.String()}
}

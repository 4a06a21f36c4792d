// Package githubsim simulates the parts of GitHub's REST and GraphQL APIs that offboarding a
// person from a GitHub organization uses, for tests, `offboard sim` and the demo.
//
// It is written from GitHub's REST documentation as summarised in the project's apis.md §4 and
// §11 (and GitHub's GraphQL reference for the SAML external identities query), never from the
// offboard connector, so a shared misunderstanding cannot hide in both. It keeps one
// organization: members and owners, outside collaborators, repositories with their direct
// collaborators and Actions secret names, SAML SSO credential authorizations (personal access
// tokens and SSH keys), pending invitations and SAML external identities. It answers with
// GitHub's statuses (204 on removal, 404, 422 when an organization member is removed as an
// outside collaborator, 403 for the last owner), GitHub's error body ({"message",
// "documentation_url"}), Link-header paging with per_page/page, the x-ratelimit-* headers on
// every response, and the secondary-rate-limit throttle (403 or 429 with retry-after and
// x-ratelimit-remaining: 0). Anything else answers 501.
package githubsim

import (
	"crypto/subtle"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Options configures a simulated organization.
type Options struct {
	// Org is the organization's login (default "acme").
	Org string
	// Token is the token every request must present as `Authorization: Bearer <token>` (or the
	// older `token <token>`). An empty Token authorises nothing.
	Token string
	// SAML reports whether the organization has SAML SSO enabled. Without it the GraphQL
	// samlIdentityProvider is null and the credential-authorizations endpoints answer 404.
	SAML bool
	// ThrottleStatus is the status of the injected secondary-rate-limit response: 403 (the
	// default) or 429. Both carry retry-after: 1 and x-ratelimit-remaining: 0.
	ThrottleStatus int
	// PerHour is the primary rate limit reported in x-ratelimit-limit (default 5000); a
	// request over it answers 403 with x-ratelimit-remaining: 0 until the hour resets.
	PerHour int
	// Now is the clock for the rate-limit window (default time.Now).
	Now func() time.Time
}

// Server is a simulated GitHub organization. It is an http.Handler serving the REST API at
// its root and GraphQL at POST /graphql (and /api/graphql, GitHub Enterprise Server's path);
// mount it under any prefix with http.StripPrefix. All methods are safe for concurrent use.
type Server struct {
	// Faults injects latency, 5xx, the secondary-rate-limit response and dropped connections.
	Faults *sim.Faults
	// Recorder logs every request answered, injected faults included.
	Recorder *sim.Recorder

	opts    Options
	handler http.Handler

	mu     sync.Mutex
	window time.Time
	used   int
	state  state
	nextID int64
}

// New returns an organization with no members.
func New(opts Options) *Server {
	if opts.Org == "" {
		opts.Org = "acme"
	}
	if opts.ThrottleStatus == 0 {
		opts.ThrottleStatus = http.StatusForbidden
	}
	if opts.PerHour <= 0 {
		opts.PerHour = 5000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{Faults: &sim.Faults{}, Recorder: &sim.Recorder{}, opts: opts, nextID: 1000, state: newState()}
	mux := sim.NewMux()
	for _, rt := range s.routes() {
		mux.HandleFunc(rt.pattern, rt.handler)
	}
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(s.guard(mux), s.throttled))
	return s
}

// Org returns the organization's login.
func (s *Server) Org() string { return s.opts.Org }

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// docsURL is where GitHub's error bodies point.
const docsURL = "https://docs.github.com/rest"

// errorBody is GitHub's REST error shape (apis.md §0): message, documentation_url, status.
type errorBody struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
	Status           string `json:"status"`
}

func fail(w http.ResponseWriter, status int, msg string) {
	sim.WriteJSON(w, status, errorBody{Message: msg, DocumentationURL: docsURL, Status: strconv.Itoa(status)})
}

func notFound(w http.ResponseWriter) { fail(w, http.StatusNotFound, "Not Found") }

// throttled is GitHub's secondary rate limit (apis.md §4 "Rate limits"): 403 (or 429) with
// retry-after and x-ratelimit-remaining: 0.
func (s *Server) throttled(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Retry-After", "1")
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.PerHour))
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Used", strconv.Itoa(s.opts.PerHour))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.opts.Now().Add(time.Second).Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	fail(w, s.opts.ThrottleStatus, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.")
}

// guard charges the hourly budget (x-ratelimit-* on every response), then checks the token.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := s.opts.Now()
		s.mu.Lock()
		start := now.Truncate(time.Hour)
		if !start.Equal(s.window) {
			s.window, s.used = start, 0
		}
		over := s.used >= s.opts.PerHour
		if !over {
			s.used++
		}
		used := s.used
		s.mu.Unlock()
		h := w.Header()
		resource := "core"
		if strings.HasSuffix(r.URL.Path, "graphql") {
			resource = "graphql"
		}
		h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.PerHour))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(s.opts.PerHour-used))
		h.Set("X-RateLimit-Used", strconv.Itoa(used))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(start.Add(time.Hour).Unix(), 10))
		h.Set("X-RateLimit-Resource", resource)
		if over {
			fail(w, http.StatusForbidden, "API rate limit exceeded for user. (But here's the good news: Authenticated requests get a higher rate limit.)")
			return
		}
		if !s.authorized(r) {
			// GitHub's answer to a wrong or missing token.
			sim.WriteJSON(w, http.StatusUnauthorized, errorBody{Message: "Bad credentials", DocumentationURL: docsURL, Status: "401"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || s.opts.Token == "" || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "token")) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.opts.Token)) == 1
}

// maxPerPage is the largest page GitHub serves; 30 is its default.
const (
	maxPerPage     = 100
	defaultPerPage = 30
)

// writePage answers one page of a list with per_page/page and GitHub's Link header (rel next,
// last, first, prev). Items must be in a stable order.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T) {
	if out, ok := paginate(w, r, items); ok {
		sim.WriteJSON(w, http.StatusOK, out)
	}
}

// paginate sets the Link header and returns the requested page, or answers 422 for a bad
// per_page and returns false.
func paginate[T any](w http.ResponseWriter, r *http.Request, items []T) ([]T, bool) {
	q := r.URL.Query()
	per, page := defaultPerPage, 1
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail(w, http.StatusUnprocessableEntity, "Invalid per_page")
			return nil, false
		}
		per = min(n, maxPerPage)
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			n = 1
		}
		page = n
	}
	start := min((page-1)*per, len(items))
	end := min(start+per, len(items))
	out := items[start:end]
	if out == nil {
		out = []T{}
	}
	last := max((len(items)+per-1)/per, 1)
	var links []string
	link := func(p int, rel string) {
		nq := maps.Clone(q)
		nq.Set("per_page", strconv.Itoa(per))
		nq.Set("page", strconv.Itoa(p))
		links = append(links, fmt.Sprintf(`<%s>; rel="%s"`, sim.PageURL(r, nq), rel))
	}
	if page < last {
		link(page+1, "next")
		link(last, "last")
	}
	if page > 1 {
		link(1, "first")
		link(page-1, "prev")
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	return out, true
}

// Package dockerhubsim simulates the parts of the Docker Hub API that offboarding uses, for
// tests, `offboard sim` and the demo: one organization with members, teams and pending invites.
//
// It is written from Docker's own API description (docker/docs,
// content/reference/api/hub/latest.yaml) as summarised in the project's apis.md §9.1 and §11,
// never from the offboard connector. It reproduces what matters for offboarding: an
// organization access token (OAT) must first be exchanged for a short-lived JWT at
// POST /v2/auth/token (AuthCreateAccessToken; the JWT "expires in 10 minutes"); organization
// endpoints refuse JWTs issued from a personal access token (403, apis.md §9.1); member lists
// page with page/page_size and absolute `next` links; removal from the organization takes the
// member out of every team; 401/403/404 carry Docker's `{"errinfo", "detail", "message"}` body;
// every answer carries X-RateLimit-Limit/-Remaining/-Reset; and a 429 carries either the
// current `Retry-After` (seconds) or the older `X-Retry-After` (unix time), as the docs have
// said both (apis.md §0). Anything else answers 501.
package dockerhubsim

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Options configures a simulated Docker Hub organization. Zero fields take the defaults given.
type Options struct {
	// Org is the organization's name (default "acme").
	Org string
	// Token is the organization access token; it is exchanged at /v2/auth/token with the
	// organization's name (or Identifier) as the identifier. An empty Token authorises nothing.
	Token string
	// Identifier, when set, is accepted as the token's identifier besides the org name (the
	// account an OAT belongs to, as some tenants configure it).
	Identifier string
	// PATUser and PAT define a personal access token. Docker Hub exchanges it for a JWT, but
	// organization endpoints refuse that JWT with 403 (apis.md §9.1).
	PATUser, PAT string
	// TokenTTL is how long an issued JWT is valid (default 10 minutes, as documented).
	TokenTTL time.Duration
	// PageSize is the member page size when the request gives none (default 25).
	PageSize int
	// MaxPageSize caps the page_size a request may ask for (default 100). Tests lower it to
	// make a client page.
	MaxPageSize int
	// PerMinute is the per-minute request budget; 0 means unlimited.
	PerMinute int
	// NoInviteAccess makes the invite list answer 403, as for a token without the owners'
	// right to see invitations ("only team owners can call this endpoint").
	NoInviteAccess bool
	// LegacyRetryHeader makes 429 answers carry the older X-Retry-After unix timestamp instead
	// of Retry-After seconds.
	LegacyRetryHeader bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is a simulated Docker Hub organization. It is an http.Handler that works mounted
// under any path prefix (paging links keep the prefix). All methods are safe for concurrent use.
type Server struct {
	// Faults injects latency, 5xx, Docker Hub's own 429 and dropped connections.
	Faults *sim.Faults
	// Recorder logs every request answered, injected faults included.
	Recorder *sim.Recorder

	opts    Options
	budget  *sim.Budget
	handler http.Handler
	seq     atomic.Int64

	mu      sync.Mutex
	members map[string]*Member // key: lower-cased username
	order   []string           // usernames in the order added
	invites []*Invite
	jwts    map[string]issued
}

type issued struct {
	expires time.Time
	pat     bool
}

// New returns an empty organization.
func New(opts Options) *Server {
	if opts.Org == "" {
		opts.Org = "acme"
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 10 * time.Minute
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 25
	}
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = 100
	}
	opts.PageSize = min(opts.PageSize, opts.MaxPageSize)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		Faults:   &sim.Faults{},
		Recorder: &sim.Recorder{},
		opts:     opts,
		budget:   sim.NewBudget(opts.PerMinute),
		members:  make(map[string]*Member),
		jwts:     make(map[string]issued),
	}
	s.budget.SetClock(opts.Now)
	mux := sim.NewMux()
	// AuthCreateAccessToken: the only unauthenticated route.
	mux.HandleFunc("POST /v2/auth/token", s.createToken)
	// List org members: search, page, page_size, invites, type, role (parameters in the spec).
	mux.HandleFunc("GET /v2/orgs/{org}/members", s.authed(s.listMembers))
	// Remove member from org: "Removes the member from the org, ie. all groups in the org,
	// unless they're the last owner" → 204.
	mux.HandleFunc("DELETE /v2/orgs/{org}/members/{username}", s.authed(s.removeMember))
	// List org invites: `{"data": [invite]}`, pending invites only, no paging.
	mux.HandleFunc("GET /v2/orgs/{org}/invites", s.authed(s.listInvites))
	// Cancel an invite → 204.
	mux.HandleFunc("DELETE /v2/invites/{id}", s.authed(s.cancelInvite))
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.charge(w) {
			return
		}
		mux.ServeHTTP(w, r)
	}), s.throttled))
	return s
}

// Org returns the organization's name.
func (s *Server) Org() string { return s.opts.Org }

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) now() time.Time { return s.opts.Now() }

// charge spends one request of the budget and sets the rate-limit headers every answer carries
// (the spec's rate-limiting tag: X-RateLimit-Limit per minute, -Remaining, -Reset unix time).
func (s *Server) charge(w http.ResponseWriter) bool {
	limit, remaining, reset, ok := s.budget.Take()
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	if !ok {
		s.tooMany(w, reset)
	}
	return ok
}

// throttled is the 429 written for an injected throttle: a wait of about a second.
func (s *Server) throttled(w http.ResponseWriter, _ *http.Request) {
	reset := s.now().Add(time.Second)
	w.Header().Set("X-RateLimit-Remaining", "0")
	s.tooMany(w, reset)
}

// tooMany answers 429 with Retry-After in seconds (current docs) or X-Retry-After as a unix
// timestamp (the older published spec), as configured.
func (s *Server) tooMany(w http.ResponseWriter, until time.Time) {
	if s.opts.LegacyRetryHeader {
		// A unix timestamp has whole seconds; round up so the wait is never too short.
		w.Header().Set("X-Retry-After", strconv.FormatInt(until.Add(time.Second-1).Unix(), 10))
	} else {
		secs := int(until.Sub(s.now()).Round(time.Second) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	writeError(w, http.StatusTooManyRequests, "too many requests", "rate limit exceeded")
}

// errorBody is the spec's `error` schema, as apis.md §9.1 records it on the wire.
type errorBody struct {
	ErrInfo any    `json:"errinfo"`
	Detail  string `json:"detail,omitempty"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, message, detail string) {
	sim.WriteJSON(w, status, errorBody{ErrInfo: nil, Detail: detail, Message: message})
}

// tokenRequest is AuthCreateAccessToken's body.
type tokenRequest struct {
	Identifier string `json:"identifier"`
	Secret     string `json:"secret"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Identifier == "" || req.Secret == "" {
		writeError(w, http.StatusBadRequest, "bad request", "identifier and secret are required")
		return
	}
	pat := false
	switch {
	case s.opts.Token != "" && equal(req.Secret, s.opts.Token) &&
		(strings.EqualFold(req.Identifier, s.opts.Org) || (s.opts.Identifier != "" && strings.EqualFold(req.Identifier, s.opts.Identifier))):
	case s.opts.PAT != "" && equal(req.Secret, s.opts.PAT) && strings.EqualFold(req.Identifier, s.opts.PATUser):
		pat = true
	default:
		writeError(w, http.StatusUnauthorized, "unauthorized", "Incorrect authentication credentials")
		return
	}
	exp := s.now().Add(s.opts.TokenTTL)
	jwt := s.newJWT(req.Identifier, exp)
	s.mu.Lock()
	s.jwts[jwt] = issued{expires: exp, pat: pat}
	s.mu.Unlock()
	sim.WriteJSON(w, http.StatusOK, map[string]string{"access_token": jwt})
}

// newJWT makes an unsigned-looking but well-formed JWT whose payload carries exp, so clients
// can schedule a refresh as they would with Docker's tokens. The simulator checks tokens by
// lookup, not by signature.
func (s *Server) newJWT(sub string, exp time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	payload, _ := json.Marshal(map[string]any{"sub": sub, "exp": exp.Unix(), "iat": s.now().Unix(), "jti": s.seq.Add(1)})
	sig := enc.EncodeToString([]byte(fmt.Sprintf("dockerhubsim-signature-%d", s.seq.Add(1))))
	return header + "." + enc.EncodeToString(payload) + "." + sig
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// authed checks the bearer JWT and that the path's org is this one: 401 for a missing, unknown
// or expired token, 403 for a JWT from a personal access token (organization endpoints take
// OATs only), 404 for another organization.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		s.mu.Lock()
		is, ok := s.jwts[strings.TrimSpace(tok)]
		s.mu.Unlock()
		switch {
		case !strings.EqualFold(scheme, "Bearer") || !ok:
			writeError(w, http.StatusUnauthorized, "unauthorized", "authentication required")
			return
		case !s.now().Before(is.expires):
			writeError(w, http.StatusUnauthorized, "unauthorized", "token expired")
			return
		case is.pat:
			writeError(w, http.StatusForbidden, "permission denied", "token issued from personal access token is not allowed")
			return
		}
		if org := r.PathValue("org"); org != "" && !strings.EqualFold(org, s.opts.Org) {
			writeError(w, http.StatusNotFound, "not found", "organization not found")
			return
		}
		h(w, r)
	}
}

// Package googlesim simulates the parts of Google Workspace that offboarding uses: Google's
// OAuth token endpoint for service accounts with domain-wide delegation, the Admin SDK
// Directory API (users, OAuth tokens, app-specific passwords, backup verification codes,
// 2-Step Verification, groups and members) and the Admin SDK Data Transfer API.
//
// It is written from Google's documentation as summarised in the project's apis.md §6 and §11
// (Directory API reference, the Directory API limits page, the Data Transfer API reference and
// guide), never from the offboard connector, so a shared misunderstanding cannot hide in both.
//
// What it reproduces: the JWT-bearer grant (RFC 7523) with an RS256 assertion checked against
// the service account's public key, impersonation of a domain user named in `sub`, scopes
// limited to those granted by domain-wide delegation; access tokens checked on every call
// (401 with Google's error body otherwise) and their scopes checked per endpoint (403
// insufficientPermissions); a non-admin subject refused with 403; Google's error envelope
// {"error":{"code","message","errors":[{"reason","domain","message"}],"status"}} on every
// error; pageToken/nextPageToken paging; the usual throttle, 403 userRateLimitExceeded (or 429
// rateLimitExceeded when Options.Throttle429 is set); turnOff of 2-Step Verification refused
// while a policy enforces it; and asynchronous data transfers that go new → inProgress →
// completed over a few reads (or stay inProgress while HoldTransfers is on). Anything else
// answers 501.
package googlesim

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Application IDs Google gives the Drive and Calendar data-transfer applications (apis.md §6).
const (
	DriveAppID    = "55656082996"
	CalendarAppID = "435070579839"
)

// CustomerID is the simulated account's customer ID; "my_customer" is accepted as its alias.
const CustomerID = "C01sim42"

// Options configures a simulated Google Workspace account. Zero fields take the defaults given.
type Options struct {
	// ServiceAccount is the service account allowed to sign JWT assertions: its client_email
	// must be the assertion's iss and its public key must verify the RS256 signature. Nil
	// means no assertion is ever accepted.
	ServiceAccount *ServiceAccount
	// DelegatedScopes are the OAuth scopes the account's admin granted the service account's
	// client ID through domain-wide delegation. An assertion asking for any other scope is
	// refused (unauthorized_client). Nil means every scope the simulator serves.
	DelegatedScopes []string
	// PageSize caps list pages below Google's own maximum (200 for groups, 500 for
	// transfers), so tests can force paging. 0 means Google's limits.
	PageSize int
	// TransferReads is how many reads of a data transfer show it in each unfinished state
	// (new, then inProgress) before it completes; default 1, negative for transfers that
	// complete at once.
	TransferReads int
	// Throttle429 makes injected throttling answer 429 rateLimitExceeded instead of the usual
	// 403 userRateLimitExceeded; Google documents both.
	Throttle429 bool
	// Now is the clock for token expiry and timestamps (default time.Now).
	Now func() time.Time
}

// Every scope the simulator serves, as granted through domain-wide delegation.
const (
	ScopeUser           = "https://www.googleapis.com/auth/admin.directory.user"
	ScopeUserReadonly   = "https://www.googleapis.com/auth/admin.directory.user.readonly"
	ScopeUserSecurity   = "https://www.googleapis.com/auth/admin.directory.user.security"
	ScopeGroup          = "https://www.googleapis.com/auth/admin.directory.group"
	ScopeGroupReadonly  = "https://www.googleapis.com/auth/admin.directory.group.readonly"
	ScopeGroupMember    = "https://www.googleapis.com/auth/admin.directory.group.member"
	ScopeTransfer       = "https://www.googleapis.com/auth/admin.datatransfer"
	ScopeTransferReader = "https://www.googleapis.com/auth/admin.datatransfer.readonly"
)

var allScopes = []string{ScopeUser, ScopeUserReadonly, ScopeUserSecurity, ScopeGroup, ScopeGroupReadonly, ScopeGroupMember, ScopeTransfer, ScopeTransferReader}

// Server is a simulated Google Workspace account. It is an http.Handler; mount it under any
// path prefix with http.StripPrefix (the token URL it reports keeps the prefix). All methods
// are safe for concurrent use.
type Server struct {
	// Faults injects latency, 5xx, Google's throttle and dropped connections.
	Faults *sim.Faults
	// Recorder logs every request answered, injected faults included.
	Recorder *sim.Recorder

	opts    Options
	handler http.Handler
	seq     atomic.Int64

	mu        sync.Mutex
	users     map[string]*user // by ID
	userOrder []string
	groups    map[string]*group // by ID
	groupOrd  []string
	transfers []*transfer
	holding   bool             // transfers stop at inProgress (HoldTransfers)
	tokens    map[string]grant // access token → what it grants
}

// New returns an empty simulated account; seed it with AddUser, AddGroup and the like.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TransferReads == 0 {
		opts.TransferReads = 1
	}
	if opts.DelegatedScopes == nil {
		opts.DelegatedScopes = allScopes
	}
	s := &Server{
		Faults:   &sim.Faults{},
		Recorder: &sim.Recorder{},
		opts:     opts,
		users:    map[string]*user{},
		groups:   map[string]*group{},
		tokens:   map[string]grant{},
	}
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(s.routes(), s.throttled))
	return s
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

const (
	dirPrefix      = "/admin/directory/v1"
	transferPrefix = "/admin/datatransfer/v1"
)

func (s *Server) routes() *sim.Mux {
	m := sim.NewMux()
	// OAuth 2.0 for service accounts: https://developers.google.com/identity/protocols/oauth2/service-account
	m.HandleFunc("POST /token", s.token)
	// Directory API users: users.get, users.patch, users.update, users.signOut.
	m.HandleFunc("GET "+dirPrefix+"/users/{userKey}", s.api(s.getUser, ScopeUser, ScopeUserReadonly))
	m.HandleFunc("PATCH "+dirPrefix+"/users/{userKey}", s.api(s.patchUser, ScopeUser))
	m.HandleFunc("PUT "+dirPrefix+"/users/{userKey}", s.api(s.patchUser, ScopeUser))
	m.HandleFunc("POST "+dirPrefix+"/users/{userKey}/signOut", s.api(s.signOut, ScopeUserSecurity))
	// Directory API tokens: tokens.list, tokens.delete.
	m.HandleFunc("GET "+dirPrefix+"/users/{userKey}/tokens", s.api(s.listTokens, ScopeUserSecurity))
	m.HandleFunc("DELETE "+dirPrefix+"/users/{userKey}/tokens/{clientId}", s.api(s.deleteToken, ScopeUserSecurity))
	// Directory API asps: asps.list, asps.delete.
	m.HandleFunc("GET "+dirPrefix+"/users/{userKey}/asps", s.api(s.listASPs, ScopeUserSecurity))
	m.HandleFunc("DELETE "+dirPrefix+"/users/{userKey}/asps/{codeId}", s.api(s.deleteASP, ScopeUserSecurity))
	// Directory API verificationCodes: verificationCodes.list, verificationCodes.invalidate.
	m.HandleFunc("GET "+dirPrefix+"/users/{userKey}/verificationCodes", s.api(s.listCodes, ScopeUserSecurity))
	m.HandleFunc("POST "+dirPrefix+"/users/{userKey}/verificationCodes/invalidate", s.api(s.invalidateCodes, ScopeUserSecurity))
	// Directory API twoStepVerification.turnOff.
	m.HandleFunc("POST "+dirPrefix+"/users/{userKey}/twoStepVerification/turnOff", s.api(s.turnOff2SV, ScopeUserSecurity))
	// Directory API groups.list (by userKey) and members.delete.
	m.HandleFunc("GET "+dirPrefix+"/groups", s.api(s.listGroups, ScopeGroup, ScopeGroupReadonly))
	m.HandleFunc("DELETE "+dirPrefix+"/groups/{groupKey}/members/{memberKey}", s.api(s.deleteMember, ScopeGroup, ScopeGroupMember))
	// Data Transfer API: applications.list, transfers.insert, transfers.list, transfers.get.
	m.HandleFunc("GET "+transferPrefix+"/applications", s.api(s.listApplications, ScopeTransfer, ScopeTransferReader))
	m.HandleFunc("POST "+transferPrefix+"/transfers", s.api(s.insertTransfer, ScopeTransfer))
	m.HandleFunc("GET "+transferPrefix+"/transfers", s.api(s.listTransfers, ScopeTransfer, ScopeTransferReader))
	m.HandleFunc("GET "+transferPrefix+"/transfers/{id}", s.api(s.getTransfer, ScopeTransfer, ScopeTransferReader))
	return m
}

// googleStatus is the canonical status string Google puts in its error envelope.
var googleStatus = map[int]string{
	400: "INVALID_ARGUMENT",
	401: "UNAUTHENTICATED",
	403: "PERMISSION_DENIED",
	404: "NOT_FOUND",
	409: "ALREADY_EXISTS",
	412: "FAILED_PRECONDITION",
	429: "RESOURCE_EXHAUSTED",
	500: "INTERNAL",
	503: "UNAVAILABLE",
}

// writeError answers Google's JSON error envelope.
func writeError(w http.ResponseWriter, code int, domain, reason, message string) {
	sim.WriteJSON(w, code, map[string]any{"error": map[string]any{
		"code":    code,
		"message": message,
		"errors":  []map[string]string{{"message": message, "domain": domain, "reason": reason}},
		"status":  googleStatus[code],
	}})
}

func notFound(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotFound, "global", "notFound", "Resource Not Found: "+what)
}

func badRequest(w http.ResponseWriter, message string) {
	writeError(w, http.StatusBadRequest, "global", "invalid", message)
}

// throttled is Google's answer to a caller over its quota (Directory API limits page): 403
// userRateLimitExceeded in the usageLimits domain, or 429 rateLimitExceeded.
func (s *Server) throttled(w http.ResponseWriter, _ *http.Request) {
	if s.opts.Throttle429 {
		writeError(w, http.StatusTooManyRequests, "usageLimits", "rateLimitExceeded", "Rate Limit Exceeded")
		return
	}
	writeError(w, http.StatusForbidden, "usageLimits", "userRateLimitExceeded", "User Rate Limit Exceeded")
}

// api wraps an endpoint with the access-token check: a missing, unknown or expired token is
// 401 authError; a token whose scopes include none of those the endpoint accepts is 403
// insufficientPermissions; a token impersonating a user who is not an administrator is 403
// forbidden. The handler gets the caller's grant.
func (s *Server) api(h func(http.ResponseWriter, *http.Request), scopes ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		g, known := s.tokens[strings.TrimSpace(raw)]
		admin := false
		if known {
			if u := s.users[g.userID]; u != nil {
				admin = u.Admin && !u.Suspended
			}
		}
		s.mu.Unlock()
		if !ok || !known || !s.opts.Now().Before(g.expiry) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "global", "authError",
				"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
			return
		}
		if !g.hasAny(scopes) {
			writeError(w, http.StatusForbidden, "global", "insufficientPermissions", "Request had insufficient authentication scopes.")
			return
		}
		if !admin {
			writeError(w, http.StatusForbidden, "global", "forbidden", "Not Authorized to access this resource/api")
			return
		}
		h(w, r)
	}
}

// pageSize reads maxResults, bounded by Google's maximum and Options.PageSize.
func (s *Server) pageSize(r *http.Request, googleMax int) (int, bool) {
	n := googleMax
	if v := r.URL.Query().Get("maxResults"); v != "" {
		var err error
		if n, err = atoiStrict(v); err != nil || n < 1 || n > googleMax {
			return 0, false
		}
	}
	if s.opts.PageSize > 0 && s.opts.PageSize < n {
		n = s.opts.PageSize
	}
	return n, true
}

func atoiStrict(v string) (int, error) {
	n := 0
	if v == "" || len(v) > 9 {
		return 0, errBadNumber
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, errBadNumber
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// writePage adds one page of items under field (omitted when empty) and nextPageToken (an
// opaque token; a forged one starts again at the beginning) to out, and writes it.
func writePage(w http.ResponseWriter, out map[string]any, field string, items []map[string]any, token string, size int) {
	page, next := sim.Page(items, strings.TrimPrefix(token, "pt"), size)
	if len(page) > 0 {
		out[field] = page
	}
	if next != "" {
		out["nextPageToken"] = "pt" + next
	}
	sim.WriteJSON(w, http.StatusOK, out)
}

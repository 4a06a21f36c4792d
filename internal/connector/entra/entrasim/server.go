// Package entrasim simulates the parts of Microsoft Entra ID (through Microsoft Graph) and its
// token endpoint that offboarding uses, for tests, `offboard sim` and the demo.
//
// It is written from Microsoft's Graph documentation and the CSDL metadata as summarised in the
// project's apis.md §7 and §11, never from the offboard connector, so a shared
// misunderstanding cannot hide in both. It reproduces what makes Entra hard to offboard from:
// group memberships that Graph refuses to change (dynamic, on-premises synced, mail-enabled
// security and distribution groups), authentication methods whose default cannot be deleted
// while others remain and a password method that cannot be deleted at all, licences inherited
// from groups that cannot be removed from the user directly, @odata.nextLink paging, 429 with
// Retry-After, Graph's error body {"error":{"code","message","innerError"}} on every error, and
// an OAuth 2.0 client-credentials token endpoint answering AADSTS errors. Anything else
// answers 501.
//
// The simulator serves three trees, so one mount point holds them all:
//
//	/{tenant}/oauth2/v2.0/token   the token endpoint (login.microsoftonline.com in Azure)
//	/v1.0/...                     Graph v1.0
//	/beta/...                     the one beta read used: a user's sign-in preferences
//
// Mounted with http.StripPrefix under /graph, the connector's BaseURL is <server>/graph/v1.0
// and its TokenURL <server>/graph/<tenant>/oauth2/v2.0/token.
package entrasim

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Scope is the only scope the token endpoint grants: Graph's static application permissions.
const Scope = "https://graph.microsoft.com/.default"

// Options configures a simulated tenant. Zero fields take the defaults given.
type Options struct {
	// TenantID is the directory ID the token endpoint answers for.
	TenantID string
	// ClientID and ClientSecret are the one app registration that may get tokens. An empty
	// secret authorises nothing.
	ClientID     string
	ClientSecret string
	// PageSize is how many objects a list returns when the request gives no $top (default
	// 100, Graph's default for memberOf). A $top up to 999 is honoured.
	PageSize int
	// MaxPage is the most objects one page holds whatever $top asks (default 999, Graph's
	// largest). Graph pages server-side and may return fewer than $top with a nextLink, so
	// tests lower it to exercise paging.
	MaxPage int
	// TokenLifetime is how long issued access tokens are valid (default one hour).
	TokenLifetime time.Duration
	// RetryAfter is the Retry-After, in seconds, of an injected 429 (default 1).
	RetryAfter int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is a simulated Entra tenant. It is an http.Handler; mount it under any path prefix
// with http.StripPrefix (paging links keep the prefix). All methods are safe for concurrent
// use.
type Server struct {
	// Faults injects latency, 5xx, Graph's own 429 and dropped connections.
	Faults *sim.Faults
	// Recorder logs every request answered, injected faults included.
	Recorder *sim.Recorder

	opts    Options
	handler http.Handler
	reqSeq  atomic.Int64

	mu        sync.Mutex
	tokens    map[string]time.Time // access token → expiry
	denied    map[string]bool      // permissions the app lacks
	users     map[string]*user     // by object ID
	userOrder []string
	groups    map[string]*group
	// members is group ID → user IDs, in the order they joined.
	members map[string][]string
}

// New returns an empty tenant.
func New(opts Options) *Server {
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.MaxPage <= 0 || opts.MaxPage > 999 {
		opts.MaxPage = 999
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		Faults:   &sim.Faults{},
		Recorder: &sim.Recorder{},
		opts:     opts,
		tokens:   make(map[string]time.Time),
		denied:   make(map[string]bool),
		users:    make(map[string]*user),
		groups:   make(map[string]*group),
		members:  make(map[string][]string),
	}
	mux := sim.NewMux()
	s.routes(mux)
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(mux, s.throttled))
	return s
}

// ServeHTTP answers one request: recorded, subject to injected faults, then routed.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) now() time.Time { return s.opts.Now() }

// Deny makes the app lack a Graph application permission (such as
// "GroupMember.ReadWrite.All"): calls needing it answer 403 Authorization_RequestDenied.
func (s *Server) Deny(permission string) {
	s.mu.Lock()
	s.denied[permission] = true
	s.mu.Unlock()
}

// throttled is Graph's 429 (learn.microsoft.com/graph/throttling): a Retry-After in seconds
// and the usual error body. The code varies in the field; TooManyRequests is common.
func (s *Server) throttled(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Retry-After", fmt.Sprint(s.opts.RetryAfter))
	s.fail(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
}

// fail writes Graph's error body (apis.md §0, §7): code, message and innerError with the
// request IDs and date.
func (s *Server) fail(w http.ResponseWriter, status int, code, message string) {
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", s.reqSeq.Add(1))
	w.Header().Set("request-id", id)
	sim.WriteJSON(w, status, map[string]any{"error": map[string]any{
		"code":    code,
		"message": message,
		"innerError": map[string]string{
			"date":              s.now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        id,
			"client-request-id": id,
		},
	}})
}

// notFound is Graph's 404 for a missing object or reference.
func (s *Server) notFound(w http.ResponseWriter, id string) {
	s.fail(w, http.StatusNotFound, "Request_ResourceNotFound",
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
}

func (s *Server) badRequest(w http.ResponseWriter, message string) {
	s.fail(w, http.StatusBadRequest, "Request_BadRequest", message)
}

// authorize checks the bearer token (401 InvalidAuthenticationToken) and the permission the
// endpoint needs (403 Authorization_RequestDenied). It writes the refusal and returns false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, permission string) bool {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		s.fail(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return false
	}
	s.mu.Lock()
	exp, ok := s.tokens[token]
	denied := s.denied[permission]
	s.mu.Unlock()
	switch {
	case !ok:
		s.fail(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return false
	case !s.now().Before(exp):
		s.fail(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		return false
	case denied:
		s.fail(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return false
	}
	return true
}

// page answers one page of a collection with @odata.context and, while more remain, an
// absolute @odata.nextLink carrying a $skiptoken. The link is built from the request line,
// which http.StripPrefix leaves untouched, so it keeps any mount prefix.
func (s *Server) page(w http.ResponseWriter, r *http.Request, context string, items []map[string]any) {
	q := r.URL.Query()
	limit := s.opts.PageSize
	if v := q.Get("$top"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1 || n > 999 {
			s.badRequest(w, "Invalid page size specified: '"+v+"'. Must be between 1 and 999 inclusive.")
			return
		}
		limit = n
	}
	limit = min(limit, s.opts.MaxPage)
	// The skip token is the last ID served and objects are listed in ID order, so an object
	// removed between two page reads shifts nothing: none is skipped or served twice, as with
	// Graph's opaque cursors.
	items = slices.Clone(items)
	id := func(m map[string]any) string { v, _ := m["id"].(string); return v }
	slices.SortStableFunc(items, func(a, b map[string]any) int { return strings.Compare(id(a), id(b)) })
	if after := q.Get("$skiptoken"); after != "" {
		items = slices.DeleteFunc(items, func(m map[string]any) bool { return id(m) <= after })
	}
	pg, rest := sim.Page(items, "", limit)
	body := map[string]any{"@odata.context": context, "value": nonNil(pg)}
	if rest != "" {
		nq := maps.Clone(q)
		nq.Set("$skiptoken", id(pg[len(pg)-1]))
		body["@odata.nextLink"] = sim.PageURL(r, nq)
	}
	sim.WriteJSON(w, http.StatusOK, body)
}

func nonNil(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}

// selectFields keeps only the properties $select names (plus id and @odata.type, which
// Graph always returns). No $select returns the object whole.
func selectFields(r *http.Request, obj map[string]any) map[string]any {
	sel := r.URL.Query().Get("$select")
	if sel == "" {
		return obj
	}
	out := map[string]any{}
	for _, k := range []string{"id", "@odata.type"} {
		if v, ok := obj[k]; ok {
			out[k] = v
		}
	}
	for _, f := range strings.Split(sel, ",") {
		if v, ok := obj[strings.TrimSpace(f)]; ok {
			out[strings.TrimSpace(f)] = v
		}
	}
	return out
}

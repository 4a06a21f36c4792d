// Package slacksim simulates the parts of Slack that offboarding uses, for tests, `offboard
// sim` and the demo: the Web API methods auth.test, users.lookupByEmail, users.info,
// admin.users.session.list and admin.users.session.reset, and the SCIM v2 Users endpoint.
//
// It is written from Slack's documentation and Web API description (slack_web_openapi_v2.json)
// as summarised in the project's apis.md §5 and §11, never from the offboard connector. It
// reproduces what makes Slack different: Web API errors are HTTP 200 with
// {"ok":false,"error":code} (not_authed, invalid_auth, missing_scope with needed/provided,
// users_not_found, feature_not_enabled for admin.* off Enterprise Grid); methods take GET or
// POST, form-encoded or JSON, with the token in the Authorization header or the form; every
// Web API reply lists the token's scopes in X-OAuth-Scopes; each method has its tier's
// per-minute budget and answers 429 with Retry-After and "ratelimited" over it; SCIM DELETE
// deactivates rather than deletes; SCIM writes share one org-wide budget; and a deactivated
// user's sessions end. The SCIM side is a scimsim.Server. Anything else answers 501.
//
// Mount it under any prefix with http.StripPrefix: the Web API is under /api/ and SCIM under
// /scim/v2/.
package slacksim

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offboard-dev/offboard/internal/connector/scim/scimsim"
	"github.com/offboard-dev/offboard/internal/sim"
)

// Scopes a fully permitted offboarding token holds.
var Scopes = []string{"admin", "admin.users:read", "admin.users:write", "users:read", "users:read.email"}

// Options configures a simulated Slack organisation.
type Options struct {
	// Token is the user token the Web API accepts (Authorization: Bearer, or the token form
	// field). An empty Token authorises nothing.
	Token string
	// SCIMToken is the token the SCIM API accepts; empty means Token.
	SCIMToken string
	// Scopes are the Web API token's scopes (default Scopes). A method whose scope is missing
	// answers missing_scope.
	Scopes []string
	// EnterpriseGrid makes the org an Enterprise Grid org: admin.* methods work and users
	// carry enterprise_user. Off Grid admin.* answer feature_not_enabled.
	EnterpriseGrid bool
	// NoSCIM models a plan without SCIM (below Business+): every SCIM request answers 403.
	NoSCIM bool
	// SCIMWritesPerMinute is the org-wide SCIM write budget (default 600, apis.md §5).
	SCIMWritesPerMinute int
	// Unlimited turns off the tier and SCIM budgets (injected throttling still works).
	Unlimited bool
	// Now is the clock for the budgets (default time.Now).
	Now func() time.Time
}

// EnterpriseID is the simulated Grid org's ID.
const EnterpriseID = "E0SIMORG01"

// Server is a simulated Slack organisation. All methods are safe for concurrent use.
type Server struct {
	// Faults injects latency, 5xx, Slack's 429 (Retry-After, "ratelimited") and dropped
	// connections.
	Faults *sim.Faults
	// Recorder logs every request answered, injected faults included.
	Recorder *sim.Recorder

	opts    Options
	scim    *scimsim.Server
	handler http.Handler
	budgets map[string]*sim.Budget
	scimW   *sim.Budget
	seq     atomic.Int64

	mu       sync.Mutex
	users    map[string]*user
	order    []string
	sessions map[string][]Session // user ID → sessions
}

// New returns an organisation holding only the admin the token belongs to.
func New(opts Options) *Server {
	if opts.Scopes == nil {
		opts.Scopes = Scopes
	}
	if opts.SCIMToken == "" {
		opts.SCIMToken = opts.Token
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SCIMWritesPerMinute <= 0 {
		opts.SCIMWritesPerMinute = 600
	}
	s := &Server{
		Faults:   &sim.Faults{},
		Recorder: &sim.Recorder{},
		opts:     opts,
		users:    map[string]*user{},
		sessions: map[string][]Session{},
		budgets:  map[string]*sim.Budget{},
	}
	// DELETE deactivates (apis.md §5); deactivation ends the user's sessions.
	s.scim = scimsim.New(scimsim.Options{
		Name: "slack", Token: opts.SCIMToken, DeleteDeactivates: true,
		OnActiveChange: s.activeChanged,
	})
	// SCIM writes share one org-wide budget, whichever app sends them (apis.md §5).
	s.scimW = s.budget(opts.SCIMWritesPerMinute)
	mux := sim.NewMux()
	for _, m := range s.methods() {
		s.budgets[m.name] = s.budget(m.tier)
		mux.HandleFunc("/api/"+m.name, s.webMethod(m))
	}
	scimHandler := http.StripPrefix("/scim/v2", s.scimGate(s.scim))
	for _, p := range []string{"GET /scim/v2/Users", "GET /scim/v2/Users/{id}", "PATCH /scim/v2/Users/{id}", "DELETE /scim/v2/Users/{id}"} {
		mux.Handle(p, scimHandler)
	}
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(mux, s.throttled))
	_ = s.AddUser(User{ID: AdminID, TeamID: "T0SIMHOME1", Email: "offboard-admin@example.com", Name: "offboard-admin", IsAdmin: true, IsOwner: true})
	return s
}

// AdminID is the user the token belongs to (auth.test's user_id).
const AdminID = "U0SIMADMIN"

func (s *Server) budget(perMinute int) *sim.Budget {
	if s.opts.Unlimited {
		perMinute = 0
	}
	b := sim.NewBudget(perMinute)
	b.SetClock(s.opts.Now)
	return b
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// throttled is Slack's 429: Retry-After in seconds and, for the Web API, ok:false ratelimited
// (apis.md §5). Injected throttles ask for one second.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request) {
	s.tooMany(w, isSCIM(r), 1)
}

// tooMany writes the 429 of the Web API or, for scim, of the SCIM API.
func (s *Server) tooMany(w http.ResponseWriter, scim bool, seconds int) {
	w.Header().Set("Retry-After", strconv.Itoa(max(seconds, 1)))
	if scim {
		scimsim.WriteError(w, http.StatusTooManyRequests, "", "Too many requests")
		return
	}
	sim.WriteJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
}

func isSCIM(r *http.Request) bool {
	return len(r.URL.Path) >= 9 && r.URL.Path[:9] == "/scim/v2/"
}

// scimGate applies the plan (no SCIM below Business+) and the org-wide write budget in front
// of the SCIM endpoint. The SCIM token is checked by the scimsim.Server itself.
func (s *Server) scimGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.NoSCIM {
			// Not documented in detail by Slack [R]: modelled as the RFC's 403.
			scimsim.WriteError(w, http.StatusForbidden, "", "The SCIM API is only available on Business+ and Enterprise Grid plans.")
			return
		}
		if r.Method != http.MethodGet {
			if _, _, reset, ok := s.scimW.Take(); !ok {
				s.tooMany(w, true, int(reset.Sub(s.opts.Now()).Seconds()+1))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// activeChanged keeps the Web API's view in step with SCIM: a deactivated user is signed out
// of every session.
func (s *Server) activeChanged(id string, active, _ bool) {
	if active {
		return
	}
	s.mu.Lock()
	delete(s.sessions, id)
	s.mu.Unlock()
}

func (s *Server) nextID(prefix string) string {
	return fmt.Sprintf("%s%08d", prefix, s.seq.Add(1))
}

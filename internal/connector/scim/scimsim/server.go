// Package scimsim simulates a SCIM 2.0 service provider (RFC 7643 and RFC 7644): the kind of
// endpoint Zoom, Notion, Figma and many other apps expose for IdP provisioning. It is used by
// tests, `offboard sim` and the demo, and several named instances can run at once, each its
// own Server.
//
// It is written from the RFCs as summarised in the project's apis.md §9.2, never from the
// offboard connector. The protocol work (filter parsing and evaluation, PatchOp validation,
// ListResponse and error bodies) is done by github.com/elimity-com/scim; the simulator adds
// what a real provider has around it: bearer-token authentication answering SCIM error bodies,
// filter string literals unescaped as the RFC's JSON strings, DELETE that either removes the
// user or (as Slack and GitHub do) only deactivates it, injected faults and 429 with
// Retry-After, and 501 for any endpoint offboarding does not use.
//
// One deviation of the library is kept deliberately: its ListResponse reports itemsPerPage as
// the count asked for rather than the resources returned, as several real providers also do,
// so clients must advance startIndex by the resources they actually received.
package scimsim

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	elimity "github.com/elimity-com/scim"
	"github.com/elimity-com/scim/schema"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Options configures one simulated SCIM application.
type Options struct {
	// Name is the application's name, used in Holdings, e.g. "zoom".
	Name string
	// Token is the bearer token every request must present. An empty Token authorises nothing.
	Token string
	// MaxResults is the most users one page holds, whatever count asks (default 100; the
	// RFC's ServiceProviderConfig filter.maxResults).
	MaxResults int
	// DeleteMode says the application is offboarded by deletion: Holdings then counts an
	// inactive account that still exists as held, since only deletion ends it.
	DeleteMode bool
	// DeleteDeactivates makes DELETE /Users/{id} set active to false and keep the user, as
	// Slack documents ("Sets a Slack user to deactivated"), instead of removing it.
	DeleteDeactivates bool
	// OnActiveChange, if set, is called (outside the simulator's lock) whenever a user's
	// active attribute changes or the user is deleted, so a simulator embedding this one can
	// keep its own state in step (Slack ends a deactivated user's sessions).
	OnActiveChange func(id string, active, exists bool)
}

// Server is one simulated SCIM application. It is an http.Handler serving the SCIM root (the
// URL /Users is relative to); mount it under any prefix with http.StripPrefix. All methods are
// safe for concurrent use.
type Server struct {
	// Faults injects latency, 5xx, 429 with Retry-After and dropped connections.
	Faults *sim.Faults
	// Recorder logs every request answered, injected faults included.
	Recorder *sim.Recorder

	opts    Options
	handler http.Handler

	mu     sync.Mutex
	users  map[string]*user
	order  []string
	groups map[string]*group
	seq    int
}

type user struct {
	id, userName, externalID, email, givenName, familyName string
	active                                                 bool
}

type group struct {
	id, displayName string
	members         []string
}

// User is a seeded SCIM user. Inactive seeds a deactivated account.
type User struct {
	// ID is the provider's user ID; empty means one is assigned.
	ID         string
	UserName   string
	ExternalID string
	// Email is the user's work email (emails[type eq "work"], primary).
	Email      string
	GivenName  string
	FamilyName string
	Inactive   bool
}

// Group is a seeded SCIM group.
type Group struct {
	ID          string
	DisplayName string
}

// New returns an application with no users.
func New(opts Options) *Server {
	if opts.MaxResults <= 0 {
		opts.MaxResults = 100
	}
	if opts.Name == "" {
		opts.Name = "scim"
	}
	s := &Server{
		Faults:   &sim.Faults{},
		Recorder: &sim.Recorder{},
		opts:     opts,
		users:    map[string]*user{},
		groups:   map[string]*group{},
	}
	lib, err := elimity.NewServer(&elimity.ServerArgs{
		ServiceProviderConfig: &elimity.ServiceProviderConfig{MaxResults: opts.MaxResults, SupportFiltering: true, SupportPatch: true},
		ResourceTypes: []elimity.ResourceType{{
			Name:             "User",
			Endpoint:         "/Users",
			Schema:           userSchema(),
			SchemaExtensions: []elimity.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}},
			Handler:          &users{s: s},
		}},
	})
	if err != nil {
		// The arguments are constants; failing here is a programming error.
		panic(fmt.Sprintf("scimsim: %v", err))
	}
	mux := sim.NewMux()
	// RFC 7644 §3.4.2 (query), §3.4.1 (read), §3.5.2 (PATCH) and §3.6 (DELETE): the four
	// operations offboarding uses. Everything else answers 501.
	for _, pattern := range []string{"GET /Users", "GET /Users/{id}", "PATCH /Users/{id}", "DELETE /Users/{id}"} {
		mux.Handle(pattern, s.authenticated(lib))
	}
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(mux, Throttled))
	return s
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Name returns the application's name.
func (s *Server) Name() string { return s.opts.Name }

// authenticated checks the bearer token (RFC 7644 §2: OAuth bearer tokens; 401 with a SCIM
// error body and a WWW-Authenticate challenge when it is missing or wrong).
func (s *Server) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || s.opts.Token == "" ||
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.opts.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="SCIM"`)
			WriteError(w, http.StatusUnauthorized, "", "Authorization failure. The authorization header is invalid or missing.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Throttled is the simulator's 429: a SCIM error body and Retry-After of one second.
func Throttled(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Retry-After", "1")
	WriteError(w, http.StatusTooManyRequests, "", "Too many requests; retry after the time given in Retry-After.")
}

// WriteError writes RFC 7644 §3.12's error body; status is sent as a JSON string.
func WriteError(w http.ResponseWriter, status int, scimType, detail string) {
	body := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"status":  fmt.Sprint(status),
		"detail":  detail,
	}
	if scimType != "" {
		body["scimType"] = scimType
	}
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = jsonEncode(w, body)
}

// AddUser seeds a user. It fails on a missing userName or a duplicate ID or userName (userName
// is unique per provider, RFC 7643 §4.1.1).
func (s *Server) AddUser(u User) error {
	if strings.TrimSpace(u.UserName) == "" {
		return fmt.Errorf("scimsim %s: user has no userName", s.opts.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		s.seq++
		u.ID = fmt.Sprintf("%s-u%04d", s.opts.Name, s.seq)
	}
	if _, dup := s.users[u.ID]; dup {
		return fmt.Errorf("scimsim %s: duplicate user ID %q", s.opts.Name, u.ID)
	}
	for _, other := range s.users {
		if strings.EqualFold(other.userName, u.UserName) {
			return fmt.Errorf("scimsim %s: duplicate userName %q", s.opts.Name, u.UserName)
		}
	}
	s.users[u.ID] = &user{id: u.ID, userName: u.UserName, externalID: u.ExternalID, email: u.Email,
		givenName: u.GivenName, familyName: u.FamilyName, active: !u.Inactive}
	s.order = append(s.order, u.ID)
	return nil
}

// AddGroup seeds a group.
func (s *Server) AddGroup(g Group) error {
	if g.ID == "" || g.DisplayName == "" {
		return fmt.Errorf("scimsim %s: group needs an ID and a displayName", s.opts.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.groups[g.ID]; dup {
		return fmt.Errorf("scimsim %s: duplicate group ID %q", s.opts.Name, g.ID)
	}
	s.groups[g.ID] = &group{id: g.ID, displayName: g.DisplayName}
	return nil
}

// AddMember puts a user in a group; the user's read-only "groups" attribute shows it.
func (s *Server) AddMember(groupID, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[groupID]
	if !ok {
		return fmt.Errorf("scimsim %s: no group %q", s.opts.Name, groupID)
	}
	if _, ok := s.users[userID]; !ok {
		return fmt.Errorf("scimsim %s: no user %q", s.opts.Name, userID)
	}
	for _, m := range g.members {
		if m == userID {
			return nil
		}
	}
	g.members = append(g.members, userID)
	return nil
}

// Active reports whether the user with the ID exists and is active.
func (s *Server) Active(id string) (active, exists bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return false, false
	}
	return u.active, true
}

// Holdings lists what the identity (a userName, email or user ID) still holds in the
// application: its account while active (or, in DeleteMode, while it exists at all) and the
// group memberships that come with it. It is empty once the person is offboarded.
func (s *Server) Holdings(identity string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range s.order {
		u, ok := s.users[id]
		if !ok || !(strings.EqualFold(u.userName, identity) || strings.EqualFold(u.email, identity) || u.id == identity) {
			continue
		}
		switch {
		case u.active:
			out = append(out, fmt.Sprintf("%s: active account %s (%s)", s.opts.Name, u.userName, u.id))
		case s.opts.DeleteMode:
			out = append(out, fmt.Sprintf("%s: account %s (%s) still exists (inactive; this app is offboarded by deletion)", s.opts.Name, u.userName, u.id))
		default:
			continue
		}
		for _, g := range s.groupsOfLocked(u.id) {
			out = append(out, fmt.Sprintf("%s: %s is a member of group %s (%s)", s.opts.Name, u.userName, g.displayName, g.id))
		}
	}
	return out
}

func (s *Server) groupsOfLocked(userID string) []*group {
	var out []*group
	for _, g := range s.groups {
		for _, m := range g.members {
			if m == userID {
				out = append(out, g)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// userSchema is the RFC 7643 User schema with the common attributes (id, externalId) that
// every resource has, so filters may use them (RFC 7644 §3.4.2.2 filters on any attribute,
// and IdPs commonly match on externalId).
func userSchema() schema.Schema {
	s := schema.CoreUserSchema()
	s.Attributes = append(s.Attributes, schema.CommonAttributes()...)
	return s
}

package connectortest_test

import (
	"crypto/subtle"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/offboard-dev/offboard/internal/sim"
)

// acmeSim is a tiny directory service built with the sim toolkit, just rich enough to give the
// conformance suite something to check: users found by email, paged group memberships, one
// built-in group that cannot be removed, sessions, and a deactivation that completes only
// after a couple of reads, like Okta's transitioningToStatus.
//
//	GET    /api/users?email=E               → 200 [user]
//	GET    /api/users/{id}                  → 200 user | 404
//	GET    /api/users/{id}/groups?after=&limit= → 200 [group], Link rel="next"
//	DELETE /api/users/{id}/groups/{gid}     → 204 | 404 not_a_member | 403 builtin_group | 409 user_inactive
//	GET    /api/users/{id}/sessions         → 200 {"count": n}
//	DELETE /api/users/{id}/sessions         → 204
//	POST   /api/users/{id}/deactivate       → 202 while it completes, 200 when already done
//
// Every request needs "Authorization: Bearer <token>", else 401 {"error":"invalid_token"}.
// Throttling answers 429 {"error":"rate_limited"} with Retry-After in fractional seconds.
type acmeSim struct {
	Faults   *sim.Faults
	Recorder *sim.Recorder
	handler  http.Handler
	token    string

	mu    sync.Mutex
	users map[string]*acmeUser
}

type acmeUser struct {
	ID, Email, Status string
	// settle counts the reads left before a deactivation shows as DEACTIVATED.
	settle   int
	Groups   map[string]string
	Sessions int
}

const builtinGroup = "g-everyone"

func newAcmeSim(token string) *acmeSim {
	s := &acmeSim{Faults: &sim.Faults{}, Recorder: &sim.Recorder{}, token: token, users: map[string]*acmeUser{}}
	mux := sim.NewMux()
	mux.HandleFunc("GET /api/users", s.auth(s.findUsers))
	mux.HandleFunc("GET /api/users/{id}", s.auth(s.withUser(s.getUser)))
	mux.HandleFunc("GET /api/users/{id}/groups", s.auth(s.withUser(s.listGroups)))
	mux.HandleFunc("DELETE /api/users/{id}/groups/{gid}", s.auth(s.withUser(s.removeGroup)))
	mux.HandleFunc("GET /api/users/{id}/sessions", s.auth(s.withUser(s.getSessions)))
	mux.HandleFunc("DELETE /api/users/{id}/sessions", s.auth(s.withUser(s.clearSessions)))
	mux.HandleFunc("POST /api/users/{id}/deactivate", s.auth(s.withUser(s.deactivate)))
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(mux, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0.01")
		sim.WriteJSON(w, http.StatusTooManyRequests, map[string]string{"error": "rate_limited"})
	}))
	return s
}

func (s *acmeSim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *acmeSim) addUser(id, email string, sessions int, groups map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := map[string]string{builtinGroup: "Everyone"}
	for k, v := range groups {
		g[k] = v
	}
	s.users[id] = &acmeUser{ID: id, Email: email, Status: "ACTIVE", Groups: g, Sessions: sessions}
}

func (s *acmeSim) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
			sim.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
			return
		}
		h(w, r)
	}
}

// withUser looks the user up and holds the lock for the handler.
func (s *acmeSim) withUser(h func(http.ResponseWriter, *http.Request, *acmeUser)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		u := s.users[r.PathValue("id")]
		if u == nil {
			sim.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "no_such_user"})
			return
		}
		h(w, r, u)
	}
}

type userJSON struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Status string `json:"status"`
}

func (s *acmeSim) findUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []userJSON{}
	for _, u := range s.users {
		if strings.EqualFold(u.Email, r.URL.Query().Get("email")) {
			out = append(out, userJSON{u.ID, u.Email, u.Status})
		}
	}
	sim.WriteJSON(w, http.StatusOK, out)
}

func (s *acmeSim) getUser(w http.ResponseWriter, _ *http.Request, u *acmeUser) {
	if u.Status == "DEACTIVATING" {
		if u.settle--; u.settle <= 0 {
			u.Status = "DEACTIVATED"
		}
	}
	sim.WriteJSON(w, http.StatusOK, userJSON{u.ID, u.Email, u.Status})
}

func (s *acmeSim) listGroups(w http.ResponseWriter, r *http.Request, u *acmeUser) {
	type group struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	var all []group
	for _, id := range slices.Sorted(maps.Keys(u.Groups)) {
		all = append(all, group{id, u.Groups[id]})
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 {
		limit = 2
	}
	page, next := sim.Page(all, r.URL.Query().Get("after"), limit)
	if next != "" {
		w.Header().Set("Link", `<http://`+r.Host+r.URL.Path+`?limit=`+strconv.Itoa(limit)+`&after=`+next+`>; rel="next"`)
	}
	if page == nil {
		page = []group{}
	}
	sim.WriteJSON(w, http.StatusOK, page)
}

func (s *acmeSim) removeGroup(w http.ResponseWriter, r *http.Request, u *acmeUser) {
	gid := r.PathValue("gid")
	switch _, member := u.Groups[gid]; {
	case !member:
		sim.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not_a_member"})
	case gid == builtinGroup:
		sim.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "builtin_group"})
	case u.Status != "ACTIVE":
		sim.WriteJSON(w, http.StatusConflict, map[string]string{"error": "user_inactive"})
	default:
		delete(u.Groups, gid)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *acmeSim) getSessions(w http.ResponseWriter, _ *http.Request, u *acmeUser) {
	sim.WriteJSON(w, http.StatusOK, map[string]int{"count": u.Sessions})
}

func (s *acmeSim) clearSessions(w http.ResponseWriter, _ *http.Request, u *acmeUser) {
	u.Sessions = 0
	w.WriteHeader(http.StatusNoContent)
}

func (s *acmeSim) deactivate(w http.ResponseWriter, _ *http.Request, u *acmeUser) {
	switch u.Status {
	case "ACTIVE":
		u.Status, u.settle = "DEACTIVATING", 2
		w.WriteHeader(http.StatusAccepted)
	case "DEACTIVATING":
		w.WriteHeader(http.StatusAccepted)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

package oktasim

import (
	"net/http"
	"strings"

	"github.com/offboard-dev/offboard/internal/sim"
)

// userJSON is the User schema's fields offboarding reads.
type userJSON struct {
	ID                    string            `json:"id"`
	Status                string            `json:"status"`
	TransitioningToStatus string            `json:"transitioningToStatus,omitempty"`
	Created               string            `json:"created"`
	Activated             *string           `json:"activated"`
	StatusChanged         *string           `json:"statusChanged"`
	LastLogin             *string           `json:"lastLogin"`
	LastUpdated           string            `json:"lastUpdated"`
	Type                  map[string]string `json:"type"`
	Profile               userProfile       `json:"profile"`
	Links                 map[string]any    `json:"_links"`
}

type userProfile struct {
	Login     string `json:"login"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
}

func (s *Server) userJSON(r *http.Request, u *user, status, transitioning string) userJSON {
	created, updated := stamp(u.created), stamp(u.updated)
	return userJSON{
		ID:                    u.ID,
		Status:                status,
		TransitioningToStatus: transitioning,
		Created:               created,
		Activated:             &created,
		StatusChanged:         &updated,
		LastUpdated:           updated,
		Type:                  map[string]string{"id": "oty0default000000001"},
		Profile:               userProfile{Login: u.Login, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName},
		Links:                 map[string]any{"self": href(r, "/api/v1/users/"+u.ID)},
	}
}

// lookupLocked finds the user named by a path's {id} or {userId}: an ID, a login, a login
// shortname, or `me` for the admin the token belongs to. Logins containing "/" can only be
// fetched by ID (getUser description), so they are never matched.
func (s *Server) lookupLocked(idOrLogin string) *user {
	if idOrLogin == "me" {
		return s.users[AdminID]
	}
	if strings.Contains(idOrLogin, "/") {
		return nil
	}
	return s.findByLoginLocked(idOrLogin)
}

// getUser implements getUser. While a deactivation is in progress the first TransitionReads
// reads show the old status with transitioningToStatus DEPROVISIONED (User schema:
// "only returned if the user's state is transitioning").
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	u := s.lookupLocked(id)
	if u == nil {
		s.mu.Unlock()
		s.notFound(w, id, "User")
		return
	}
	status, transitioning := u.Status, ""
	if u.transitions > 0 {
		u.transitions--
		status, transitioning = u.priorStatus, "DEPROVISIONED"
	}
	body := s.userJSON(r, u, status, transitioning)
	s.mu.Unlock()
	sim.WriteJSON(w, http.StatusOK, body)
}

// deactivateLocked moves a user to DEPROVISIONED: sessions and tokens end with the account;
// group memberships, factors and role assignments stay on record.
func (s *Server) deactivateLocked(u *user) {
	u.priorStatus = u.Status
	u.Status = "DEPROVISIONED"
	u.transitions = s.opts.TransitionReads
	u.updated = s.now()
	u.Sessions = 0
	delete(s.tokens, u.ID)
}

// deactivateUser implements deactivateUser: 200 with an empty body. The spec says to call it
// only for users not yet DEPROVISIONED; for one that is, Okta answers 404 E0000007 (observed
// in okta/okta-sdk-java#721), which the simulator reproduces so a repeated call is visible.
func (s *Server) deactivateUser(w http.ResponseWriter, r *http.Request) {
	if _, ok := boolParam(r, "sendEmail"); !ok {
		s.invalid(w, "sendEmail", "sendEmail: must be true or false")
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	u := s.lookupLocked(id)
	if u == nil || u.Status == "DEPROVISIONED" {
		s.mu.Unlock()
		s.notFound(w, id, "User")
		return
	}
	s.deactivateLocked(u)
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// suspendUser implements suspendUser: "Perform this operation only on users with an ACTIVE
// status"; anything else is refused with 400 (the spec's only 400 for this operation).
func (s *Server) suspendUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	u := s.lookupLocked(id)
	if u == nil {
		s.mu.Unlock()
		s.notFound(w, id, "User")
		return
	}
	if u.Status != "ACTIVE" {
		status := u.Status
		s.mu.Unlock()
		s.invalid(w, "status", "Cannot suspend a user whose status is "+status)
		return
	}
	u.Status = "SUSPENDED"
	u.updated = s.now()
	u.Sessions = 0
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// deleteUser implements deleteUser: "This operation on a user that hasn't been deactivated
// causes that user to be deactivated. A second delete operation is required to delete the
// user." Both answer 204.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	if _, ok := boolParam(r, "sendEmail"); !ok {
		s.invalid(w, "sendEmail", "sendEmail: must be true or false")
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	u := s.lookupLocked(id)
	switch {
	case u == nil:
		s.mu.Unlock()
		s.notFound(w, id, "User")
		return
	case u.Status != "DEPROVISIONED":
		s.deactivateLocked(u)
	default:
		s.deleteUserLocked(u.ID)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// withUser runs fn with the lock held for the user named by the path parameter param, then,
// with the lock released, writes the reply fn returned; with no such user it answers 404
// E0000007 (every per-user operation in the spec lists ErrorResourceNotFound404).
func (s *Server) withUser(w http.ResponseWriter, r *http.Request, param string, fn func(u *user) func()) {
	id := r.PathValue(param)
	s.mu.Lock()
	u := s.lookupLocked(id)
	var reply func()
	if u != nil {
		reply = fn(u)
	}
	s.mu.Unlock()
	if u == nil {
		s.notFound(w, id, "User")
		return
	}
	reply()
}

package jenkinssim

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/offboard-dev/offboard/internal/sim"
)

// User is a Jenkins user for seeding.
type User struct {
	ID       string
	FullName string
	// Email is the Mailer plugin's address property; empty when the user set none.
	Email string
	// Admin grants Overall/Administer.
	Admin  bool
	Tokens []Token
}

// AddUser adds a user of Jenkins' own user database.
func (s *Server) AddUser(u User) error {
	id := strings.TrimSpace(u.ID)
	if id == "" || strings.ContainsAny(id, "/\\?#") {
		return fmt.Errorf("jenkinssim: invalid user ID %q", u.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(id)
	if _, ok := s.users[key]; ok {
		return fmt.Errorf("jenkinssim: user %s exists", id)
	}
	nu := &user{id: id, fullName: u.FullName, email: u.Email, admin: u.Admin}
	if nu.fullName == "" {
		nu.fullName = id
	}
	for _, t := range u.Tokens {
		if err := s.addTokenLocked(nu, t); err != nil {
			return err
		}
	}
	s.users[key] = nu
	s.order = append(s.order, key)
	return nil
}

// AddToken gives an existing user another API token.
func (s *Server) AddToken(userID string, t Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[strings.ToLower(userID)]
	if u == nil {
		return fmt.Errorf("jenkinssim: no user %s", userID)
	}
	return s.addTokenLocked(u, t)
}

func (s *Server) addTokenLocked(u *user, t Token) error {
	if t.UUID == "" {
		t.UUID = fmt.Sprintf("5f1e3c2a-9b7d-4e6f-a1b2-%012d", s.seq.Add(1))
	}
	if t.Name == "" {
		return errors.New("jenkinssim: a token needs a name")
	}
	if slices.ContainsFunc(u.tokens, func(have Token) bool { return have.UUID == t.UUID }) {
		return fmt.Errorf("jenkinssim: token %s exists", t.UUID)
	}
	u.tokens = append(u.tokens, t)
	return nil
}

// Holdings lists what identity (a user ID or the address of their mail property) still holds:
// the account, which can sign in while it exists (Jenkins core cannot disable one), and each
// API token. It is empty once the account is deleted.
func (s *Server) Holdings(identity string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, key := range s.order {
		u := s.users[key]
		if !strings.EqualFold(u.id, identity) && (u.email == "" || !strings.EqualFold(u.email, identity)) {
			continue
		}
		out = append(out, fmt.Sprintf("Jenkins account %s (can sign in while it exists)", u.id))
		if u.admin {
			out = append(out, fmt.Sprintf("Overall/Administer permission of %s", u.id))
		}
		for _, t := range u.tokens {
			out = append(out, fmt.Sprintf("API token %q (%s) of %s", t.Name, t.UUID, u.id))
		}
	}
	return out
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *user {
	s.mu.Lock()
	u := s.users[strings.ToLower(r.PathValue("id"))]
	s.mu.Unlock()
	if u == nil {
		errorPage(w, http.StatusNotFound, "Not Found")
	}
	return u
}

// userJSON is what /user/{id}/api/json exports: the properties appear with their class and
// exported fields only, so the API token property shows no tokens.
func (s *Server) userJSON(r *http.Request, u *user) map[string]any {
	props := []map[string]any{
		{"_class": "jenkins.security.ApiTokenProperty"},
		{"_class": "jenkins.security.seed.UserSeedProperty"},
	}
	if u.email != "" {
		props = append(props, map[string]any{"_class": "hudson.tasks.Mailer$UserProperty", "address": u.email})
	}
	return map[string]any{
		"_class": "hudson.model.User", "absoluteUrl": rootURL(r) + "user/" + url.PathEscape(u.id),
		"description": nil, "fullName": u.fullName, "id": u.id, "property": props,
	}
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, _ *user) {
	u := s.lookup(w, r)
	if u == nil {
		return
	}
	s.mu.Lock()
	body := s.userJSON(r, u)
	s.mu.Unlock()
	sim.WriteJSON(w, http.StatusOK, body)
}

// people answers the people list with each user and their exported properties, or 404 as
// Jenkins 2.452 and later do unless PeopleAPI is set.
func (s *Server) people(w http.ResponseWriter, r *http.Request, _ *user) {
	if !s.opts.PeopleAPI {
		errorPage(w, http.StatusNotFound, "Not Found")
		return
	}
	s.mu.Lock()
	users := make([]map[string]any, 0, len(s.order))
	for _, key := range s.order {
		users = append(users, map[string]any{"lastChange": nil, "project": nil, "user": s.userJSON(r, s.users[key])})
	}
	s.mu.Unlock()
	sim.WriteJSON(w, http.StatusOK, map[string]any{"_class": "hudson.model.View$AsynchPeople$People", "users": users})
}

// tokenPage renders the part of the user's configuration page that lists API tokens, as
// ApiTokenProperty/config.jelly does, including its empty row template. Only the user and
// administrators may see another user's page.
func (s *Server) tokenPage(legacy bool) func(http.ResponseWriter, *http.Request, *user) {
	return func(w http.ResponseWriter, r *http.Request, caller *user) {
		if legacy != s.opts.LegacyConfigurePage {
			errorPage(w, http.StatusNotFound, "Not Found")
			return
		}
		u := s.lookup(w, r)
		if u == nil {
			return
		}
		if u != caller && !requireAdmin(w, caller) {
			return
		}
		var b strings.Builder
		b.WriteString("<!DOCTYPE html><html><head><title>" + html.EscapeString(u.id) + " Security [Jenkins]</title></head><body>\n")
		b.WriteString(`<div class="jenkins-hidden" id="api-token-row-template"><div class="token-card jenkins-card" id=""><span class="token-name"></span>` +
			`<button type="button" class="api-token-property-token-revoke" data-token-uuid="" data-target-url="descriptorByName/jenkins.security.ApiTokenProperty/revoke"></button></div></div>` + "\n")
		b.WriteString(`<div class="token-list ignore-dirty-panel"><div id="api-token-list">` + "\n")
		s.mu.Lock()
		for _, t := range u.tokens {
			title := "token-card__title"
			if t.Legacy {
				title += " legacy-token"
			}
			fmt.Fprintf(&b, `<div class="token-card jenkins-card" id="%s"><div class="token-card-inner"><div class="%s"><span class="token-name">%s</span></div></div>`+
				`<div class="token-controls"><button type="button" class="jenkins-button api-token-property-token-revoke" data-token-uuid="%s" data-target-url="descriptorByName/jenkins.security.ApiTokenProperty/revoke"></button></div></div>`+"\n",
				html.EscapeString(t.UUID), title, html.EscapeString(t.Name), html.EscapeString(t.UUID))
		}
		s.mu.Unlock()
		b.WriteString("</div></div></body></html>\n")
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(b.String()))
	}
}

// revoke is ApiTokenProperty.DescriptorImpl.doRevoke: 400 for a blank tokenUuid, 200 whether
// or not a token had the UUID.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request, caller *user) {
	u := s.lookup(w, r)
	if u == nil || !requireAdmin(w, caller) {
		return
	}
	uuid := strings.TrimSpace(r.FormValue("tokenUuid"))
	if uuid == "" {
		errorPage(w, http.StatusBadRequest, "The tokenUuid cannot be empty")
		return
	}
	s.mu.Lock()
	u.tokens = slices.DeleteFunc(u.tokens, func(t Token) bool { return t.UUID == uuid })
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// doDelete is User.doDoDelete: administrators only, never oneself, then 302 to the root.
func (s *Server) doDelete(w http.ResponseWriter, r *http.Request, caller *user) {
	u := s.lookup(w, r)
	if u == nil || !requireAdmin(w, caller) {
		return
	}
	if u == caller {
		errorPage(w, http.StatusBadRequest, "Cannot delete self")
		return
	}
	s.mu.Lock()
	key := strings.ToLower(u.id)
	delete(s.users, key)
	s.order = slices.DeleteFunc(s.order, func(k string) bool { return k == key })
	s.mu.Unlock()
	http.Redirect(w, r, rootURL(r), http.StatusFound)
}

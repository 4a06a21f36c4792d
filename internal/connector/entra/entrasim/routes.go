package entrasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Application permissions each endpoint needs (learn.microsoft.com/graph/permissions-reference
// and each API page's permissions table, apis.md §7).
const (
	permUserRead      = "User.Read.All"
	permEnableDisable = "User.EnableDisableAccount.All"
	permRevoke        = "User.RevokeSessions.All"
	permMemberRead    = "GroupMember.Read.All"
	permMemberWrite   = "GroupMember.ReadWrite.All"
	permMethodRead    = "UserAuthenticationMethod.Read.All"
	permMethodWrite   = "UserAuthenticationMethod.ReadWrite.All"
	permLicense       = "LicenseAssignment.ReadWrite.All"
)

// routes registers every endpoint the simulator serves; sim.Mux answers 501 to the rest.
func (s *Server) routes(m *sim.Mux) {
	// Client-credentials token endpoint (v2-oauth2-client-creds-grant-flow).
	m.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.token)
	// List users with $filter on userPrincipalName/mail and $select (user-list).
	m.HandleFunc("GET /v1.0/users", s.guard(permUserRead, s.listUsers))
	// Get a user by object ID or userPrincipalName, with $select (user-get).
	m.HandleFunc("GET /v1.0/users/{id}", s.guard(permUserRead, s.getUser))
	// Update a user: accountEnabled false disables sign-in; 204 (user-update).
	m.HandleFunc("PATCH /v1.0/users/{id}", s.guard(permEnableDisable, s.patchUser))
	// Revoke sign-in sessions: 200 {"value": true} (user-revokesigninsessions).
	m.HandleFunc("POST /v1.0/users/{id}/revokeSignInSessions", s.guard(permRevoke, s.revokeSessions))
	// Direct memberships: groups and directory roles, paged by @odata.nextLink (user-list-memberof).
	m.HandleFunc("GET /v1.0/users/{id}/memberOf", s.guard(permMemberRead, s.memberOf))
	// Remove a member: 204, 404 Request_ResourceNotFound when not a member (group-delete-members).
	m.HandleFunc("DELETE /v1.0/groups/{gid}/members/{uid}/$ref", s.guard(permMemberWrite, s.removeMember))
	// List authentication methods (authentication-list-methods).
	m.HandleFunc("GET /v1.0/users/{id}/authentication/methods", s.guard(permMethodRead, s.listMethods))
	// Delete one method through its type's collection, e.g. phoneMethods/{id} (apis.md §7).
	m.HandleFunc("DELETE /v1.0/users/{id}/authentication/{collection}/{mid}", s.guard(permMethodWrite, s.deleteMethod))
	// The user's default second factor (beta signInPreferences; v1.0 has no equivalent).
	m.HandleFunc("GET /beta/users/{id}/authentication/signInPreferences", s.guard(permMethodRead, s.signInPreferences))
	// Add and remove licences: 200 with the user (user-assignlicense).
	m.HandleFunc("POST /v1.0/users/{id}/assignLicense", s.guard(permLicense, s.assignLicense))
}

// guard checks the token and the permission before the handler runs.
func (s *Server) guard(permission string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.authorize(w, r, permission) {
			h(w, r)
		}
	}
}

func (s *Server) context(r *http.Request, fragment string) string {
	base := sim.PageURL(r, nil)
	if i := strings.Index(base, "/v1.0/"); i >= 0 {
		base = base[:i+len("/v1.0/")]
	}
	return base + "$metadata#" + fragment
}

// userJSON renders a user the way Graph does, for the properties offboarding reads.
func (s *Server) userJSON(u *user) map[string]any {
	var assigned []map[string]any
	seen := map[string]bool{}
	states := s.licenseStatesLocked(u)
	for _, st := range states {
		if sku := st["skuId"].(string); !seen[sku] {
			seen[sku] = true
			assigned = append(assigned, map[string]any{"skuId": sku, "disabledPlans": []string{}})
		}
	}
	var mail any
	if u.Mail != "" {
		mail = u.Mail
	}
	return map[string]any{
		"id":                              u.ID,
		"userPrincipalName":               u.UserPrincipalName,
		"mail":                            mail,
		"displayName":                     u.DisplayName,
		"accountEnabled":                  !u.Disabled,
		"onPremisesSyncEnabled":           syncEnabled(u.Synced),
		"signInSessionsValidFromDateTime": u.SessionsValidFrom.UTC().Format(time.RFC3339),
		"assignedLicenses":                nonNil(assigned),
		"licenseAssignmentStates":         nonNil(states),
	}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	match, problem := parseFilter(r.URL.Query().Get("$filter"))
	if problem != "" {
		s.fail(w, http.StatusBadRequest, "Request_UnsupportedQuery", problem)
		return
	}
	s.mu.Lock()
	var out []map[string]any
	for _, id := range s.userOrder {
		u := s.users[id]
		if match(u) {
			out = append(out, selectFields(r, s.userJSON(u)))
		}
	}
	s.mu.Unlock()
	s.page(w, r, s.context(r, "users"), out)
}

// parseFilter understands the $filter forms offboarding sends: equality on userPrincipalName
// or mail, joined by "or". String literals are single-quoted with ” for a quote. A filter it
// cannot read yields Graph's message for it instead.
func parseFilter(f string) (match func(*user) bool, problem string) {
	if strings.TrimSpace(f) == "" {
		return func(*user) bool { return true }, ""
	}
	type clause struct{ prop, value string }
	var clauses []clause
	for _, part := range splitOr(f) {
		prop, lit, ok := strings.Cut(strings.TrimSpace(part), " eq ")
		lit = strings.TrimSpace(lit)
		if !ok || len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
			return nil, "Invalid filter clause: " + part
		}
		prop = strings.TrimSpace(prop)
		if prop != "userPrincipalName" && prop != "mail" {
			return nil, fmt.Sprintf("Unsupported or invalid query filter clause specified for property '%s' of resource 'User'.", prop)
		}
		clauses = append(clauses, clause{prop, strings.ReplaceAll(lit[1:len(lit)-1], "''", "'")})
	}
	return func(u *user) bool {
		for _, c := range clauses {
			v := u.UserPrincipalName
			if c.prop == "mail" {
				v = u.Mail
			}
			if v != "" && strings.EqualFold(v, c.value) {
				return true
			}
		}
		return false
	}, ""
}

// splitOr splits a filter at " or " outside string literals.
func splitOr(f string) []string {
	var parts []string
	quoted, start := false, 0
	for i := 0; i < len(f); i++ {
		switch {
		case f[i] == '\'':
			quoted = !quoted
		case !quoted && strings.HasPrefix(strings.ToLower(f[i:]), " or "):
			parts = append(parts, f[start:i])
			start = i + 4
			i += 3
		}
	}
	return append(parts, f[start:])
}

// lookup finds the path's user or answers 404; it returns with s.mu held when found.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *user {
	s.mu.Lock()
	u := s.findUserLocked(r.PathValue("id"))
	if u == nil {
		s.mu.Unlock()
		s.notFound(w, r.PathValue("id"))
	}
	return u
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u := s.lookup(w, r)
	if u == nil {
		return
	}
	body := selectFields(r, s.userJSON(u))
	s.mu.Unlock()
	body["@odata.context"] = s.context(r, "users/$entity")
	sim.WriteJSON(w, http.StatusOK, body)
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		s.badRequest(w, "Unable to read JSON request payload.")
		return
	}
	var enabled *bool
	for k, v := range body {
		if k != "accountEnabled" {
			s.badRequest(w, fmt.Sprintf("Property '%s' cannot be updated by this simulator.", k))
			return
		}
		if err := json.Unmarshal(v, &enabled); err != nil || enabled == nil {
			s.badRequest(w, "Invalid value specified for property 'accountEnabled' of resource 'User'.")
			return
		}
	}
	u := s.lookup(w, r)
	if u == nil {
		return
	}
	if enabled != nil && u.Synced {
		s.mu.Unlock()
		s.badRequest(w, "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.")
		return
	}
	if enabled != nil {
		u.Disabled = !*enabled
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// syncEnabled is onPremisesSyncEnabled as Graph gives it: true for a synced object, null for a
// cloud-only one.
func syncEnabled(synced bool) any {
	if synced {
		return true
	}
	return nil
}

// revokeSessions invalidates every refresh token and session cookie by moving
// signInSessionsValidFromDateTime to now.
func (s *Server) revokeSessions(w http.ResponseWriter, r *http.Request) {
	u := s.lookup(w, r)
	if u == nil {
		return
	}
	u.Sessions = 0
	u.SessionsValidFrom = s.now().UTC().Truncate(time.Second)
	s.mu.Unlock()
	sim.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": s.context(r, "Edm.Boolean"), "value": true})
}

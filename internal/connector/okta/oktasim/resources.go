package oktasim

import (
	"net/http"
	"slices"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

func noContent(w http.ResponseWriter) func() {
	return func() { w.WriteHeader(http.StatusNoContent) }
}

func issuer(r *http.Request) string { return href(r, "")["href"] }

// revokeSessions implements revokeUserSessions: every IdP session ends; with oauthTokens=true
// the OAuth/OIDC refresh tokens issued to the user are revoked too (default false).
// forgetDevices is accepted; remembered devices are not modelled.
func (s *Server) revokeSessions(w http.ResponseWriter, r *http.Request) {
	oauth, ok := boolParam(r, "oauthTokens")
	if _, ok2 := boolParam(r, "forgetDevices"); !ok || !ok2 {
		s.invalid(w, "query", "oauthTokens and forgetDevices must be true or false")
		return
	}
	s.withUser(w, r, "userId", func(u *user) func() {
		u.Sessions = 0
		if oauth {
			delete(s.tokens, u.ID)
		}
		return noContent(w)
	})
}

type grantJSON struct {
	ID          string         `json:"id"`
	Status      string         `json:"status"`
	Created     string         `json:"created"`
	LastUpdated string         `json:"lastUpdated"`
	Issuer      string         `json:"issuer"`
	ClientID    string         `json:"clientId"`
	UserID      string         `json:"userId"`
	ScopeID     string         `json:"scopeId"`
	Source      string         `json:"source"`
	Links       map[string]any `json:"_links"`
}

// listGrants implements listUserGrants (scopeId filter, after, limit ≤ 200).
func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) {
	scope := r.URL.Query().Get("scopeId")
	var out []grantJSON
	s.withUser(w, r, "userId", func(u *user) func() {
		at := stamp(u.created)
		for _, g := range s.grants[u.ID] {
			if scope != "" && g.ScopeID != scope {
				continue
			}
			out = append(out, grantJSON{
				ID: g.ID, Status: "ACTIVE", Created: at, LastUpdated: at, Issuer: issuer(r),
				ClientID: g.ClientID, UserID: u.ID, ScopeID: g.ScopeID, Source: "END_USER",
				Links: map[string]any{"self": href(r, "/api/v1/users/"+u.ID+"/grants/"+g.ID)},
			})
		}
		return func() { writePage(s, w, r, out, func(g grantJSON) string { return g.ID }) }
	})
}

// revokeGrants implements revokeUserGrants: 204, every grant gone.
func (s *Server) revokeGrants(w http.ResponseWriter, r *http.Request) {
	s.withUser(w, r, "userId", func(u *user) func() {
		delete(s.grants, u.ID)
		return noContent(w)
	})
}

type clientJSON struct {
	ClientID   string         `json:"client_id"`
	ClientName string         `json:"client_name"`
	ClientURI  *string        `json:"client_uri"`
	LogoURI    *string        `json:"logo_uri"`
	Links      map[string]any `json:"_links"`
}

// listClients implements listUserClients: the clients for which the user has grants or
// tokens, each once.
func (s *Server) listClients(w http.ResponseWriter, r *http.Request) {
	out := []clientJSON{}
	s.withUser(w, r, "userId", func(u *user) func() {
		var ids []string
		for _, g := range s.grants[u.ID] {
			ids = append(ids, g.ClientID)
		}
		for _, t := range s.tokens[u.ID] {
			ids = append(ids, t.ClientID)
		}
		seen := make(map[string]bool)
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			base := "/api/v1/users/" + u.ID + "/clients/" + id
			out = append(out, clientJSON{
				ClientID: id, ClientName: s.clientNames[id],
				Links: map[string]any{
					"self":   href(r, "/oauth2/v1/clients/"+id),
					"grants": href(r, base+"/grants"),
					"tokens": href(r, base+"/tokens"),
				},
			})
		}
		return func() { sim.WriteJSON(w, http.StatusOK, out) }
	})
}

type tokenJSON struct {
	ID          string         `json:"id"`
	Status      string         `json:"status"`
	Created     string         `json:"created"`
	LastUpdated string         `json:"lastUpdated"`
	ExpiresAt   string         `json:"expiresAt"`
	Issuer      string         `json:"issuer"`
	ClientID    string         `json:"clientId"`
	UserID      string         `json:"userId"`
	Scopes      []string       `json:"scopes"`
	Links       map[string]any `json:"_links"`
}

// listClientTokens implements listRefreshTokensForUserAndClient (after, limit ≤ 200).
func (s *Server) listClientTokens(w http.ResponseWriter, r *http.Request) {
	client := r.PathValue("clientId")
	var out []tokenJSON
	s.withUser(w, r, "userId", func(u *user) func() {
		now := s.now()
		for _, t := range s.tokens[u.ID] {
			if t.ClientID != client {
				continue
			}
			out = append(out, tokenJSON{
				ID: t.TokenID, Status: "ACTIVE", Created: stamp(u.created), LastUpdated: stamp(u.created),
				ExpiresAt: stamp(now.Add(90 * 24 * time.Hour)), Issuer: issuer(r),
				ClientID: t.ClientID, UserID: u.ID, Scopes: []string{"openid", "offline_access"},
				Links: map[string]any{"self": href(r, "/api/v1/users/"+u.ID+"/clients/"+client+"/tokens/"+t.TokenID)},
			})
		}
		return func() { writePage(s, w, r, out, func(t tokenJSON) string { return t.ID }) }
	})
}

type factorJSON struct {
	ID          string         `json:"id"`
	FactorType  string         `json:"factorType"`
	Provider    string         `json:"provider"`
	VendorName  string         `json:"vendorName"`
	Status      string         `json:"status"`
	Created     string         `json:"created"`
	LastUpdated string         `json:"lastUpdated"`
	Profile     map[string]any `json:"profile"`
	Links       map[string]any `json:"_links"`
}

// listFactors implements listFactors. Factors stay listed after deactivation: they can no
// longer be unenrolled then (gotcha 1).
func (s *Server) listFactors(w http.ResponseWriter, r *http.Request) {
	out := []factorJSON{}
	s.withUser(w, r, "userId", func(u *user) func() {
		at := stamp(u.created)
		for _, f := range s.factors[u.ID] {
			out = append(out, factorJSON{
				ID: f.ID, FactorType: f.Type, Provider: f.Provider, VendorName: f.Provider,
				Status: f.Status, Created: at, LastUpdated: at, Profile: map[string]any{},
				Links: map[string]any{"self": href(r, "/api/v1/users/"+u.ID+"/factors/"+f.ID)},
			})
		}
		return func() { sim.WriteJSON(w, http.StatusOK, out) }
	})
}

// unenrollFactor implements unenrollFactor. "You can't unenroll a factor from a deactivated
// user": refused with 403 E0000006, the spec's only refusal for the operation. "If you
// unenroll the push or the signed_nonce factors, Okta also unenrolls any other totp,
// signed_nonce, or Okta Verify push factors associated with the user": modelled, so a client
// must accept that a factor it planned to remove may already be gone (404 E0000007).
func (s *Server) unenrollFactor(w http.ResponseWriter, r *http.Request) {
	if _, ok := boolParam(r, "removeRecoveryEnrollment"); !ok {
		s.invalid(w, "removeRecoveryEnrollment", "removeRecoveryEnrollment: must be true or false")
		return
	}
	fid := r.PathValue("factorId")
	s.withUser(w, r, "userId", func(u *user) func() {
		if u.Status == "DEPROVISIONED" {
			return func() { s.forbidden(w, "You can't unenroll a factor from a deactivated user") }
		}
		fs := s.factors[u.ID]
		i := slices.IndexFunc(fs, func(f Factor) bool { return f.ID == fid })
		if i < 0 {
			return func() { s.notFound(w, fid, "UserFactor") }
		}
		removed := fs[i]
		fs = slices.Delete(slices.Clone(fs), i, i+1)
		if removed.Type == "push" || removed.Type == "signed_nonce" {
			fs = slices.DeleteFunc(fs, func(f Factor) bool {
				return f.Type == "push" || f.Type == "signed_nonce" ||
					(f.Type == "token:software:totp" && f.Provider == "OKTA")
			})
		}
		s.factors[u.ID] = fs
		return noContent(w)
	})
}

type roleJSON struct {
	ID             string         `json:"id"`
	Label          string         `json:"label"`
	Type           string         `json:"type"`
	Status         string         `json:"status"`
	Created        string         `json:"created"`
	LastUpdated    string         `json:"lastUpdated"`
	AssignmentType string         `json:"assignmentType"`
	Links          map[string]any `json:"_links"`
}

// listRoles implements listAssignedRolesForUser: roles assigned to the user directly
// (assignmentType USER) and through admin groups (GROUP).
func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) {
	out := []roleJSON{}
	s.withUser(w, r, "userId", func(u *user) func() {
		at := stamp(u.created)
		for _, ro := range s.roles[u.ID] {
			out = append(out, roleJSON{
				ID: ro.ID, Label: ro.Label, Type: ro.Type, Status: "ACTIVE", Created: at, LastUpdated: at,
				AssignmentType: ro.AssignmentType,
				Links:          map[string]any{"assignee": href(r, "/api/v1/users/"+u.ID)},
			})
		}
		return func() { sim.WriteJSON(w, http.StatusOK, out) }
	})
}

// unassignRole implements unassignRoleFromUser: 204, or 404 E0000007 for an assignment the
// user does not hold. A role held through an admin group cannot be unassigned from the user;
// the spec does not say how Okta refuses, so the simulator answers its generic 403 E0000006.
func (s *Server) unassignRole(w http.ResponseWriter, r *http.Request) {
	rid := r.PathValue("roleAssignmentId")
	s.withUser(w, r, "userId", func(u *user) func() {
		rs := s.roles[u.ID]
		i := slices.IndexFunc(rs, func(ro Role) bool { return ro.ID == rid })
		if i < 0 {
			return func() { s.notFound(w, rid, "RoleAssignment") }
		}
		if rs[i].AssignmentType == "GROUP" {
			return func() { s.forbidden(w, "The role is assigned through a group; remove the group's assignment instead") }
		}
		s.roles[u.ID] = slices.Delete(slices.Clone(rs), i, i+1)
		return noContent(w)
	})
}

package githubsim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/offboard-dev/offboard/internal/sim"
)

type route struct {
	pattern string
	handler http.HandlerFunc
}

// routes lists the endpoints served, each citing the GitHub REST reference (apis.md §4).
func (s *Server) routes() []route {
	return []route{
		// "Get a user" (rest/users/users#get-a-user).
		{"GET /users/{username}", s.getUser},
		// "Get an organization" (rest/orgs/orgs#get-an-organization).
		{"GET /orgs/{org}", s.org(s.getOrg)},
		// "Get / Remove organization membership for a user" (rest/orgs/members).
		{"GET /orgs/{org}/memberships/{username}", s.org(s.getMembership)},
		{"DELETE /orgs/{org}/memberships/{username}", s.org(s.removeMembership)},
		// "List organization members" with role=all|admin|member (rest/orgs/members).
		{"GET /orgs/{org}/members", s.org(s.listMembers)},
		// "List / Remove outside collaborators" (rest/orgs/outside-collaborators).
		{"GET /orgs/{org}/outside_collaborators", s.org(s.listOutside)},
		{"DELETE /orgs/{org}/outside_collaborators/{username}", s.org(s.removeOutside)},
		// "List pending organization invitations" / "Cancel an organization invitation".
		{"GET /orgs/{org}/invitations", s.org(s.listInvitations)},
		{"DELETE /orgs/{org}/invitations/{invitation_id}", s.org(s.cancelInvitation)},
		// "List / Remove a SAML SSO authorization for an organization" (GHEC, rest/orgs/orgs).
		{"GET /orgs/{org}/credential-authorizations", s.org(s.listCredentials)},
		{"DELETE /orgs/{org}/credential-authorizations/{credential_id}", s.org(s.revokeCredential)},
		// "List organization repositories" (rest/repos/repos).
		{"GET /orgs/{org}/repos", s.org(s.listRepos)},
		// "Get repository permissions for a user" (rest/collaborators/collaborators).
		{"GET /repos/{owner}/{repo}/collaborators/{username}/permission", s.repo(s.getPermission)},
		// "List repository secrets" / "List organization secrets" (rest/actions/secrets).
		{"GET /repos/{owner}/{repo}/actions/secrets", s.repo(s.listRepoSecrets)},
		{"GET /orgs/{org}/actions/secrets", s.org(s.listOrgSecrets)},
		// GraphQL (docs.github.com/graphql): api.github.com/graphql, GHES HOST/api/graphql.
		{"POST /graphql", s.graphql},
		{"POST /api/graphql", s.graphql},
	}
}

// org answers 404 for any organization but the simulated one.
func (s *Server) org(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.PathValue("org"), s.opts.Org) {
			notFound(w)
			return
		}
		h(w, r)
	}
}

// repo answers 404 for a repository the organization does not have.
func (s *Server) repo(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		ok := strings.EqualFold(r.PathValue("owner"), s.opts.Org) && s.state.repos[key(r.PathValue("repo"))] != nil
		s.mu.Unlock()
		if !ok {
			notFound(w)
			return
		}
		h(w, r)
	}
}

type simpleUser struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Type  string `json:"type"`
}

func userJSON(u *User) simpleUser { return simpleUser{Login: u.Login, ID: u.ID, Type: "User"} }

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u := s.state.users[key(r.PathValue("username"))]
	s.mu.Unlock()
	if u == nil {
		notFound(w)
		return
	}
	sim.WriteJSON(w, http.StatusOK, userJSON(u))
}

func (s *Server) getOrg(w http.ResponseWriter, _ *http.Request) {
	sim.WriteJSON(w, http.StatusOK, map[string]any{"login": s.opts.Org, "id": 1, "type": "Organization"})
}

// pendingLocked returns the index of a pending invitation for login, or -1.
func (s *Server) pendingLocked(login string) int {
	return slices.IndexFunc(s.state.invitations, func(inv Invitation) bool { return inv.Login != "" && key(inv.Login) == key(login) })
}

// getMembership: 200 with state active or pending (an invitation by login), else 404.
func (s *Server) getMembership(w http.ResponseWriter, r *http.Request) {
	login := r.PathValue("username")
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.state.users[key(login)]
	role, member := s.state.members[key(login)]
	state := "active"
	if !member {
		i := s.pendingLocked(login)
		if u == nil || i < 0 {
			notFound(w)
			return
		}
		state, role = "pending", RoleMember
		if s.state.invitations[i].Role == "admin" {
			role = RoleOwner
		}
	}
	sim.WriteJSON(w, http.StatusOK, map[string]any{
		"state": state, "role": role, "user": userJSON(u),
		"organization": map[string]any{"login": s.opts.Org},
	})
}

// removeMembership removes a member (and their direct repository access and team
// memberships) or cancels their pending invitation; the last owner cannot be removed.
func (s *Server) removeMembership(w http.ResponseWriter, r *http.Request) {
	k := key(r.PathValue("username"))
	s.mu.Lock()
	defer s.mu.Unlock()
	role, member := s.state.members[k]
	i := s.pendingLocked(k)
	if !member && i < 0 {
		notFound(w)
		return
	}
	if member && role == RoleOwner && s.ownersLocked() == 1 {
		fail(w, http.StatusForbidden, "You cannot remove the last owner of an organization.")
		return
	}
	if member {
		delete(s.state.members, k)
		for _, rp := range s.state.repos {
			delete(rp.collabs, k)
		}
	}
	s.state.invitations = slices.DeleteFunc(s.state.invitations, func(inv Invitation) bool { return inv.Login != "" && key(inv.Login) == k })
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ownersLocked() int {
	n := 0
	for _, role := range s.state.members {
		if role == RoleOwner {
			n++
		}
	}
	return n
}

func (s *Server) sortedUsersLocked(keep func(k string) bool) []simpleUser {
	var out []simpleUser
	for k, u := range s.state.users {
		if keep(k) {
			out = append(out, userJSON(u))
		}
	}
	slices.SortFunc(out, func(a, b simpleUser) int { return int(a.ID - b.ID) })
	return out
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) {
	want := r.URL.Query().Get("role")
	if want != "" && want != "all" && want != RoleOwner && want != RoleMember {
		fail(w, http.StatusUnprocessableEntity, "Validation Failed")
		return
	}
	s.mu.Lock()
	out := s.sortedUsersLocked(func(k string) bool {
		role, ok := s.state.members[k]
		return ok && (want == "" || want == "all" || want == role)
	})
	s.mu.Unlock()
	writePage(w, r, out)
}

// outsideLocked reports whether login has direct access to some repository without being a
// member.
func (s *Server) outsideLocked(k string) bool {
	if _, member := s.state.members[k]; member {
		return false
	}
	for _, rp := range s.state.repos {
		if _, ok := rp.collabs[k]; ok {
			return true
		}
	}
	return false
}

func (s *Server) listOutside(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := s.sortedUsersLocked(s.outsideLocked)
	s.mu.Unlock()
	writePage(w, r, out)
}

// removeOutside removes an outside collaborator from every repository; for a member it is
// GitHub's 422 (apis.md §4).
func (s *Server) removeOutside(w http.ResponseWriter, r *http.Request) {
	k := key(r.PathValue("username"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.users[k] == nil {
		notFound(w)
		return
	}
	if _, member := s.state.members[k]; member {
		fail(w, http.StatusUnprocessableEntity, "You cannot specify an organization member to remove as an outside collaborator.")
		return
	}
	for _, rp := range s.state.repos {
		delete(rp.collabs, k)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := make([]map[string]any, 0, len(s.state.invitations))
	for _, inv := range s.state.invitations {
		var login, email any
		if inv.Login != "" {
			login = s.state.users[key(inv.Login)].Login
		}
		if inv.Email != "" {
			email = inv.Email
		}
		out = append(out, map[string]any{
			"id": inv.ID, "login": login, "email": email, "role": inv.Role,
			"created_at": stamp(s.opts.Now()), "invitation_source": "member",
		})
	}
	s.mu.Unlock()
	writePage(w, r, out)
}

func (s *Server) cancelInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("invitation_id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.state.invitations, func(inv Invitation) bool { return inv.ID == id })
	if err != nil || i < 0 {
		notFound(w)
		return
	}
	s.state.invitations = slices.Delete(s.state.invitations, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

// listCredentials lists the authorizations of current members only: GitHub lists them
// through the membership, so a removed member's credentials vanish from the list.
func (s *Server) listCredentials(w http.ResponseWriter, r *http.Request) {
	if !s.opts.SAML {
		notFound(w)
		return
	}
	login := r.URL.Query().Get("login")
	s.mu.Lock()
	out := []map[string]any{}
	for _, c := range s.state.creds {
		if _, member := s.state.members[key(c.Login)]; !member || (login != "" && key(login) != key(c.Login)) {
			continue
		}
		item := map[string]any{
			"login": s.state.users[key(c.Login)].Login, "credential_id": c.ID, "credential_type": c.Type,
			"credential_authorized_at": stamp(s.opts.Now()), "credential_accessed_at": nil,
			"authorized_credential_id": c.ID + 500000, "authorized_credential_title": nilIfEmpty(c.Title),
			"token_last_eight": nilIfEmpty(c.TokenLastEight), "fingerprint": nilIfEmpty(c.Fingerprint),
		}
		if c.Type == CredentialPAT {
			item["scopes"] = slices.Clone(c.Scopes)
		}
		out = append(out, item)
	}
	s.mu.Unlock()
	writePage(w, r, out)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) revokeCredential(w http.ResponseWriter, r *http.Request) {
	if !s.opts.SAML {
		notFound(w)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("credential_id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.state.creds, func(c Credential) bool {
		_, member := s.state.members[key(c.Login)]
		return c.ID == id && member
	})
	if err != nil || i < 0 {
		notFound(w)
		return
	}
	s.state.creds = slices.Delete(s.state.creds, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listRepos(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var out []map[string]any
	for _, rp := range s.sortedReposLocked() {
		out = append(out, map[string]any{"name": rp.name, "full_name": s.opts.Org + "/" + rp.name, "private": true})
	}
	s.mu.Unlock()
	writePage(w, r, out)
}

// getPermission answers a user's effective permission: owners are admin everywhere, direct
// collaborators have theirs, other members the default base permission (read), anyone else
// none.
func (s *Server) getPermission(w http.ResponseWriter, r *http.Request) {
	k := key(r.PathValue("username"))
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.state.users[k]
	if u == nil {
		notFound(w)
		return
	}
	perm := "none"
	role, member := s.state.members[k]
	if member {
		perm = PermRead
	}
	if p, ok := s.state.repos[key(r.PathValue("repo"))].collabs[k]; ok {
		perm = p
	}
	if role == RoleOwner {
		perm = PermAdmin
	}
	sim.WriteJSON(w, http.StatusOK, map[string]any{"permission": perm, "role_name": perm, "user": userJSON(u)})
}

func (s *Server) listRepoSecrets(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	names := slices.Clone(s.state.repos[key(r.PathValue("repo"))].secrets)
	s.mu.Unlock()
	s.writeSecrets(w, r, names)
}

func (s *Server) listOrgSecrets(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	names := slices.Clone(s.state.orgSecrets)
	s.mu.Unlock()
	s.writeSecrets(w, r, names)
}

// writeSecrets answers {total_count, secrets:[{name, created_at, updated_at}]}, paged with
// per_page/page and a Link header like the other lists.
func (s *Server) writeSecrets(w http.ResponseWriter, r *http.Request, names []string) {
	slices.Sort(names)
	items := make([]map[string]any, len(names))
	for i, n := range names {
		items[i] = map[string]any{"name": n, "created_at": stamp(s.opts.Now()), "updated_at": stamp(s.opts.Now())}
	}
	if page, ok := paginate(w, r, items); ok {
		sim.WriteJSON(w, http.StatusOK, map[string]any{"total_count": len(names), "secrets": page})
	}
}

package dockerhubsim

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Roles a member can hold (the spec's org_member.role enum; Invitee marks invite rows).
const (
	RoleOwner   = "Owner"
	RoleEditor  = "Editor"
	RoleMember  = "Member"
	roleInvitee = "Invitee"
)

// Member is one member of the organization.
type Member struct {
	// Username is the Docker ID.
	Username string
	Email    string
	FullName string
	// Role is RoleOwner, RoleEditor or RoleMember (default RoleMember).
	Role string
	// Teams are the groups (teams) the member belongs to; owners are in "owners".
	Teams []string
}

// Invite is a pending invitation to join the organization.
type Invite struct {
	// ID is the invite's UUID; one is made up when empty.
	ID string
	// Invitee is a Docker ID or, for people without an account, an email address.
	Invitee string
	Team    string
	Inviter string
	Created time.Time
}

// AddMember adds a member to the organization.
func (s *Server) AddMember(m Member) error {
	if strings.TrimSpace(m.Username) == "" {
		return errors.New("dockerhubsim: a member needs a username")
	}
	switch m.Role {
	case "":
		m.Role = RoleMember
	case RoleOwner, RoleEditor, RoleMember:
	default:
		return fmt.Errorf("dockerhubsim: unknown role %q", m.Role)
	}
	if m.Role == RoleOwner && !slices.Contains(m.Teams, "owners") {
		m.Teams = append(m.Teams, "owners")
	}
	m.Teams = slices.Clone(m.Teams)
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(m.Username)
	if _, ok := s.members[key]; ok {
		return fmt.Errorf("dockerhubsim: %s is already a member", m.Username)
	}
	s.members[key] = &m
	s.order = append(s.order, key)
	return nil
}

// AddInvite records a pending invite and returns its ID.
func (s *Server) AddInvite(inv Invite) (string, error) {
	if strings.TrimSpace(inv.Invitee) == "" {
		return "", errors.New("dockerhubsim: an invite needs an invitee")
	}
	if inv.ID == "" {
		inv.ID = fmt.Sprintf("e36eca69-4cc8-4f17-9845-%012d", s.seq.Add(1))
	}
	if inv.Team == "" {
		inv.Team = "members"
	}
	if inv.Inviter == "" {
		inv.Inviter = "offboard-admin"
	}
	if inv.Created.IsZero() {
		inv.Created = s.now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, have := range s.invites {
		if have.ID == inv.ID {
			return "", fmt.Errorf("dockerhubsim: invite %s exists", inv.ID)
		}
	}
	s.invites = append(s.invites, &inv)
	return inv.ID, nil
}

// AcceptInvite accepts a pending invite as its invitee would: the invite is gone and the
// invitee a member of its team. username is the Docker ID that accepts (the invitee itself
// when the invite was addressed to a Docker ID).
func (s *Server) AcceptInvite(id, username string) error {
	s.mu.Lock()
	i := slices.IndexFunc(s.invites, func(inv *Invite) bool { return inv.ID == id })
	if i < 0 {
		s.mu.Unlock()
		return fmt.Errorf("dockerhubsim: no pending invite %s", id)
	}
	inv := s.invites[i]
	s.invites = slices.Delete(s.invites, i, i+1)
	s.mu.Unlock()
	email := ""
	if strings.Contains(inv.Invitee, "@") {
		email = inv.Invitee
	}
	return s.AddMember(Member{Username: username, Email: email, Teams: []string{inv.Team}})
}

// Holdings lists what identity (a Docker ID or an email address) still holds in the
// organization: membership with its role and teams, and pending invites. It is empty once the
// person is fully offboarded.
func (s *Server) Holdings(identity string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, key := range s.order {
		m := s.members[key]
		if m == nil || !(strings.EqualFold(m.Username, identity) || (m.Email != "" && strings.EqualFold(m.Email, identity))) {
			continue
		}
		out = append(out, fmt.Sprintf("member of Docker Hub organization %s as %s (%s)", s.opts.Org, m.Username, m.Role))
		for _, t := range m.Teams {
			out = append(out, fmt.Sprintf("member of team %s/%s", s.opts.Org, t))
		}
	}
	for _, inv := range s.invites {
		if s.inviteFor(inv, identity) {
			out = append(out, fmt.Sprintf("pending invite %s to organization %s (team %s)", inv.ID, s.opts.Org, inv.Team))
		}
	}
	return out
}

// inviteFor reports whether an invite is addressed to identity, or to the email of the member
// whose username identity is. The caller holds s.mu.
func (s *Server) inviteFor(inv *Invite, identity string) bool {
	if strings.EqualFold(inv.Invitee, identity) {
		return true
	}
	for _, m := range s.members {
		if (strings.EqualFold(m.Username, identity) && m.Email != "" && strings.EqualFold(inv.Invitee, m.Email)) ||
			(strings.EqualFold(m.Email, identity) && strings.EqualFold(inv.Invitee, m.Username)) {
			return true
		}
	}
	return false
}

// memberJSON is the spec's org_member schema (the fields the simulator fills).
type memberJSON struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	FullName string   `json:"full_name"`
	Email    string   `json:"email"`
	Type     string   `json:"type"`
	Role     string   `json:"role"`
	Groups   []string `json:"groups"`
	IsGuest  bool     `json:"is_guest"`
}

// listMembers answers one page of org_member_paginated. `search` matches username, full name
// or email (case-insensitive substring); invite rows (role Invitee) are included only with
// type=all, type=invitee or invites=true.
func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, size, ok := pageParams(q.Get("page"), q.Get("page_size"), s.opts.PageSize, s.opts.MaxPageSize)
	if !ok {
		writeError(w, http.StatusBadRequest, "bad request", "page and page_size must be positive integers")
		return
	}
	search := strings.ToLower(strings.TrimSpace(q.Get("search")))
	typ := q.Get("type")
	withInvites := typ == "all" || typ == "invitee" || q.Get("invites") == "true"
	var rows []memberJSON
	s.mu.Lock()
	if typ != "invitee" {
		for _, key := range s.order {
			m := s.members[key]
			if m == nil || !matches(search, m.Username, m.FullName, m.Email) {
				continue
			}
			if role := q.Get("role"); role != "" && !strings.EqualFold(role, m.Role) {
				continue
			}
			rows = append(rows, memberJSON{ID: "uid-" + key, Username: m.Username, FullName: m.FullName, Email: m.Email,
				Type: "User", Role: m.Role, Groups: slices.Clone(m.Teams)})
		}
	}
	if withInvites {
		for _, inv := range s.invites {
			if matches(search, inv.Invitee) {
				rows = append(rows, memberJSON{ID: inv.ID, Username: inv.Invitee, Type: "User", Role: roleInvitee, Groups: []string{}})
			}
		}
	}
	s.mu.Unlock()
	start := (page - 1) * size
	items, _ := sim.Page(rows, strconv.Itoa(min(start, len(rows))), size)
	if items == nil {
		items = []memberJSON{}
	}
	body := map[string]any{"count": len(rows), "next": nil, "previous": nil, "results": items}
	if start+size < len(rows) {
		nq := maps.Clone(q)
		nq.Set("page", strconv.Itoa(page+1))
		nq.Set("page_size", strconv.Itoa(size))
		body["next"] = sim.PageURL(r, nq)
	}
	if page > 1 {
		pq := maps.Clone(q)
		pq.Set("page", strconv.Itoa(page-1))
		pq.Set("page_size", strconv.Itoa(size))
		body["previous"] = sim.PageURL(r, pq)
	}
	sim.WriteJSON(w, http.StatusOK, body)
}

func matches(search string, fields ...string) bool {
	if search == "" {
		return true
	}
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), search) {
			return true
		}
	}
	return false
}

// pageParams reads page (from 1) and page_size (at most limit).
func pageParams(page, size string, def, limit int) (int, int, bool) {
	p, n := 1, def
	var err error
	if page != "" {
		if p, err = strconv.Atoi(page); err != nil || p < 1 {
			return 0, 0, false
		}
	}
	if size != "" {
		if n, err = strconv.Atoi(size); err != nil || n < 1 {
			return 0, 0, false
		}
	}
	return p, min(n, limit), true
}

// removeMember takes the member out of the organization and all its teams. The last owner
// cannot be removed; the spec lists 400 for this operation and the simulator uses it there
// (the wording of the message is the simulator's own).
func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) {
	key := strings.ToLower(r.PathValue("username"))
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.members[key]
	if m == nil {
		writeError(w, http.StatusNotFound, "not found", "member not found")
		return
	}
	if m.Role == RoleOwner && s.ownersLocked() == 1 {
		writeError(w, http.StatusBadRequest, "bad request", "cannot remove the last owner of the organization")
		return
	}
	delete(s.members, key)
	s.order = slices.DeleteFunc(s.order, func(k string) bool { return k == key })
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ownersLocked() int {
	n := 0
	for _, m := range s.members {
		if m.Role == RoleOwner {
			n++
		}
	}
	return n
}

// inviteJSON is the spec's invite schema.
type inviteJSON struct {
	ID              string `json:"id"`
	InviterUsername string `json:"inviter_username"`
	Invitee         string `json:"invitee"`
	Org             string `json:"org"`
	Team            string `json:"team"`
	CreatedAt       string `json:"created_at"`
}

func (s *Server) listInvites(w http.ResponseWriter, _ *http.Request) {
	if s.opts.NoInviteAccess {
		writeError(w, http.StatusForbidden, "permission denied", "only owners can list invites")
		return
	}
	s.mu.Lock()
	data := make([]inviteJSON, 0, len(s.invites))
	for _, inv := range s.invites {
		data = append(data, inviteJSON{ID: inv.ID, InviterUsername: inv.Inviter, Invitee: inv.Invitee, Org: s.opts.Org,
			Team: inv.Team, CreatedAt: inv.Created.UTC().Format("2006-01-02T15:04:05.000000Z")})
	}
	s.mu.Unlock()
	sim.WriteJSON(w, http.StatusOK, map[string]any{"data": data})
}

// cancelInvite marks the invite cancelled: it leaves the pending list. An unknown (or already
// cancelled) invite is 404.
func (s *Server) cancelInvite(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.invites, func(inv *Invite) bool { return inv.ID == id })
	if i < 0 {
		writeError(w, http.StatusNotFound, "not found", "invite not found")
		return
	}
	s.invites = slices.Delete(s.invites, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

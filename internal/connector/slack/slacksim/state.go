package slacksim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector/scim/scimsim"
)

// User is a seeded Slack user. TeamID is the home workspace; Teams the other workspaces of an
// Enterprise Grid user. Deactivated seeds an account that is already deactivated.
type User struct {
	ID             string
	TeamID         string
	Teams          []string
	Email          string
	Name           string
	RealName       string
	IsAdmin        bool
	IsOwner        bool
	IsPrimaryOwner bool
	IsBot          bool
	Deactivated    bool
}

type user struct{ User }

// Session is one signed-in session of a user on a workspace.
type Session struct {
	ID     string
	TeamID string
	Device string
	OS     string
}

// AddUser seeds a user in the Web API and SCIM alike (Slack's SCIM user ID is the user ID).
func (s *Server) AddUser(u User) error {
	if u.ID == "" || u.TeamID == "" || u.Name == "" {
		return fmt.Errorf("slacksim: user needs an ID, a TeamID and a Name (handle)")
	}
	s.mu.Lock()
	if _, dup := s.users[u.ID]; dup {
		s.mu.Unlock()
		return fmt.Errorf("slacksim: duplicate user ID %q", u.ID)
	}
	s.mu.Unlock()
	// Slack's SCIM userName is the handle; the email is a SCIM email.
	if err := s.scim.AddUser(scimsim.User{ID: u.ID, UserName: u.Name, Email: u.Email, Inactive: u.Deactivated}); err != nil {
		return fmt.Errorf("slacksim: %w", err)
	}
	if !slices.Contains(u.Teams, u.TeamID) {
		u.Teams = append([]string{u.TeamID}, u.Teams...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = &user{u}
	s.order = append(s.order, u.ID)
	return nil
}

// AddSession signs an active user in on one of their workspaces and returns the session ID.
func (s *Server) AddSession(userID, teamID, device string) (string, error) {
	if active, exists := s.scim.Active(userID); !exists || !active {
		return "", fmt.Errorf("slacksim: user %q is not an active user", userID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if u == nil || !slices.Contains(u.Teams, teamID) {
		return "", fmt.Errorf("slacksim: user %q is not on workspace %q", userID, teamID)
	}
	id := s.nextID("S")
	s.sessions[userID] = append(s.sessions[userID], Session{ID: id, TeamID: teamID, Device: device, OS: "simOS"})
	return id, nil
}

// userObjectLocked renders Slack's user object (objs_user); deleted follows SCIM's active.
func (s *Server) userObjectLocked(u *user) map[string]any {
	active, _ := s.scim.Active(u.ID)
	obj := map[string]any{
		"id": u.ID, "team_id": u.TeamID, "name": u.Name, "real_name": u.RealName,
		"deleted": !active, "is_admin": u.IsAdmin, "is_owner": u.IsOwner,
		"is_primary_owner": u.IsPrimaryOwner, "is_bot": u.IsBot, "is_restricted": false,
		"profile": map[string]any{"email": u.Email, "real_name": u.RealName},
	}
	if s.opts.EnterpriseGrid {
		obj["enterprise_user"] = map[string]any{
			"id": u.ID, "enterprise_id": EnterpriseID, "enterprise_name": "Sim Org",
			"is_admin": u.IsAdmin, "is_owner": u.IsOwner, "teams": slices.Clone(u.Teams),
		}
	}
	return obj
}

// Holdings lists what the identity (an email or a user ID) still holds in Slack: an active
// account and every live session. It is empty once the person is offboarded.
func (s *Server) Holdings(identity string) []string {
	s.mu.Lock()
	var match *user
	for _, id := range s.order {
		if u := s.users[id]; u.ID == identity || strings.EqualFold(u.Email, identity) {
			match = u
			break
		}
	}
	var sessions []Session
	if match != nil {
		sessions = slices.Clone(s.sessions[match.ID])
	}
	s.mu.Unlock()
	if match == nil {
		return nil
	}
	var out []string
	if active, _ := s.scim.Active(match.ID); active {
		out = append(out, fmt.Sprintf("slack: active account %s (%s)", match.Name, match.ID))
	}
	for _, se := range sessions {
		out = append(out, fmt.Sprintf("slack: live session %s on workspace %s (%s)", se.ID, se.TeamID, se.Device))
	}
	return out
}

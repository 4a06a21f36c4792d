package oktasim

import "slices"

// The accessors read the org's state back for tests and the demo, without going through the
// API (and so without being recorded, charged or throttled).

// UserStatus returns the user's settled status (what reads show once any transition is
// over), or "" when there is no such user (never created, or deleted).
func (s *Server) UserStatus(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[userID]; u != nil {
		return u.Status
	}
	return ""
}

// GroupsOf returns the groups the user is a member of, Everyone included, in the order joined.
func (s *Server) GroupsOf(userID string) []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Group
	for _, g := range s.groupsOfLocked(userID) {
		out = append(out, g.Group)
	}
	return out
}

func (s *Server) groupsOfLocked(userID string) []*group {
	var out []*group
	for _, gid := range s.memberOrder[userID] {
		if m := s.members[gid][userID]; m != nil && m.member() {
			out = append(out, s.groups[gid])
		}
	}
	return out
}

// FactorsOf returns the user's enrolled factors.
func (s *Server) FactorsOf(userID string) []Factor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.factors[userID])
}

// RolesOf returns the user's admin role assignments.
func (s *Server) RolesOf(userID string) []Role {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.roles[userID])
}

// GrantsOf returns the user's OAuth consent grants.
func (s *Server) GrantsOf(userID string) []Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.grants[userID])
}

// ClientsOf returns the refresh tokens OAuth clients hold for the user.
func (s *Server) ClientsOf(userID string) []ClientToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tokens[userID])
}

// SessionsOf returns how many browser sessions the user has.
func (s *Server) SessionsOf(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[userID]; u != nil {
		return u.Sessions
	}
	return 0
}

// RuleExclusions returns the user IDs a rule excludes, in the order they were added.
func (s *Server) RuleExclusions(ruleID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rules[ruleID]; r != nil {
		return slices.Clone(r.Exclude)
	}
	return nil
}

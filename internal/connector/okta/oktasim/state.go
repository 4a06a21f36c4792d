package oktasim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Group types, from the GroupType enum of the Okta Management API (apis.md §1.2).
const (
	// OktaGroup memberships are managed in Okta, statically or through group rules.
	OktaGroup = "OKTA_GROUP"
	// AppGroup groups are imported from an app (Active Directory, LDAP) and managed there.
	AppGroup = "APP_GROUP"
	// BuiltIn is the Everyone group, managed by Okta itself.
	BuiltIn = "BUILT_IN"
)

// EveryoneID is the ID of the BUILT_IN Everyone group every user belongs to.
const EveryoneID = "00g0everyone00000001"

// User is a seeded Okta user. Status defaults to ACTIVE.
type User struct {
	ID        string
	Login     string
	Email     string
	FirstName string
	LastName  string
	Status    string
	// Sessions is how many browser sessions the user has; Okta offers no API to list them, so
	// only tests read this back (SessionsOf).
	Sessions int
}

// Group is a seeded Okta group. Source names the app an APP_GROUP was imported from, such as
// "Active Directory (corp.acme.example)".
type Group struct {
	ID     string
	Name   string
	Type   string
	Source string
}

// Factor is an enrolled MFA factor. Type is a UserFactorType such as "push" or "sms"; Provider
// defaults to OKTA and Status to ACTIVE.
type Factor struct {
	ID       string
	Type     string
	Provider string
	Status   string
}

// Role is an admin role assignment. AssignmentType is USER (the default) for a role assigned
// to the user directly, or GROUP for one the user holds through an admin group.
type Role struct {
	ID             string
	Type           string
	Label          string
	AssignmentType string
}

// Grant is an OAuth consent grant the user gave a client for one scope.
type Grant struct {
	ID         string
	ClientID   string
	ClientName string
	ScopeID    string
}

// ClientToken is one OAuth refresh token an app client holds for the user.
type ClientToken struct {
	ClientID   string
	ClientName string
	TokenID    string
}

// Rule is a group rule. Okta evaluates an expression to decide whom a rule assigns; the
// simulator takes the outcome instead: Matches lists the users the expression matches, and
// every one of them not in Exclude is made a member of each group in GroupIDs. Status defaults
// to ACTIVE; an INACTIVE rule assigns nobody.
type Rule struct {
	ID         string
	Name       string
	Status     string
	Expression string
	GroupIDs   []string
	Matches    []string
	Exclude    []string
}

type user struct {
	User
	created     time.Time
	updated     time.Time
	transitions int    // reads left that still show transitioningToStatus
	priorStatus string // status shown while transitioning
}

type group struct {
	Group
	created time.Time
}

// membership records why a user is in a group: statically, and/or through rules.
type membership struct {
	static bool
	rules  []string
}

func (m membership) member() bool { return m.static || len(m.rules) > 0 }

type rule struct {
	Rule
	created time.Time
}

// AddUser seeds a user and makes them a member of Everyone.
func (s *Server) AddUser(u User) error {
	if u.ID == "" || u.Login == "" {
		return fmt.Errorf("oktasim: a user needs an ID and a login")
	}
	if u.Status == "" {
		u.Status = "ACTIVE"
	}
	if u.Email == "" {
		u.Email = u.Login
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.users[u.ID]; dup {
		return fmt.Errorf("oktasim: user %s already exists", u.ID)
	}
	if s.findByLoginLocked(u.Login) != nil {
		return fmt.Errorf("oktasim: login %s is taken", u.Login)
	}
	now := s.now()
	s.users[u.ID] = &user{User: u, created: now, updated: now}
	s.userOrder = append(s.userOrder, u.ID)
	s.addMemberLocked(EveryoneID, u.ID, "")
	return nil
}

// AddGroup seeds a group. Type defaults to OKTA_GROUP.
func (s *Server) AddGroup(g Group) error {
	if g.ID == "" || g.Name == "" {
		return fmt.Errorf("oktasim: a group needs an ID and a name")
	}
	if g.Type == "" {
		g.Type = OktaGroup
	}
	if g.Type != OktaGroup && g.Type != AppGroup && g.Type != BuiltIn {
		return fmt.Errorf("oktasim: group %s: unknown type %q", g.ID, g.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addGroupLocked(g)
}

func (s *Server) addGroupLocked(g Group) error {
	if _, dup := s.groups[g.ID]; dup {
		return fmt.Errorf("oktasim: group %s already exists", g.ID)
	}
	s.groups[g.ID] = &group{Group: g, created: s.now()}
	s.groupOrder = append(s.groupOrder, g.ID)
	s.members[g.ID] = make(map[string]*membership)
	return nil
}

// AddMember makes a user a static member of a group of any type.
func (s *Server) AddMember(groupID, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.needLocked(userID); err != nil {
		return err
	}
	if s.groups[groupID] == nil {
		return fmt.Errorf("oktasim: no group %s", groupID)
	}
	s.addMemberLocked(groupID, userID, "")
	return nil
}

// addMemberLocked records a membership, static when ruleID is empty.
func (s *Server) addMemberLocked(groupID, userID, ruleID string) {
	ms := s.members[groupID]
	m := ms[userID]
	if m == nil {
		m = &membership{}
		ms[userID] = m
		s.memberOrder[userID] = append(s.memberOrder[userID], groupID)
	}
	if ruleID == "" {
		m.static = true
	} else if !slices.Contains(m.rules, ruleID) {
		m.rules = append(m.rules, ruleID)
	}
}

// AddFactor enrolls an MFA factor for a user.
func (s *Server) AddFactor(userID string, f Factor) error {
	if f.ID == "" || f.Type == "" {
		return fmt.Errorf("oktasim: a factor needs an ID and a type")
	}
	if f.Provider == "" {
		f.Provider = "OKTA"
	}
	if f.Status == "" {
		f.Status = "ACTIVE"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.needLocked(userID); err != nil {
		return err
	}
	s.factors[userID] = append(s.factors[userID], f)
	return nil
}

// AddRole assigns an admin role to a user.
func (s *Server) AddRole(userID string, r Role) error {
	if r.ID == "" || r.Type == "" {
		return fmt.Errorf("oktasim: a role assignment needs an ID and a type")
	}
	if r.Label == "" {
		r.Label = r.Type
	}
	if r.AssignmentType == "" {
		r.AssignmentType = "USER"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.needLocked(userID); err != nil {
		return err
	}
	s.roles[userID] = append(s.roles[userID], r)
	return nil
}

// AddGrant records an OAuth consent grant from a user to a client.
func (s *Server) AddGrant(userID string, g Grant) error {
	if g.ID == "" || g.ClientID == "" || g.ScopeID == "" {
		return fmt.Errorf("oktasim: a grant needs an ID, a client ID and a scope")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.needLocked(userID); err != nil {
		return err
	}
	s.registerClientLocked(g.ClientID, g.ClientName)
	s.grants[userID] = append(s.grants[userID], g)
	return nil
}

// AddClientToken records a refresh token an OAuth client holds for a user.
func (s *Server) AddClientToken(userID string, t ClientToken) error {
	if t.ClientID == "" || t.TokenID == "" {
		return fmt.Errorf("oktasim: a client token needs a client ID and a token ID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.needLocked(userID); err != nil {
		return err
	}
	s.registerClientLocked(t.ClientID, t.ClientName)
	s.tokens[userID] = append(s.tokens[userID], t)
	return nil
}

func (s *Server) registerClientLocked(id, name string) {
	if name == "" {
		name = id
	}
	if _, ok := s.clientNames[id]; !ok || s.clientNames[id] == id {
		s.clientNames[id] = name
	}
}

// AddRule seeds a group rule and, when it is active, adds the users it matches (and does not
// exclude) to its groups, as Okta does when a rule is activated.
func (s *Server) AddRule(r Rule) error {
	if r.ID == "" || r.Name == "" || len(r.GroupIDs) == 0 {
		return fmt.Errorf("oktasim: a rule needs an ID, a name and at least one group")
	}
	if r.Status == "" {
		r.Status = "ACTIVE"
	}
	if r.Expression == "" {
		r.Expression = "true"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.rules[r.ID]; dup {
		return fmt.Errorf("oktasim: rule %s already exists", r.ID)
	}
	for _, g := range r.GroupIDs {
		if grp := s.groups[g]; grp == nil || grp.Type != OktaGroup {
			return fmt.Errorf("oktasim: rule %s: group %s is not an OKTA_GROUP here", r.ID, g)
		}
	}
	for _, u := range r.Matches {
		if err := s.needLocked(u); err != nil {
			return err
		}
	}
	r.GroupIDs = slices.Clone(r.GroupIDs)
	r.Matches = slices.Clone(r.Matches)
	r.Exclude = slices.Clone(r.Exclude)
	s.rules[r.ID] = &rule{Rule: r, created: s.now()}
	s.ruleOrder = append(s.ruleOrder, r.ID)
	if r.Status == "ACTIVE" {
		for _, u := range r.Matches {
			if slices.Contains(r.Exclude, u) {
				continue
			}
			for _, g := range r.GroupIDs {
				s.addMemberLocked(g, u, r.ID)
			}
		}
	}
	return nil
}

func (s *Server) needLocked(userID string) error {
	if s.users[userID] == nil {
		return fmt.Errorf("oktasim: no user %s", userID)
	}
	return nil
}

// findByLoginLocked looks a user up as Okta's getUser does: by ID, by login (case-insensitive)
// or by login shortname (the part before the @), which must be unambiguous.
func (s *Server) findByLoginLocked(idOrLogin string) *user {
	if u := s.users[idOrLogin]; u != nil {
		return u
	}
	for _, id := range s.userOrder {
		if u := s.users[id]; u != nil && strings.EqualFold(u.Login, idOrLogin) {
			return u
		}
	}
	if strings.Contains(idOrLogin, "@") {
		return nil
	}
	var found *user
	for _, id := range s.userOrder {
		u := s.users[id]
		if u == nil {
			continue
		}
		if short, _, ok := strings.Cut(u.Login, "@"); ok && strings.EqualFold(short, idOrLogin) {
			if found != nil {
				return nil
			}
			found = u
		}
	}
	return found
}

// deleteUserLocked removes every trace of a user, as Okta's second DELETE does.
func (s *Server) deleteUserLocked(userID string) {
	delete(s.users, userID)
	s.userOrder = slices.DeleteFunc(s.userOrder, func(id string) bool { return id == userID })
	for _, gid := range s.memberOrder[userID] {
		delete(s.members[gid], userID)
	}
	delete(s.memberOrder, userID)
	delete(s.factors, userID)
	delete(s.roles, userID)
	delete(s.grants, userID)
	delete(s.tokens, userID)
}

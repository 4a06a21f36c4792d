package googlesim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// User is a Workspace user as seeded.
type User struct {
	// ID is the numeric profile ID; empty means one is assigned.
	ID string
	// Email is the primary address.
	Email   string
	Aliases []string
	// Admin marks an administrator, who may be impersonated to call the Admin SDK.
	Admin     bool
	Suspended bool
	// Enrolled2SV is whether the user has 2-Step Verification turned on; Enforced2SV is
	// whether a policy on their organizational unit requires it.
	Enrolled2SV bool
	Enforced2SV bool
	// Sessions is how many web and device sessions the user is signed in to.
	Sessions int
	// OwnsData is whether the user owns Drive files or Calendar events not yet transferred.
	OwnsData bool
}

// Token is an OAuth grant the user gave a third-party application.
type Token struct {
	ClientID    string   `json:"clientId"`
	DisplayText string   `json:"displayText"`
	Scopes      []string `json:"scopes"`
	Anonymous   bool     `json:"anonymous"`
	NativeApp   bool     `json:"nativeApp"`
}

// Group is a Google group as seeded.
type Group struct {
	ID    string
	Email string
	Name  string
}

type asp struct {
	CodeID       int    `json:"codeId"`
	Name         string `json:"name"`
	CreationTime string `json:"creationTime"`
	LastTimeUsed string `json:"lastTimeUsed"`
}

type user struct {
	User
	tokens    []Token
	asps      []asp
	codes     []string
	nextASP   int
	signedOut int // sign-out calls received, for tests
}

type group struct {
	Group
	members []member
}

type member struct {
	userID string
	role   string
}

// lookup finds a user by ID, primary email or alias; the caller holds s.mu.
func (s *Server) lookup(key string) *user {
	if u := s.users[key]; u != nil {
		return u
	}
	for _, id := range s.userOrder {
		u := s.users[id]
		if strings.EqualFold(u.Email, key) || slices.ContainsFunc(u.Aliases, func(a string) bool { return strings.EqualFold(a, key) }) {
			return u
		}
	}
	return nil
}

func (s *Server) lookupGroup(key string) *group {
	if g := s.groups[key]; g != nil {
		return g
	}
	for _, id := range s.groupOrd {
		if strings.EqualFold(s.groups[id].Email, key) {
			return s.groups[id]
		}
	}
	return nil
}

// AddUser adds a user and returns their ID.
func (s *Server) AddUser(u User) (string, error) {
	if !strings.Contains(u.Email, "@") {
		return "", fmt.Errorf("googlesim: user email %q is not an address", u.Email)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = fmt.Sprintf("1%020d", 100+s.seq.Add(1))
	}
	for _, key := range append([]string{u.ID, u.Email}, u.Aliases...) {
		if s.lookup(key) != nil {
			return "", fmt.Errorf("googlesim: user %q already exists", key)
		}
	}
	s.users[u.ID] = &user{User: u}
	s.userOrder = append(s.userOrder, u.ID)
	return u.ID, nil
}

func (s *Server) mustUser(key string) (*user, error) {
	u := s.lookup(key)
	if u == nil {
		return nil, fmt.Errorf("googlesim: no user %q", key)
	}
	return u, nil
}

// AddToken records an OAuth grant of the user to a third-party client.
func (s *Server) AddToken(userKey string, t Token) error {
	if t.ClientID == "" {
		return errors.New("googlesim: token needs a client ID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.mustUser(userKey)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(u.tokens, func(x Token) bool { return x.ClientID == t.ClientID }) {
		return fmt.Errorf("googlesim: %s already has a token for %s", userKey, t.ClientID)
	}
	u.tokens = append(u.tokens, t)
	return nil
}

// AddASP gives the user an app-specific password and returns its code ID.
func (s *Server) AddASP(userKey, name string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.mustUser(userKey)
	if err != nil {
		return 0, err
	}
	u.nextASP++
	u.asps = append(u.asps, asp{CodeID: u.nextASP, Name: name, CreationTime: "1767225600000", LastTimeUsed: "1767312000000"})
	return u.nextASP, nil
}

// AddBackupCodes gives the user n unused backup verification codes.
func (s *Server) AddBackupCodes(userKey string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.mustUser(userKey)
	if err != nil {
		return err
	}
	for i := range n {
		u.codes = append(u.codes, fmt.Sprintf("%04d%04d", len(u.codes)+i+1, 7919*(i+1)%10000))
	}
	return nil
}

// AddGroup adds a group and returns its ID.
func (s *Server) AddGroup(g Group) (string, error) {
	if !strings.Contains(g.Email, "@") {
		return "", fmt.Errorf("googlesim: group email %q is not an address", g.Email)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.ID == "" {
		g.ID = fmt.Sprintf("0%014x", 0xabc000+s.seq.Add(1))
	}
	if g.Name == "" {
		g.Name = g.Email
	}
	if s.lookupGroup(g.ID) != nil || s.lookupGroup(g.Email) != nil {
		return "", fmt.Errorf("googlesim: group %q already exists", g.Email)
	}
	s.groups[g.ID] = &group{Group: g}
	s.groupOrd = append(s.groupOrd, g.ID)
	return g.ID, nil
}

// AddMember makes the user a direct member of the group with role MEMBER, MANAGER or OWNER.
func (s *Server) AddMember(groupKey, userKey, role string) error {
	if role == "" {
		role = "MEMBER"
	}
	if !slices.Contains([]string{"MEMBER", "MANAGER", "OWNER"}, role) {
		return fmt.Errorf("googlesim: unknown role %q", role)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.lookupGroup(groupKey)
	if g == nil {
		return fmt.Errorf("googlesim: no group %q", groupKey)
	}
	u, err := s.mustUser(userKey)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(g.members, func(m member) bool { return m.userID == u.ID }) {
		return fmt.Errorf("googlesim: %s is already in %s", userKey, groupKey)
	}
	g.members = append(g.members, member{userID: u.ID, role: role})
	return nil
}

// SignOuts returns how many sign-out calls the user received.
func (s *Server) SignOuts(userKey string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.lookup(userKey); u != nil {
		return u.signedOut
	}
	return 0
}

// Holdings lists, in plain words, every access the user still holds: sessions, OAuth tokens,
// app-specific passwords, backup codes, 2-Step Verification, group memberships, an active
// account and data not transferred. It is empty when the user is fully offboarded (or unknown).
func (s *Server) Holdings(identity string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookup(identity)
	if u == nil {
		return nil
	}
	var out []string
	if u.Sessions > 0 {
		out = append(out, fmt.Sprintf("%d signed-in web/device session(s)", u.Sessions))
	}
	for _, t := range u.tokens {
		out = append(out, fmt.Sprintf("OAuth token for %s (%s)", t.DisplayText, t.ClientID))
	}
	for _, a := range u.asps {
		out = append(out, fmt.Sprintf("app-specific password %q (%d)", a.Name, a.CodeID))
	}
	if len(u.codes) > 0 {
		out = append(out, fmt.Sprintf("%d backup verification code(s)", len(u.codes)))
	}
	if u.Enrolled2SV {
		out = append(out, "enrolled in 2-Step Verification")
	}
	for _, id := range s.groupOrd {
		g := s.groups[id]
		for _, m := range g.members {
			if m.userID == u.ID {
				out = append(out, fmt.Sprintf("%s of group %s", strings.ToLower(m.role), g.Email))
			}
		}
	}
	if !u.Suspended {
		out = append(out, "account active (not suspended)")
	}
	if u.OwnsData {
		out = append(out, "Drive and Calendar data not transferred")
	}
	return out
}

// SetEnforced2SV turns a 2-Step Verification enforcement policy on or off for the user, as an
// admin changing their organizational unit's settings would.
func (s *Server) SetEnforced2SV(userKey string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.mustUser(userKey)
	if err != nil {
		return err
	}
	u.Enforced2SV = on
	return nil
}

// RemoveMember removes the user from the group behind the API's back, as another admin would.
func (s *Server) RemoveMember(groupKey, userKey string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, u := s.lookupGroup(groupKey), s.lookup(userKey)
	if g == nil || u == nil {
		return fmt.Errorf("googlesim: no group %q or user %q", groupKey, userKey)
	}
	g.members = slices.DeleteFunc(g.members, func(m member) bool { return m.userID == u.ID })
	return nil
}

// RevokeAccessTokens invalidates every access token issued so far, as Google does when a
// token is revoked or expires early; callers must fetch new ones.
func (s *Server) RevokeAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

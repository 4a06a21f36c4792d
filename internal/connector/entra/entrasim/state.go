package entrasim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Group kinds, as Graph tells them apart by groupTypes, mailEnabled and securityEnabled
// (learn.microsoft.com/graph/api/resources/groups-overview).
const (
	// Security is a security group: securityEnabled, not mail-enabled.
	Security = "security"
	// Microsoft365 is a Microsoft 365 (Unified) group; a Team is one of these.
	Microsoft365 = "microsoft365"
	// MailEnabledSecurity is a mail-enabled security group, managed in Exchange.
	MailEnabledSecurity = "mailEnabledSecurity"
	// Distribution is a distribution list, managed in Exchange.
	Distribution = "distribution"
)

// Authentication method types, named after their Graph navigation collections without the
// "Methods" suffix (apis.md §7: emailMethods, fido2Methods, ...).
const (
	Phone                   = "phone"
	Email                   = "email"
	Fido2                   = "fido2"
	MicrosoftAuthenticator  = "microsoftAuthenticator"
	SoftwareOath            = "softwareOath"
	TemporaryAccessPass     = "temporaryAccessPass"
	WindowsHelloForBusiness = "windowsHelloForBusiness"
	PlatformCredential      = "platformCredential"
	Password                = "password"
)

// methodTypes maps each method type to its OData type name.
var methodTypes = map[string]string{
	Phone:                   "phoneAuthenticationMethod",
	Email:                   "emailAuthenticationMethod",
	Fido2:                   "fido2AuthenticationMethod",
	MicrosoftAuthenticator:  "microsoftAuthenticatorAuthenticationMethod",
	SoftwareOath:            "softwareOathAuthenticationMethod",
	TemporaryAccessPass:     "temporaryAccessPassAuthenticationMethod",
	WindowsHelloForBusiness: "windowsHelloForBusinessAuthenticationMethod",
	PlatformCredential:      "platformCredentialAuthenticationMethod",
	Password:                "passwordAuthenticationMethod",
}

// User is a seeded Entra user. AccountEnabled defaults to true (set Disabled to seed a
// disabled account).
type User struct {
	ID                string
	UserPrincipalName string
	Mail              string
	DisplayName       string
	Disabled          bool
	// Synced marks a user synced from on-premises Active Directory: Graph refuses to change
	// its accountEnabled, which is mastered on premises.
	Synced bool
	// Sessions is how many sign-in sessions (refresh tokens) the user holds; Graph cannot list
	// them, so only Holdings reports them.
	Sessions int
	// SessionsValidFrom is signInSessionsValidFromDateTime; default a day before New's clock.
	SessionsValidFrom time.Time
	// Licenses are SKU IDs assigned to the user directly.
	Licenses []string
}

// Group is a seeded group. Kind is one of Security (the default), Microsoft365,
// MailEnabledSecurity or Distribution. Dynamic groups compute their members from a rule and
// Synced groups are mastered in on-premises Active Directory: Graph refuses membership changes
// to both. Licenses are SKU IDs the group assigns to its members (group-based licensing).
type Group struct {
	ID          string
	DisplayName string
	Kind        string
	Dynamic     bool
	Synced      bool
	// Team marks a Microsoft 365 group that has a team (resourceProvisioningOptions "Team").
	Team           bool
	RoleAssignable bool
	Licenses       []string
}

// AuthMethod is a registered authentication method. Type is one of the method constants.
// PhoneType is mobile, alternateMobile or office for phones. Default marks the user's default
// sign-in method (only a phone, Microsoft Authenticator or software OATH method can be it).
type AuthMethod struct {
	ID        string
	Type      string
	Detail    string
	PhoneType string
	Default   bool
}

type user struct {
	User
	methods       []AuthMethod
	defaultMethod string
	roles         []string
}

type group struct{ Group }

// removable reports whether Graph lets the group's members be changed.
func (g *group) removable() bool {
	return !g.Dynamic && !g.Synced && (g.Kind == Security || g.Kind == Microsoft365)
}

// AddUser adds a user with a password method (every cloud account has one).
func (s *Server) AddUser(u User) error {
	if u.ID == "" || u.UserPrincipalName == "" {
		return errors.New("entrasim: a user needs an ID and a userPrincipalName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.users[u.ID]; dup {
		return fmt.Errorf("entrasim: user %s already exists", u.ID)
	}
	if s.findUserLocked(u.UserPrincipalName) != nil {
		return fmt.Errorf("entrasim: userPrincipalName %s is taken", u.UserPrincipalName)
	}
	if u.SessionsValidFrom.IsZero() {
		u.SessionsValidFrom = s.now().Add(-24 * time.Hour)
	}
	u.SessionsValidFrom = u.SessionsValidFrom.UTC().Truncate(time.Second)
	u.Licenses = slices.Clone(u.Licenses)
	s.users[u.ID] = &user{User: u, methods: []AuthMethod{{
		ID: "28c10230-6103-485e-b985-444c60001490", Type: Password, Detail: "password",
	}}}
	s.userOrder = append(s.userOrder, u.ID)
	return nil
}

// AddGroup adds a group.
func (s *Server) AddGroup(g Group) error {
	if g.ID == "" || g.DisplayName == "" {
		return errors.New("entrasim: a group needs an ID and a displayName")
	}
	if g.Kind == "" {
		g.Kind = Security
	}
	switch g.Kind {
	case Security, Microsoft365, MailEnabledSecurity, Distribution:
	default:
		return fmt.Errorf("entrasim: unknown group kind %q", g.Kind)
	}
	if g.Team && g.Kind != Microsoft365 {
		return errors.New("entrasim: only a Microsoft 365 group can have a team")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.groups[g.ID]; dup {
		return fmt.Errorf("entrasim: group %s already exists", g.ID)
	}
	g.Licenses = slices.Clone(g.Licenses)
	s.groups[g.ID] = &group{Group: g}
	return nil
}

// AddMember makes the user a direct member of the group, whatever its kind (seeding stands
// for the rule, the sync engine or Exchange that put them there).
func (s *Server) AddMember(groupID, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[groupID] == nil {
		return fmt.Errorf("entrasim: no group %s", groupID)
	}
	if s.users[userID] == nil {
		return fmt.Errorf("entrasim: no user %s", userID)
	}
	if slices.Contains(s.members[groupID], userID) {
		return fmt.Errorf("entrasim: %s is already a member of %s", userID, groupID)
	}
	s.members[groupID] = append(s.members[groupID], userID)
	return nil
}

// AddRole makes the user a member of a directory role (shown by memberOf as a
// directoryRole), such as "Global Administrator".
func (s *Server) AddRole(userID, roleName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if u == nil {
		return fmt.Errorf("entrasim: no user %s", userID)
	}
	u.roles = append(u.roles, roleName)
	return nil
}

// AddAuthMethod registers an authentication method for the user.
func (s *Server) AddAuthMethod(userID string, m AuthMethod) error {
	if _, ok := methodTypes[m.Type]; !ok || m.Type == Password {
		return fmt.Errorf("entrasim: unknown or unseedable method type %q", m.Type)
	}
	if m.ID == "" {
		return errors.New("entrasim: a method needs an ID")
	}
	if m.Type == Phone && !slices.Contains([]string{"mobile", "alternateMobile", "office"}, m.PhoneType) {
		return fmt.Errorf("entrasim: phone type %q is not mobile, alternateMobile or office", m.PhoneType)
	}
	if m.Default && !slices.Contains([]string{Phone, MicrosoftAuthenticator, SoftwareOath}, m.Type) {
		return fmt.Errorf("entrasim: a %s method cannot be the default sign-in method", m.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if u == nil {
		return fmt.Errorf("entrasim: no user %s", userID)
	}
	if slices.ContainsFunc(u.methods, func(x AuthMethod) bool { return x.ID == m.ID }) {
		return fmt.Errorf("entrasim: method %s already exists", m.ID)
	}
	u.methods = append(u.methods, m)
	if m.Default {
		u.defaultMethod = m.ID
	}
	return nil
}

// findUserLocked finds a user by object ID or userPrincipalName (Graph's /users/{id|upn}).
func (s *Server) findUserLocked(idOrUPN string) *user {
	if u := s.users[idOrUPN]; u != nil {
		return u
	}
	for _, id := range s.userOrder {
		if strings.EqualFold(s.users[id].UserPrincipalName, idOrUPN) {
			return s.users[id]
		}
	}
	return nil
}

// groupsOfLocked lists the groups the user is a direct member of, in group ID order.
func (s *Server) groupsOfLocked(userID string) []*group {
	var out []*group
	for gid, ms := range s.members {
		if slices.Contains(ms, userID) {
			out = append(out, s.groups[gid])
		}
	}
	slices.SortFunc(out, func(a, b *group) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// licenseStatesLocked is the user's licenseAssignmentStates: direct SKUs (assignedByGroup
// null) and one entry per SKU per licensing group they belong to.
func (s *Server) licenseStatesLocked(u *user) []map[string]any {
	var out []map[string]any
	state := func(sku string, by any) map[string]any {
		return map[string]any{"skuId": sku, "assignedByGroup": by, "state": "Active", "error": "None", "disabledPlans": []string{}}
	}
	for _, sku := range u.Licenses {
		out = append(out, state(sku, nil))
	}
	for _, g := range s.groupsOfLocked(u.ID) {
		for _, sku := range g.Licenses {
			out = append(out, state(sku, g.ID))
		}
	}
	return out
}

// Holdings lists every access the identity (object ID, userPrincipalName or mail) still
// holds: sign-in sessions, an enabled account, memberships of groups Graph can change,
// directory roles, authentication methods other than the password, and direct licences. It is
// empty once the person is fully offboarded (or unknown).
func (s *Server) Holdings(identity string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findUserLocked(identity)
	if u == nil {
		for _, id := range s.userOrder {
			if s.users[id].Mail != "" && strings.EqualFold(s.users[id].Mail, identity) {
				u = s.users[id]
			}
		}
	}
	if u == nil {
		return nil
	}
	var out []string
	if !u.Disabled {
		out = append(out, "account enabled")
	}
	if u.Sessions > 0 {
		out = append(out, fmt.Sprintf("%d sign-in session(s)", u.Sessions))
	}
	for _, g := range s.groupsOfLocked(u.ID) {
		if g.removable() {
			out = append(out, fmt.Sprintf("member of %s group %s (%s)", g.Kind, g.DisplayName, g.ID))
		}
	}
	for _, r := range u.roles {
		out = append(out, "directory role "+r)
	}
	for _, m := range u.methods {
		if m.Type != Password {
			out = append(out, fmt.Sprintf("authentication method %s %s (%s)", m.Type, m.Detail, m.ID))
		}
	}
	for _, sku := range u.Licenses {
		out = append(out, "licence "+sku+" (direct)")
	}
	return out
}

// SetDefaultMethod makes the method the user's default sign-in method, as the user can at any
// time (in My Sign-ins), for example between a plan and its apply.
func (s *Server) SetDefaultMethod(userID, methodID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if u == nil {
		return fmt.Errorf("entrasim: no user %s", userID)
	}
	if !slices.ContainsFunc(u.methods, func(m AuthMethod) bool { return m.ID == methodID && m.Type != Password }) {
		return fmt.Errorf("entrasim: user %s has no method %s that can be the default", userID, methodID)
	}
	u.defaultMethod = methodID
	return nil
}

// AccountEnabled reports a user's accountEnabled, and false for an unknown user.
func (s *Server) AccountEnabled(userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findUserLocked(userID)
	return u != nil && !u.Disabled
}

// Members lists a group's direct members.
func (s *Server) Members(groupID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.members[groupID])
}

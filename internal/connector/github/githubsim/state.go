package githubsim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Roles and repository permissions as GitHub names them.
const (
	RoleOwner  = "admin"  // organization owner (membership role "admin")
	RoleMember = "member" // ordinary member
	PermAdmin  = "admin"
	PermWrite  = "write"
	PermRead   = "read"
)

// Credential types as the credential-authorizations endpoint names them.
const (
	CredentialPAT    = "personal access token"
	CredentialSSHKey = "SSH key"
)

// User is a GitHub account known to the simulator (a login and its emails).
type User struct {
	Login string
	ID    int64
	Email string
}

// Repo is a repository of the organization.
type Repo struct {
	Name string
	// Secrets are the names of the repository's Actions secrets (values are never readable).
	Secrets []string
}

// Credential is one SAML SSO credential authorization: a PAT or an SSH key a member
// authorized for the organization.
type Credential struct {
	ID             int64
	Login          string
	Type           string // CredentialPAT or CredentialSSHKey
	TokenLastEight string // PATs
	Fingerprint    string // SSH keys
	Title          string
	Scopes         []string
}

// Invitation is a pending invitation to the organization, by login or by email.
type Invitation struct {
	ID    int64
	Login string
	Email string
	Role  string // "direct_member" or "admin"
}

// Identity is a SAML external identity linked to a GitHub login.
type Identity struct {
	Login  string
	NameID string
	Emails []string
}

type repo struct {
	name    string
	collabs map[string]string // login → permission (direct collaborators)
	secrets []string
}

type state struct {
	users       map[string]*User  // lower-case login → user
	members     map[string]string // lower-case login → role
	repos       map[string]*repo
	orgSecrets  []string
	creds       []Credential
	invitations []Invitation
	identities  []Identity
}

func newState() state {
	return state{users: map[string]*User{}, members: map[string]string{}, repos: map[string]*repo{}}
}

func key(login string) string { return strings.ToLower(login) }

func (s *Server) id() int64 { s.nextID++; return s.nextID }

// AddUser registers a GitHub account (it need not belong to the organization).
func (s *Server) AddUser(u User) error {
	if u.Login == "" {
		return errors.New("githubsim: user needs a login")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.users[key(u.Login)] != nil {
		return fmt.Errorf("githubsim: user %s exists", u.Login)
	}
	if u.ID == 0 {
		u.ID = s.id()
	}
	s.state.users[key(u.Login)] = &u
	return nil
}

func (s *Server) userLocked(login string) (*User, error) {
	u := s.state.users[key(login)]
	if u == nil {
		return nil, fmt.Errorf("githubsim: no user %s (AddUser first)", login)
	}
	return u, nil
}

// AddMember makes an existing user a member (role RoleMember) or owner (RoleOwner).
func (s *Server) AddMember(login, role string) error {
	if role != RoleOwner && role != RoleMember {
		return fmt.Errorf("githubsim: role %q is not %q or %q", role, RoleOwner, RoleMember)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.userLocked(login); err != nil {
		return err
	}
	s.state.members[key(login)] = role
	return nil
}

// AddRepo creates a repository with the given Actions secret names.
func (s *Server) AddRepo(r Repo) error {
	if r.Name == "" || strings.Contains(r.Name, "/") {
		return fmt.Errorf("githubsim: bad repository name %q", r.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.repos[key(r.Name)] != nil {
		return fmt.Errorf("githubsim: repository %s exists", r.Name)
	}
	s.state.repos[key(r.Name)] = &repo{name: r.Name, collabs: map[string]string{}, secrets: slices.Clone(r.Secrets)}
	return nil
}

// AddCollaborator gives a user direct access to a repository. A user who is not a member
// becomes an outside collaborator.
func (s *Server) AddCollaborator(repoName, login, permission string) error {
	if permission != PermAdmin && permission != PermWrite && permission != PermRead {
		return fmt.Errorf("githubsim: bad permission %q", permission)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.state.repos[key(repoName)]
	if r == nil {
		return fmt.Errorf("githubsim: no repository %s", repoName)
	}
	if _, err := s.userLocked(login); err != nil {
		return err
	}
	r.collabs[key(login)] = permission
	return nil
}

// AddOrgSecret adds an organization-level Actions secret name.
func (s *Server) AddOrgSecret(name string) error {
	if name == "" {
		return errors.New("githubsim: secret needs a name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.orgSecrets = append(s.state.orgSecrets, name)
	return nil
}

// AddCredential records a SAML SSO credential authorization for a member; its ID is returned.
func (s *Server) AddCredential(c Credential) (int64, error) {
	if c.Type != CredentialPAT && c.Type != CredentialSSHKey {
		return 0, fmt.Errorf("githubsim: credential type %q is not %q or %q", c.Type, CredentialPAT, CredentialSSHKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.userLocked(c.Login); err != nil {
		return 0, err
	}
	if c.ID == 0 {
		c.ID = s.id()
	}
	s.state.creds = append(s.state.creds, c)
	return c.ID, nil
}

// AddInvitation records a pending invitation by login or email; its ID is returned.
func (s *Server) AddInvitation(inv Invitation) (int64, error) {
	if inv.Login == "" && inv.Email == "" {
		return 0, errors.New("githubsim: invitation needs a login or an email")
	}
	if inv.Role == "" {
		inv.Role = "direct_member"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv.Login != "" {
		if _, err := s.userLocked(inv.Login); err != nil {
			return 0, err
		}
	}
	if inv.ID == 0 {
		inv.ID = s.id()
	}
	s.state.invitations = append(s.state.invitations, inv)
	return inv.ID, nil
}

// AcceptInvitation accepts a pending invitation of a login, as its invitee would: it is no
// longer pending and the invitee is an active member.
func (s *Server) AcceptInvitation(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, inv := range s.state.invitations {
		if inv.ID != id {
			continue
		}
		if inv.Login == "" {
			return fmt.Errorf("githubsim: invitation %d is for an email, which only a signed-in user can accept", id)
		}
		s.state.invitations = slices.Delete(s.state.invitations, i, i+1)
		role := RoleMember
		if inv.Role == "admin" {
			role = RoleOwner
		}
		s.state.members[key(inv.Login)] = role
		return nil
	}
	return fmt.Errorf("githubsim: no pending invitation %d", id)
}

// AddIdentity links a SAML external identity to a login.
func (s *Server) AddIdentity(id Identity) error {
	if id.NameID == "" {
		return errors.New("githubsim: identity needs a nameId")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id.Login != "" {
		if _, err := s.userLocked(id.Login); err != nil {
			return err
		}
	}
	s.state.identities = append(s.state.identities, id)
	return nil
}

// Holdings lists every access identity (a login, or an email for invitations) still holds in
// the organization: membership, repository access, credential authorizations (even those the
// API no longer lists because the login left the organization) and pending invitations. It is
// empty when the identity is fully offboarded.
func (s *Server) Holdings(identity string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(identity)
	var out []string
	if role, ok := s.state.members[k]; ok {
		out = append(out, fmt.Sprintf("member of organization %s (role %s)", s.opts.Org, role))
	}
	for _, r := range s.sortedReposLocked() {
		if p, ok := r.collabs[k]; ok {
			out = append(out, fmt.Sprintf("collaborator on %s/%s (%s)", s.opts.Org, r.name, p))
		}
	}
	for _, c := range s.state.creds {
		if key(c.Login) == k {
			out = append(out, fmt.Sprintf("SAML SSO credential authorization %d (%s)", c.ID, c.Type))
		}
	}
	for _, inv := range s.state.invitations {
		if key(inv.Login) == k || (inv.Email != "" && strings.EqualFold(inv.Email, identity)) {
			out = append(out, fmt.Sprintf("pending invitation %d to organization %s", inv.ID, s.opts.Org))
		}
	}
	return out
}

func (s *Server) sortedReposLocked() []*repo {
	out := make([]*repo, 0, len(s.state.repos))
	for _, r := range s.state.repos {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *repo) int { return strings.Compare(a.name, b.name) })
	return out
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

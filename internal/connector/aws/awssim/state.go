package awssim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// User is a seeded IAM user. Path defaults to "/"; tags keep their order.
type User struct {
	Name string
	Path string
	Tags []Tag
}

// Tag is one IAM tag.
type Tag struct{ Key, Value string }

// AccessKey is a seeded access key. Status defaults to Active; a zero LastUsed means never
// used.
type AccessKey struct {
	ID          string
	Status      string
	LastUsed    time.Time
	LastService string
	LastRegion  string
}

// MFADevice is a seeded MFA device. A virtual device's serial is the ARN of the virtual
// device ("arn:aws:iam::<account>:mfa/<name>", made from the user's name when Serial is
// empty); a hardware device has a plain serial number.
type MFADevice struct {
	Serial  string
	Virtual bool
}

// Credential is a seeded SSH public key, signing certificate or service-specific credential.
// Status defaults to Active; Service names the service of a service-specific credential
// (default codecommit.amazonaws.com).
type Credential struct {
	ID      string
	Status  string
	Service string
}

// Session is a set of temporary credentials issued to a user (console sign-in or
// GetSessionToken), which IAM can neither list nor revoke. It lasts Duration from IssuedAt
// (default 12 hours, the STS default) unless a deny-everything policy covering its issue time
// is attached to the user.
type Session struct {
	ID       string
	IssuedAt time.Time
	Duration time.Duration
}

type user struct {
	name, path, id string
	created        time.Time
	tags           []Tag
	loginProfile   *time.Time
	keys           []*key
	mfa            []mfaDevice
	ssh, certs     []*cred
	service        []*cred
	groups         []string // lower-cased group names, in the order joined
	attached       []string // policy ARNs
	inline         []inlinePolicy
	sessions       []Session
}

type key struct {
	AccessKey
	created time.Time
}

type mfaDevice struct {
	serial  string
	enabled time.Time
}

type cred struct {
	Credential
	created time.Time
}

type inlinePolicy struct{ name, doc string }

type group struct {
	name, path, id string
	created        time.Time
}

var (
	namePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	pathPattern = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
)

func (s *Server) userARN(path, name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:user%s%s", s.opts.AccountID, path, name)
}

func (s *Server) nextID(prefix string) string {
	return fmt.Sprintf("%s%016X", prefix, s.idSeq.Add(1))
}

// lookup returns the user named name (case-insensitively, as IAM compares names).
func (s *Server) lookup(name string) *user { return s.users[strings.ToLower(name)] }

func (s *Server) mustUser(name string) (*user, error) {
	u := s.lookup(name)
	if u == nil {
		return nil, fmt.Errorf("awssim: no user %q", name)
	}
	return u, nil
}

// AddUser creates an IAM user.
func (s *Server) AddUser(in User) error {
	if !namePattern.MatchString(in.Name) {
		return fmt.Errorf("awssim: invalid user name %q", in.Name)
	}
	if in.Path == "" {
		in.Path = "/"
	}
	if !pathPattern.MatchString(in.Path) {
		return fmt.Errorf("awssim: invalid path %q", in.Path)
	}
	if len(in.Tags) > 50 {
		return fmt.Errorf("awssim: user %s: more than 50 tags", in.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lookup(in.Name) != nil {
		return fmt.Errorf("awssim: user %q exists", in.Name)
	}
	s.users[strings.ToLower(in.Name)] = &user{name: in.Name, path: in.Path, id: s.nextID("AIDA"), created: s.now(), tags: slices.Clone(in.Tags)}
	return nil
}

// AddLoginProfile gives the user a console password.
func (s *Server) AddLoginProfile(userName string) error {
	return s.edit(userName, func(u *user) error {
		t := s.now()
		u.loginProfile = &t
		return nil
	})
}

// AddAccessKey gives the user an access key (at most two, as IAM allows).
func (s *Server) AddAccessKey(userName string, k AccessKey) error {
	if k.Status == "" {
		k.Status = "Active"
	}
	if k.ID == "" || (k.Status != "Active" && k.Status != "Inactive") {
		return fmt.Errorf("awssim: access key needs an ID and status Active or Inactive")
	}
	return s.edit(userName, func(u *user) error {
		if len(u.keys) >= 2 {
			return fmt.Errorf("awssim: user %s already has two access keys", u.name)
		}
		if _, taken := s.keyOwner[k.ID]; taken {
			return fmt.Errorf("awssim: access key %s exists", k.ID)
		}
		s.keyOwner[k.ID] = strings.ToLower(u.name)
		u.keys = append(u.keys, &key{AccessKey: k, created: s.now()})
		return nil
	})
}

// AddMFADevice assigns an MFA device to the user and returns its serial number.
func (s *Server) AddMFADevice(userName string, d MFADevice) (string, error) {
	var serial string
	err := s.edit(userName, func(u *user) error {
		serial = d.Serial
		if serial == "" {
			if !d.Virtual {
				return fmt.Errorf("awssim: a hardware MFA device needs a serial number")
			}
			serial = fmt.Sprintf("arn:aws:iam::%s:mfa/%s", s.opts.AccountID, u.name)
		}
		if d.Virtual {
			if owner, ok := s.virtual[serial]; ok && owner != "" {
				return fmt.Errorf("awssim: virtual MFA device %s is assigned", serial)
			}
			s.virtual[serial] = strings.ToLower(u.name)
		}
		u.mfa = append(u.mfa, mfaDevice{serial: serial, enabled: s.now()})
		return nil
	})
	return serial, err
}

// AddSSHKey uploads an SSH public key for the user (used with CodeCommit).
func (s *Server) AddSSHKey(userName string, c Credential) error {
	return s.addCred(userName, c, func(u *user) *[]*cred { return &u.ssh })
}

// AddSigningCertificate uploads an X.509 signing certificate for the user.
func (s *Server) AddSigningCertificate(userName string, c Credential) error {
	return s.addCred(userName, c, func(u *user) *[]*cred { return &u.certs })
}

// AddServiceCredential creates a service-specific credential (a CodeCommit or Keyspaces
// password) for the user.
func (s *Server) AddServiceCredential(userName string, c Credential) error {
	if c.Service == "" {
		c.Service = "codecommit.amazonaws.com"
	}
	return s.addCred(userName, c, func(u *user) *[]*cred { return &u.service })
}

func (s *Server) addCred(userName string, c Credential, field func(*user) *[]*cred) error {
	if c.Status == "" {
		c.Status = "Active"
	}
	if c.ID == "" || (c.Status != "Active" && c.Status != "Inactive") {
		return fmt.Errorf("awssim: credential needs an ID and status Active or Inactive")
	}
	return s.edit(userName, func(u *user) error {
		list := field(u)
		*list = append(*list, &cred{Credential: c, created: s.now()})
		return nil
	})
}

// AddGroup creates an IAM group. Path defaults to "/".
func (s *Server) AddGroup(name, path string) error {
	if path == "" {
		path = "/"
	}
	if !namePattern.MatchString(name) || !pathPattern.MatchString(path) {
		return fmt.Errorf("awssim: invalid group name %q or path %q", name, path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[strings.ToLower(name)] != nil {
		return fmt.Errorf("awssim: group %q exists", name)
	}
	s.groups[strings.ToLower(name)] = &group{name: name, path: path, id: s.nextID("AGPA"), created: s.now()}
	return nil
}

// AddToGroup makes the user a member of the group.
func (s *Server) AddToGroup(userName, groupName string) error {
	return s.edit(userName, func(u *user) error {
		g := s.groups[strings.ToLower(groupName)]
		if g == nil {
			return fmt.Errorf("awssim: no group %q", groupName)
		}
		if !slices.Contains(u.groups, strings.ToLower(g.name)) {
			u.groups = append(u.groups, strings.ToLower(g.name))
		}
		return nil
	})
}

// AttachPolicy attaches a managed policy (AWS-managed or the account's) to the user.
func (s *Server) AttachPolicy(userName, policyARN string) error {
	name, ok := policyName(policyARN)
	if !ok {
		return fmt.Errorf("awssim: %q is not a managed policy ARN", policyARN)
	}
	return s.edit(userName, func(u *user) error {
		s.policies[policyARN] = name
		if !slices.Contains(u.attached, policyARN) {
			u.attached = append(u.attached, policyARN)
		}
		return nil
	})
}

// policyName returns the name in a managed policy ARN such as
// arn:aws:iam::aws:policy/ReadOnlyAccess or arn:aws:iam::123456789012:policy/team/Deploy.
func policyName(arn string) (string, bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok {
		return "", false
	}
	_, path, ok := strings.Cut(rest, ":policy/")
	if !ok || path == "" || strings.HasSuffix(path, "/") {
		return "", false
	}
	return path[strings.LastIndex(path, "/")+1:], true
}

// PutInlinePolicy embeds an inline policy in the user.
func (s *Server) PutInlinePolicy(userName, policy, document string) error {
	if _, err := parsePolicy(document); err != nil {
		return fmt.Errorf("awssim: policy %s: %w", policy, err)
	}
	return s.edit(userName, func(u *user) error {
		u.putInline(policy, document)
		return nil
	})
}

// AddSession records temporary credentials issued to the user; IssuedAt defaults to now.
func (s *Server) AddSession(userName string, sess Session) error {
	if sess.ID == "" {
		return fmt.Errorf("awssim: session needs an ID")
	}
	if sess.Duration <= 0 {
		sess.Duration = 12 * time.Hour
	}
	return s.edit(userName, func(u *user) error {
		if sess.IssuedAt.IsZero() {
			sess.IssuedAt = s.now()
		}
		u.sessions = append(u.sessions, sess)
		return nil
	})
}

func (s *Server) edit(userName string, fn func(*user) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.mustUser(userName)
	if err != nil {
		return err
	}
	return fn(u)
}

func (u *user) putInline(name, doc string) {
	for i := range u.inline {
		if strings.EqualFold(u.inline[i].name, name) {
			u.inline[i].doc = doc
			return
		}
	}
	u.inline = append(u.inline, inlinePolicy{name: name, doc: doc})
}

// Exists reports whether the user exists.
func (s *Server) Exists(userName string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookup(userName) != nil
}

// TagsOf returns the user's tags, nil when there is no such user.
func (s *Server) TagsOf(userName string) []Tag {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.lookup(userName); u != nil {
		return slices.Clone(u.tags)
	}
	return nil
}

// InlinePolicy returns the document of the user's inline policy, "" when absent.
func (s *Server) InlinePolicy(userName, policy string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.lookup(userName); u != nil {
		for _, p := range u.inline {
			if strings.EqualFold(p.name, policy) {
				return p.doc
			}
		}
	}
	return ""
}

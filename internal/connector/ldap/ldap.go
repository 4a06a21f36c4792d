// Package ldap offboards a person from an LDAP directory (OpenLDAP and similar) or from Active
// Directory over LDAP: it removes them from every group that lists them (groupOfNames member,
// groupOfUniqueNames uniqueMember, posixGroup memberUid), then disables the account, and
// verifies each change by reading the entry back.
//
// The account is disabled, never deleted: on OpenLDAP by setting a configured attribute (by
// default the ppolicy overlay's pwdAccountLockedTime=000001010000Z, a permanent lock) or by
// moving the entry to a disabled OU; on Active Directory by setting ACCOUNTDISABLE (0x2) in
// userAccountControl, keeping every other bit. Every action records what it replaces so a
// rehire can be restored exactly. The operator page is docs/connectors/ldap.md.
package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/connector"
)

// System is the connector's default name in plans, tickets and audit records.
const System = "ldap"

// Directory flavours.
const (
	FlavorOpenLDAP = "openldap"
	FlavorAD       = "ad"
)

// Action kinds. They are part of the stored contract and never change.
const (
	KindRemoveGroup = "remove_group"
	// KindDisable sets the lock attribute (OpenLDAP) or ACCOUNTDISABLE (AD).
	KindDisable = "disable_account"
	// KindMoveDisabled moves the entry under the disabled OU (OpenLDAP, DisabledOU set).
	KindMoveDisabled = "move_to_disabled_ou"
)

var kindOrder = []string{KindRemoveGroup, KindDisable, KindMoveDisabled}

// Defaults.
const (
	DefaultUserFilter   = "(|(mail={email})(uid={uid}))"
	DefaultADUserFilter = "(|(mail={email})(userPrincipalName={email}))"
	DefaultLockAttr     = "pwdAccountLockedTime"
	// DefaultLockValue is ppolicy's "locked until an administrator unlocks it".
	DefaultLockValue = "000001010000Z"
	DefaultTimeout   = 30 * time.Second
	// DefaultMaxConns caps the connections one connector holds open at once.
	DefaultMaxConns = 8
)

// Disable says how an OpenLDAP account is disabled: either Attribute is replaced with Value,
// or (DisabledOU set) the entry is moved under DisabledOU. Active Directory ignores it.
type Disable struct {
	Attribute string
	Value     string
	// DisabledOU, e.g. "ou=disabled,dc=example,dc=org", moves the entry there (ModifyDN)
	// instead of setting an attribute.
	DisabledOU string
}

// Config is how to reach one directory.
type Config struct {
	// Name is the system name in plans; default "ldap".
	Name string
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool
	// CAFile is a PEM bundle to trust beside the system roots (for a private CA).
	CAFile string
	// InsecureSkipVerify disables certificate checks. Discouraged: set CAFile instead.
	InsecureSkipVerify bool
	// BindDN and BindPassword are the service account's credentials. The password is never
	// logged or put in errors.
	BindDN, BindPassword string
	// BaseDN is where people are searched.
	BaseDN string
	// GroupBaseDN is where groups are searched; default BaseDN.
	GroupBaseDN string
	// Flavor is "openldap" (default) or "ad".
	Flavor string
	// UserFilter finds the person; {email} and {uid} are replaced by escaped values, {uid}
	// being the person's ldap handle or their email's local part.
	UserFilter string
	// Disable is the OpenLDAP disabling method; default pwdAccountLockedTime=000001010000Z.
	Disable Disable
	// Timeout bounds each LDAP operation (and the dial); default 30 s.
	Timeout time.Duration
	// MaxConns caps connections open at once; default 8.
	MaxConns int
}

// Connector offboards people from one directory. It is safe for concurrent use; each
// operation uses its own connection, at most MaxConns at once.
type Connector struct {
	cfg   Config
	tls   *tls.Config
	url   *url.URL
	slots chan struct{}
	now   func() time.Time
}

// New validates cfg and returns a connector. It does not connect.
func New(cfg Config) (*Connector, error) {
	var problems []string
	if cfg.Name == "" {
		cfg.Name = System
	}
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil || u.Host == "":
		problems = append(problems, fmt.Sprintf("url %q is not an ldap:// or ldaps:// URL", cfg.URL))
	case u.Scheme != "ldap" && u.Scheme != "ldaps":
		problems = append(problems, fmt.Sprintf("url scheme %q is not ldap or ldaps", u.Scheme))
	case u.Scheme == "ldaps" && cfg.StartTLS:
		problems = append(problems, "start_tls applies to ldap:// URLs; an ldaps:// URL is already encrypted")
	}
	if cfg.BaseDN == "" {
		problems = append(problems, "base_dn is required")
	} else if _, err := goldap.ParseDN(cfg.BaseDN); err != nil {
		problems = append(problems, fmt.Sprintf("base_dn is not a DN: %v", err))
	}
	if cfg.GroupBaseDN == "" {
		cfg.GroupBaseDN = cfg.BaseDN
	}
	if cfg.BindDN == "" || cfg.BindPassword == "" {
		// An empty password would be an unauthenticated bind, which servers accept as anonymous.
		problems = append(problems, "bind_dn and bind_password are required (an empty password is an anonymous bind)")
	}
	switch cfg.Flavor {
	case "", FlavorOpenLDAP:
		cfg.Flavor = FlavorOpenLDAP
		if cfg.UserFilter == "" {
			cfg.UserFilter = DefaultUserFilter
		}
		problems = append(problems, cfg.Disable.normalise()...)
	case FlavorAD:
		if cfg.Disable != (Disable{}) {
			problems = append(problems, "disable settings are for OpenLDAP; Active Directory accounts are disabled through userAccountControl")
		}
		if cfg.UserFilter == "" {
			cfg.UserFilter = DefaultADUserFilter
		}
	default:
		problems = append(problems, fmt.Sprintf("flavor %q is not openldap or ad", cfg.Flavor))
	}
	if _, err := goldap.CompileFilter(expandFilter(cfg.UserFilter, "x@example.org", "x")); err != nil {
		problems = append(problems, fmt.Sprintf("user_filter %q is not a valid LDAP filter: %v", cfg.UserFilter, err))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	tc, err := tlsConfig(cfg, u)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: invalid configuration: %s", cfg.Name, strings.Join(problems, "; "))
	}
	return &Connector{cfg: cfg, tls: tc, url: u, slots: make(chan struct{}, cfg.MaxConns), now: time.Now}, nil
}

func (d *Disable) normalise() []string {
	if d.DisabledOU != "" {
		if d.Attribute != "" {
			return []string{"disable: set either an attribute or disabled_ou, not both (a moved entry changes DN under the lock)"}
		}
		if _, err := goldap.ParseDN(d.DisabledOU); err != nil {
			return []string{fmt.Sprintf("disable.disabled_ou is not a DN: %v", err)}
		}
		return nil
	}
	if d.Attribute == "" {
		d.Attribute, d.Value = DefaultLockAttr, DefaultLockValue
	}
	if d.Value == "" {
		return []string{"disable.value is required with disable.attribute"}
	}
	return nil
}

func tlsConfig(cfg Config, u *url.URL) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // opt-in, documented as discouraged
	if u != nil {
		tc.ServerName = u.Hostname()
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %v", err)
		}
		// Trusted beside the system's roots, so a directory moving to a public CA keeps working.
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// System returns the configured system name.
func (c *Connector) System() string { return c.cfg.Name }

// Check binds and reads the base DN (and the group base DN), proving the address, TLS,
// credentials and read access. It changes nothing.
func (c *Connector) Check(ctx context.Context) error {
	return c.with(ctx, "check", func(l *goldap.Conn) error {
		for _, dn := range []string{c.cfg.BaseDN, c.cfg.GroupBaseDN} {
			req := goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 0, false, "(objectClass=*)", []string{"1.1"}, nil)
			if _, err := l.Search(req); err != nil {
				if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
					return connector.Permanent(fmt.Errorf("%s does not exist or the bind DN cannot see it: %w", dn, err))
				}
				return fmt.Errorf("read %s: %w", dn, err)
			}
		}
		return nil
	})
}

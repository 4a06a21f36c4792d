// Package slapd runs a throwaway OpenLDAP server (Debian's slapd) for the LDAP connector's
// tests and for `offboard demo --slapd`: an mdb database for dc=example,dc=org in a temporary
// directory, the core, cosine, inetorgperson and nis schemas, the ppolicy overlay when the
// installed slapd has it, and a self-signed certificate generated here so that LDAPS and
// StartTLS can be tested too.
//
// The ppolicy overlay only enforces pwdAccountLockedTime for accounts under a password policy
// with pwdLockout: TRUE, so the server is set up as a real directory using the lock would be:
// a default policy (DefaultPolicyDN) with pwdLockout: TRUE, configured as the overlay's
// olcPPolicyDefault, which the service accounts may read in cn=config. Options take either
// away, to test a lock that is not enforced or cannot be checked.
//
// In tests (Start), when slapd is not installed the test is skipped with a message saying so,
// unless OFFBOARD_REQUIRE_SLAPD=1 is set (CI sets it), in which case it fails: a directory
// connector whose tests silently did not run must not pass the build.
package slapd

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Paths of Debian's OpenLDAP packages.
const (
	slapdPath  = "/usr/sbin/slapd"
	schemaDir  = "/etc/ldap/schema"
	moduleDir  = "/usr/lib/ldap"
	requireEnv = "OFFBOARD_REQUIRE_SLAPD"
)

// The directory every server holds, and its administrator (the rootdn, which no ACL limits).
const (
	Suffix   = "dc=example,dc=org"
	RootDN   = "cn=admin," + Suffix
	RootPW   = "slapd-root-secret-5c1e9a"
	startMax = 15 * time.Second
)

// Service accounts every server holds: Writer may change people and groups (offboard's
// least-privilege account), Reader may only read them (to test insufficient access).
const (
	WriterDN = "cn=offboard," + Suffix
	WriterPW = "offboard-writer-secret-7f2d41"
	ReaderDN = "cn=auditor," + Suffix
	ReaderPW = "auditor-reader-secret-0b93ce"
)

// UnlistedPrefix starts the uid of a person whose DN, as a group's member value, the service
// accounts may search for and delete but not read: reading the group back leaves it out while
// the server's (member=<DN>) filter still finds it, as Active Directory leaves out all but
// the first 1500 values of a large group (member;range=0-1499). It lets the connector's
// handling of incomplete value lists be tested against a real server.
const UnlistedPrefix = "unlisted-"

// Where password policies live. DefaultPolicyDN is the overlay's default policy (unless
// Options.NoDefaultPolicy); AddPolicy adds others beside it.
const (
	PolicyBase      = "ou=policies," + Suffix
	DefaultPolicyDN = "cn=default," + PolicyBase
)

// slapdBinary is slapdPath, a variable so the package's own test can pretend it is missing.
var slapdBinary = slapdPath

// Server is one running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:<port>, which accepts StartTLS.
	URL string
	// LDAPSURL is ldaps://127.0.0.1:<port>.
	LDAPSURL string
	// CAFile is the PEM file of the self-signed certificate the server presents, for
	// 127.0.0.1 and localhost.
	CAFile string
	// Roots holds the same certificate.
	Roots *x509.CertPool
	// PPolicy reports whether the ppolicy overlay is loaded, so pwdAccountLockedTime exists.
	PPolicy bool
	// DefaultPolicy is the DN of the overlay's default policy (pwdLockout: TRUE), or "" when
	// the overlay is not loaded or Options.NoDefaultPolicy is set.
	DefaultPolicy string

	dir  string
	cmd  *exec.Cmd
	stop func()
}

// Options change how the password policy is set up. The zero value is the realistic setup:
// a default policy with pwdLockout: TRUE that the service accounts may read in cn=config.
type Options struct {
	// NoDefaultPolicy loads the overlay without a default policy, so no policy applies to an
	// account without pwdPolicySubentry and ppolicy ignores its pwdAccountLockedTime: the
	// account still signs in.
	NoDefaultPolicy bool
	// HideConfig keeps cn=config unreadable to the service accounts, as it is on most
	// directories, so the default policy is enforced but cannot be read by them.
	HideConfig bool
}

// Installed reports whether Debian's slapd is there to run, and if not, why.
func Installed() error {
	if _, err := os.Stat(slapdBinary); err != nil {
		return fmt.Errorf("%s is not installed (apt-get install slapd ldap-utils): %w", slapdBinary, err)
	}
	return nil
}

// Start runs a fresh slapd for t and stops it when t ends. It skips t when slapd is not
// installed (fails when OFFBOARD_REQUIRE_SLAPD=1).
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with the password policy set up as opts says.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	if err := Installed(); err != nil {
		if os.Getenv(requireEnv) == "1" {
			t.Fatalf("%s=1 but %v", requireEnv, err)
		}
		t.Skipf("LDAP tests skipped: %v; set %s=1 to make this a failure", err, requireEnv)
	}
	s, err := LaunchWith(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Launch runs a fresh slapd with its database and configuration in dir (which must exist and
// be empty) and seeds the suffix and the service accounts. Stop ends it.
func Launch(dir string) (*Server, error) { return LaunchWith(dir, Options{}) }

// LaunchWith is Launch with the password policy set up as opts says.
func LaunchWith(dir string, opts Options) (*Server, error) {
	var lastErr error
	for attempt := range 3 { // a port picked free may be taken before slapd binds it
		sub := filepath.Join(dir, fmt.Sprintf("attempt-%d", attempt))
		if err := os.Mkdir(sub, 0o700); err != nil {
			return nil, err
		}
		s, err := launch(sub, opts)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// Stop ends the server; it is safe to call more than once.
func (s *Server) Stop() { s.stop() }

func launch(dir string, opts Options) (*Server, error) {
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, err
	}
	roots, err := writeCert(dir)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	ppolicy := fileExists(filepath.Join(moduleDir, "ppolicy.la"))
	defaultPolicy := ""
	if ppolicy && !opts.NoDefaultPolicy {
		defaultPolicy = DefaultPolicyDN
	}
	if err := os.WriteFile(filepath.Join(dir, "slapd.conf"), []byte(config(dir, ppolicy, defaultPolicy, !opts.HideConfig)), 0o600); err != nil {
		return nil, err
	}
	port, tlsPort := freePort(), freePort()
	if port == 0 || tlsPort == 0 {
		return nil, fmt.Errorf("no free port")
	}
	s := &Server{
		URL:           fmt.Sprintf("ldap://127.0.0.1:%d", port),
		LDAPSURL:      fmt.Sprintf("ldaps://127.0.0.1:%d", tlsPort),
		CAFile:        filepath.Join(dir, "ca.pem"),
		Roots:         roots,
		PPolicy:       ppolicy,
		DefaultPolicy: defaultPolicy,
		dir:           dir,
	}
	var out bytes.Buffer
	// -d 0 keeps slapd in the foreground, so it is our child and dies with us.
	s.cmd = exec.Command(slapdBinary, "-f", filepath.Join(dir, "slapd.conf"), "-h", s.URL+"/ "+s.LDAPSURL+"/", "-d", "0")
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	s.stop = sync.OnceFunc(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-exited
		}
	})
	if err := s.waitReady(exited); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w; slapd said: %s", err, strings.TrimSpace(out.String()))
	}
	if err := s.seedBase(); err != nil {
		s.stop()
		return nil, fmt.Errorf("seed: %w", err)
	}
	return s, nil
}

// config is a slapd.conf: mdb for the suffix, offboard's writer may change people and groups,
// the auditor may only read, neither may read member values naming UnlistedPrefix people, and
// binds check userPassword. With ppolicy, defaultPolicy (if set) is the overlay's default
// policy, and readConfig lets the service accounts read, in cn=config, exactly what the
// connector needs to find it: the overlay entry's olcPPolicyDefault and its database's
// olcSuffix (the ACL docs/connectors/ldap.md suggests).
func config(dir string, ppolicy bool, defaultPolicy string, readConfig bool) string {
	var b strings.Builder
	for _, s := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include %s/%s.schema\n", schemaDir, s)
	}
	fmt.Fprintf(&b, "modulepath %s\nmoduleload back_mdb\n", moduleDir)
	if ppolicy {
		b.WriteString("moduleload ppolicy\n")
	}
	fmt.Fprintf(&b, "pidfile %s/slapd.pid\nargsfile %s/slapd.args\n", dir, dir)
	fmt.Fprintf(&b, "TLSCertificateFile %s/cert.pem\nTLSCertificateKeyFile %s/key.pem\n", dir, dir)
	if readConfig {
		fmt.Fprintf(&b, "database config\naccess to dn.subtree=\"cn=config\" attrs=entry,objectClass,olcSuffix,olcPPolicyDefault by dn.exact=%q read by dn.exact=%q read by * none\n", WriterDN, ReaderDN)
	}
	fmt.Fprintf(&b, "database mdb\nmaxsize 104857600\nsuffix %q\nrootdn %q\nrootpw %s\ndirectory %s/db\n", Suffix, RootDN, RootPW, dir)
	if ppolicy {
		b.WriteString("overlay ppolicy\n")
		if defaultPolicy != "" {
			fmt.Fprintf(&b, "ppolicy_default %q\n", defaultPolicy)
		}
	}
	// Search, compare, disclose and (for the writer) write, but not read: see UnlistedPrefix.
	fmt.Fprintf(&b, "access to attrs=member val.regex=\"^uid=%s.*\" by dn.exact=%q =wscd by dn.exact=%q =scd by * none\n", UnlistedPrefix, WriterDN, ReaderDN)
	fmt.Fprintf(&b, "access to attrs=userPassword by anonymous auth by self write by * none\n")
	fmt.Fprintf(&b, "access to * by dn.exact=%q write by dn.exact=%q read by * none\n", WriterDN, ReaderDN)
	return b.String()
}

func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(startMax)
	for {
		c, err := s.Dial(context.Background())
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("slapd exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("slapd did not accept a bind within %s: %v", startMax, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Dial connects and binds as the root DN, for seeding and inspecting the directory.
func (s *Server) Dial(ctx context.Context) (*goldap.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", strings.TrimPrefix(s.URL, "ldap://"))
	if err != nil {
		return nil, err
	}
	c := goldap.NewConn(nc, false)
	c.Start()
	c.SetTimeout(10 * time.Second)
	if err := c.Bind(RootDN, RootPW); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// TLSConfig trusts the server's certificate.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.Roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// seedBase adds the suffix, the two service accounts and, with ppolicy, ou=policies and the
// default policy.
func (s *Server) seedBase() error {
	entries := []Entry{
		{DN: Suffix, Attrs: map[string][]string{"objectClass": {"dcObject", "organization"}, "dc": {"example"}, "o": {"Example"}}},
		{DN: WriterDN, Attrs: map[string][]string{"objectClass": {"person"}, "cn": {"offboard"}, "sn": {"service"}, "userPassword": {WriterPW}}},
		{DN: ReaderDN, Attrs: map[string][]string{"objectClass": {"person"}, "cn": {"auditor"}, "sn": {"service"}, "userPassword": {ReaderPW}}},
	}
	if s.PPolicy {
		entries = append(entries, Entry{DN: PolicyBase, Attrs: map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"policies"}}})
	}
	if s.DefaultPolicy != "" {
		entries = append(entries, policyEntry("default", true))
	}
	return s.Add(context.Background(), entries...)
}

// policyEntry is the password policy cn=<cn> under PolicyBase with pwdLockout set to lockout.
// It sets no pwdMaxFailure: failed binds must never lock anyone, since the tests bind with
// wrong passwords on purpose, the service accounts' included, and all fall under the default.
func policyEntry(cn string, lockout bool) Entry {
	return Entry{DN: "cn=" + goldap.EscapeDN(cn) + "," + PolicyBase, Attrs: map[string][]string{
		"objectClass":  {"organizationalRole", "pwdPolicy"},
		"cn":           {cn},
		"pwdAttribute": {"userPassword"},
		"pwdLockout":   {strings.ToUpper(fmt.Sprint(lockout))},
	}}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

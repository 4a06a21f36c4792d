package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/connector"
)

// with runs fn on a fresh bound connection, closing it when fn returns or ctx ends, and
// classifies the error (see classify). op names the operation for the message.
func (c *Connector) with(ctx context.Context, op string, fn func(*goldap.Conn) error) error {
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return fmt.Errorf("%s: %s: %w", c.cfg.Name, op, ctx.Err())
	}
	l, stop, err := c.dial(ctx)
	if err == nil {
		err = fn(l)
		stop()
		l.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %s: %w", c.cfg.Name, op, ctx.Err())
		}
		return c.classify(op, err)
	}
	return nil
}

// dial connects (TLS for ldaps://, StartTLS when configured) and binds.
func (c *Connector) dial(ctx context.Context) (conn *goldap.Conn, stop func() bool, err error) {
	timeout := c.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	host := c.url.Host
	if c.url.Port() == "" {
		port := goldap.DefaultLdapPort
		if c.url.Scheme == "ldaps" {
			port = goldap.DefaultLdapsPort
		}
		host = net.JoinHostPort(c.url.Hostname(), port)
	}
	d := net.Dialer{Timeout: timeout}
	var nc net.Conn
	if c.url.Scheme == "ldaps" {
		td := tls.Dialer{NetDialer: &d, Config: c.tls}
		nc, err = td.DialContext(ctx, "tcp", host)
	} else {
		nc, err = d.DialContext(ctx, "tcp", host)
	}
	if err != nil {
		return nil, nil, goldap.NewError(goldap.ErrorNetwork, err)
	}
	l := goldap.NewConn(nc, c.url.Scheme == "ldaps")
	// Closing the connection is how a blocked go-ldap call (the bind included) learns ctx
	// ended; go-ldap's own timeout only bounds each call.
	stop = context.AfterFunc(ctx, func() { l.Close() })
	l.Start()
	l.SetTimeout(timeout)
	if c.cfg.StartTLS {
		tc, verifyErr := c.startTLSConfig()
		if err := l.StartTLS(tc); err != nil {
			stop()
			l.Close()
			if *verifyErr != nil {
				err = *verifyErr
			}
			return nil, nil, fmt.Errorf("starttls: %w", err)
		}
	}
	if err := l.Bind(c.cfg.BindDN, c.cfg.BindPassword); err != nil {
		stop()
		l.Close()
		return nil, nil, fmt.Errorf("bind as %s: %w", c.cfg.BindDN, err)
	}
	return l, stop, nil
}

// Result codes that retrying can fix: the server is busy, unavailable, or out of time, or
// the connection failed.
var transient = []uint16{
	goldap.LDAPResultOperationsError, goldap.LDAPResultTimeLimitExceeded, goldap.LDAPResultAdminLimitExceeded,
	goldap.LDAPResultBusy, goldap.LDAPResultUnavailable, goldap.LDAPResultLoopDetect,
	goldap.LDAPResultOther, goldap.ErrorNetwork, goldap.LDAPResultServerDown, goldap.LDAPResultTimeout,
	goldap.LDAPResultConnectError, goldap.ErrorUnexpectedMessage, goldap.ErrorUnexpectedResponse,
}

// classify wraps err with the system and operation: bad credentials and missing rights are
// permanent with a message saying what to fix; outages and busy servers are plain
// (retryable); any other refusal by the directory is permanent, since repeating the same
// request gets the same answer. The bind password is never part of any message.
func (c *Connector) classify(op string, err error) error {
	wrapped := fmt.Errorf("%s: %s: %w", c.cfg.Name, op, err)
	var le *goldap.Error
	switch {
	case goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials):
		return connector.Permanent(fmt.Errorf("%s: %s: the directory refused the bind DN and its password (invalid credentials, result 49); check bind_dn and bind_password: %w", c.cfg.Name, op, err))
	case goldap.IsErrorWithCode(err, goldap.LDAPResultInsufficientAccessRights):
		return connector.Permanent(fmt.Errorf("%s: %s: insufficient access (result 50): the bind DN %s is not allowed to do this; it needs read access to people and groups under %s and write access to the groups' member attributes and the account's disable attribute: %w", c.cfg.Name, op, c.cfg.BindDN, c.cfg.BaseDN, err))
	case badCertificate(err):
		return connector.Permanent(fmt.Errorf("%s: %s: the server's certificate is not trusted; set ca_file to the CA that issued it: %w", c.cfg.Name, op, err))
	case errors.As(err, &le):
		for _, code := range transient {
			if le.ResultCode == code {
				return wrapped
			}
		}
		return connector.Permanent(wrapped)
	default:
		// Connection failures and anything unrecognised: retryable.
		return wrapped
	}
}

// badCertificate reports a TLS verification failure, which retrying cannot fix.
func badCertificate(err error) bool {
	var (
		ua x509.UnknownAuthorityError
		ci x509.CertificateInvalidError
		hn x509.HostnameError
		ve *tls.CertificateVerificationError
	)
	return errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &hn) || errors.As(err, &ve)
}

// startTLSConfig returns the TLS configuration for one StartTLS handshake and where the
// certificate verification error will be kept. go-ldap reports a failed StartTLS handshake as
// text only, so the verification is done here (the standard library's own checks, in
// VerifyConnection) to keep the typed error: an untrusted certificate is permanent, a dropped
// connection is not.
func (c *Connector) startTLSConfig() (*tls.Config, *error) {
	verifyErr := new(error)
	if c.tls.InsecureSkipVerify {
		return c.tls, verifyErr
	}
	tc := c.tls.Clone()
	tc.InsecureSkipVerify = true //nolint:gosec // verified below with the same roots and name
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		opts := x509.VerifyOptions{Roots: c.tls.RootCAs, DNSName: c.tls.ServerName, Intermediates: x509.NewCertPool()}
		if len(cs.PeerCertificates) == 0 {
			*verifyErr = errors.New("the server presented no certificate")
			return *verifyErr
		}
		for _, cert := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(cert)
		}
		if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
			*verifyErr = &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			return *verifyErr
		}
		return nil
	}
	return tc, verifyErr
}

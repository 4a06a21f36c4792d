package ldap

import (
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/ldap/slapd"
)

// TestEncryptedTransports protects the bind password on the wire: StartTLS and LDAPS work
// with the server's CA, and an untrusted certificate is a permanent error (retrying cannot fix
// it) rather than a silent fallback to plain text.
func TestEncryptedTransports(t *testing.T) {
	t.Parallel()
	srv := slapd.Start(t)
	e := newEnv(t, srv)
	tests := []struct {
		name          string
		edit          func(*Config)
		wantPermanent bool
	}{
		{name: "StartTLS with CA file", edit: func(c *Config) { c.StartTLS, c.CAFile = true, srv.CAFile }},
		{name: "LDAPS with CA file", edit: func(c *Config) { c.URL, c.CAFile = srv.LDAPSURL, srv.CAFile }},
		{name: "StartTLS with skipped verification", edit: func(c *Config) { c.StartTLS, c.InsecureSkipVerify = true, true }},
		{name: "StartTLS without the CA", edit: func(c *Config) { c.StartTLS = true }, wantPermanent: true},
		{name: "LDAPS without the CA", edit: func(c *Config) { c.URL = srv.LDAPSURL }, wantPermanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := e.connector(t, tt.edit)
			pl, err := c.Plan(ctxFor(t), e.danaPerson)
			if tt.wantPermanent {
				if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "ca_file") {
					t.Fatalf("err = %v, want a permanent error pointing at ca_file", err)
				}
				return
			}
			if err != nil || len(pl.Actions) == 0 {
				t.Fatalf("Plan over TLS: %v, %d actions", err, len(pl.Actions))
			}
			if err := c.Check(ctxFor(t)); err != nil {
				t.Fatalf("Check over TLS: %v", err)
			}
		})
	}
}

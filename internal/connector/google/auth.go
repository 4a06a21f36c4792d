package google

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/offboard-dev/offboard/internal/connector"
)

// serviceAccountKey is the part of a service account's key file the connector uses.
//
// golang.org/x/oauth2/google would parse it too, but that package pulls in the GCE metadata
// client, a module this project does not carry; the jwt package does the signing and the
// token exchange, which is what must not be hand-written.
type serviceAccountKey struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

// parseKey reads and checks a key file, saying what is wrong without repeating any of it.
func parseKey(raw string) (serviceAccountKey, error) {
	var k serviceAccountKey
	if strings.TrimSpace(raw) == "" {
		return k, errors.New("credentials_json is empty (it must be the service account's JSON key)")
	}
	if json.Unmarshal([]byte(raw), &k) != nil {
		return k, errors.New("credentials_json is not valid JSON (it must be the service account's JSON key)")
	}
	if k.Type != "service_account" {
		return k, fmt.Errorf("credentials_json is of type %q, not a service account key", k.Type)
	}
	if !strings.Contains(k.ClientEmail, "@") {
		return k, errors.New("credentials_json has no client_email")
	}
	block, _ := pem.Decode([]byte(k.PrivateKey))
	if block == nil {
		return k, errors.New("credentials_json has no PEM private_key")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if _, err1 := x509.ParsePKCS1PrivateKey(block.Bytes); err1 != nil {
			return k, errors.New("credentials_json's private_key is not an RSA key in PKCS#8 or PKCS#1 form")
		}
	}
	return k, nil
}

// tokenCache holds the current access token and fetches a new one when it nears expiry.
type tokenCache struct {
	cfg   *jwt.Config
	hc    *http.Client
	pacer *connector.Pacer

	mu  sync.Mutex
	tok *oauth2.Token
}

func newTokenCache(k serviceAccountKey, subject, tokenURL string, scopes []string, hc *http.Client, pacer *connector.Pacer) *tokenCache {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &tokenCache{
		cfg: &jwt.Config{
			Email:        k.ClientEmail,
			PrivateKey:   []byte(k.PrivateKey),
			PrivateKeyID: k.PrivateKeyID,
			Subject:      subject,
			Scopes:       scopes,
			TokenURL:     tokenURL,
		},
		hc:    hc,
		pacer: pacer,
	}
}

// get returns a token valid for at least another minute, fetching one if needed. Concurrent
// callers share one fetch.
func (t *tokenCache) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != nil && t.tok.AccessToken != "" && time.Until(t.tok.Expiry) > time.Minute {
		return t.tok.AccessToken, nil
	}
	tok, err := t.fetch(ctx)
	if err != nil {
		return "", err
	}
	t.tok = tok
	return tok.AccessToken, nil
}

// drop forgets tok if it is still the cached one, so the next call fetches another.
func (t *tokenCache) drop(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != nil && t.tok.AccessToken == tok {
		t.tok = nil
	}
}

// fetch exchanges a signed assertion for an access token. The jwt package reads its HTTP
// client from the context but does not cancel with it; the transport below does.
func (t *tokenCache) fetch(ctx context.Context) (*oauth2.Token, error) {
	release, err := t.pacer.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	hc := &http.Client{Timeout: t.hc.Timeout, Transport: ctxTransport{ctx: ctx, base: t.hc.Transport}}
	tok, err := t.cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc)).Token()
	if err == nil {
		if tok.Expiry.IsZero() {
			tok.Expiry = time.Now().Add(30 * time.Minute)
		}
		return tok, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, tokenError(err)
}

type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (c ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := c.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r.WithContext(c.ctx))
}

// tokenError classifies a failed token exchange: a refusal is permanent and says what to
// check; throttling and Google's own failures are retried. The message never includes the
// assertion or the key.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		// A transport failure: oauth2 names the token URL and the cause, nothing secret.
		return fmt.Errorf("google: fetch access token: %s", strings.TrimPrefix(err.Error(), "oauth2: "))
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(re.Body, &body)
	what := fmt.Sprintf("HTTP %d", re.Response.StatusCode)
	if body.Error != "" {
		what += " " + body.Error
	}
	if body.Description != "" {
		what += ": " + body.Description
	}
	status := re.Response.StatusCode
	switch {
	case status == http.StatusTooManyRequests:
		wait := connector.RetryAfterHeader(re.Response.Header, time.Now())
		if wait <= 0 {
			wait = 5 * time.Second
		}
		return connector.RetryAfter(wait, fmt.Errorf("google: token endpoint is throttling: %s", what))
	case status >= 500:
		return fmt.Errorf("google: token endpoint failed: %s", what)
	}
	hint := "check that credentials_json is a current key of the service account"
	switch body.Error {
	case "unauthorized_client":
		hint = "the service account's client ID lacks domain-wide delegation for one of the scopes requested; grant every scope in docs/connectors/google.md in the Admin console (Security > API controls > Domain-wide delegation)"
	case "invalid_client":
		hint = "Google does not know the service account in credentials_json (deleted or disabled?)"
	case "invalid_grant":
		if strings.Contains(body.Description, "email") || strings.Contains(body.Description, "User ID") {
			hint = "admin_email is not a user of the Workspace account"
		} else {
			hint = "the key was refused (deleted or rotated key, or a clock more than a few minutes off)"
		}
	}
	return connector.Permanent(fmt.Errorf("google: the token endpoint refused the service account: %s; %s", what, hint))
}

// Check signs in and reads only: the impersonated admin's own user record (which must be an
// administrator), their OAuth tokens (user security scope), their groups (groups scope) and
// the data-transfer applications (data transfer scope). The token exchange itself already
// proves every scope is delegated. A refusal is permanent and names what is missing.
func (c *Connector) Check(ctx context.Context) error {
	var u gUser
	if err := c.get(ctx, userPath(c.admin), nil, &u); err != nil {
		return checkError(err, "read the admin user "+c.admin, "admin_email must be a super administrator")
	}
	if !u.IsAdmin {
		return connector.Permanent(fmt.Errorf("google: %s is not a super administrator; the connector must impersonate one to suspend users and manage their security settings", c.admin))
	}
	checks := []struct {
		path, what, need string
		query            map[string][]string
	}{
		{userPath(u.ID, "tokens"), "list OAuth tokens", "admin.directory.user.security", nil},
		{dirPrefix + "/groups", "list groups", "admin.directory.group.readonly", map[string][]string{"userKey": {u.ID}, "maxResults": {"1"}}},
		{transferPrefix + "/applications", "list data-transfer applications", "admin.datatransfer", map[string][]string{"customerId": {c.customer}, "maxResults": {"1"}}},
	}
	for _, ch := range checks {
		if err := c.get(ctx, ch.path, ch.query, nil); err != nil {
			return checkError(err, ch.what, "the scope "+ch.need+" must be delegated to the service account and requested")
		}
	}
	return nil
}

func checkError(err error, what, hint string) error {
	if connector.StatusOf(err) == http.StatusForbidden {
		return connector.Permanent(fmt.Errorf("google: check: %s refused: %s: %w", what, hint, err))
	}
	return fmt.Errorf("google: check: %s: %w", what, err)
}

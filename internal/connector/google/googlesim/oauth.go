package googlesim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

var errBadNumber = errors.New("not a number")

// jwtBearer is the grant type of RFC 7523 that service accounts use.
const jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// ServiceAccount is a Google Cloud service account with one RSA key, as the simulator knows it
// (the public half) and as the connector uses it (the private half, in the key JSON).
type ServiceAccount struct {
	Email    string
	ClientID string
	KeyID    string
	Key      *rsa.PrivateKey
}

// NewServiceAccount generates a service account with a fresh 2048-bit key, for tests and the
// demo company. Key generation takes a moment; tests should generate once and share.
func NewServiceAccount(email string) (*ServiceAccount, error) {
	if !strings.Contains(email, "@") {
		return nil, fmt.Errorf("googlesim: service account email %q is not an address", email)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("googlesim: generate key: %w", err)
	}
	id := make([]byte, 20)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	// Google's client IDs are 21-digit numbers.
	n := make([]byte, 21)
	for i := range n {
		n[i] = '1' + id[i%len(id)]%9
	}
	return &ServiceAccount{Email: email, ClientID: string(n), KeyID: hex.EncodeToString(id), Key: key}, nil
}

// KeyJSON is the service-account key file Google lets an admin download, in its documented
// layout, with token_uri pointing at tokenURI (the simulator's /token when given).
func (sa *ServiceAccount) KeyJSON(tokenURI string) []byte {
	if tokenURI == "" {
		tokenURI = "https://oauth2.googleapis.com/token"
	}
	_, domain, _ := strings.Cut(sa.Email, "@")
	project, _, _ := strings.Cut(domain, ".")
	out, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  project,
		"private_key_id":              sa.KeyID,
		"private_key":                 sa.PrivateKeyPEM(),
		"client_email":                sa.Email,
		"client_id":                   sa.ClientID,
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   tokenURI,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
	}, "", "  ")
	return out
}

// PrivateKeyPEM is the PEM text of the key, as it appears (JSON-escaped) in the key file.
func (sa *ServiceAccount) PrivateKeyPEM() string {
	// An RSA private key always marshals to PKCS #8.
	der, _ := x509.MarshalPKCS8PrivateKey(sa.Key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// TokenURL is the simulator's token endpoint for a simulator served at base (which may carry
// a mount prefix): /token beside the API.
func TokenURL(base string) string { return strings.TrimRight(base, "/") + "/token" }

// grant is what an access token allows: impersonating one user with some scopes until expiry.
type grant struct {
	userID string
	scopes []string
	expiry time.Time
}

func (g grant) hasAny(scopes []string) bool {
	for _, s := range scopes {
		if slices.Contains(g.scopes, s) {
			return true
		}
	}
	return false
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	sim.WriteJSON(w, status, map[string]string{"error": code, "error_description": description})
}

type claims struct {
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
	Exp   int64  `json:"exp"`
	Iat   int64  `json:"iat"`
}

// token is Google's OAuth token endpoint for the JWT-bearer grant: the assertion must be an
// RS256 JWT signed by the service account, for this endpoint, short-lived, naming a domain
// user to impersonate and scopes granted through domain-wide delegation.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Malformed form body.")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != jwtBearer {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+gt)
		return
	}
	c, err := s.verifyAssertion(r.PostForm.Get("assertion"))
	if err != nil {
		var oe *oauthErr
		if !errors.As(err, &oe) {
			oe = &oauthErr{http.StatusBadRequest, "invalid_grant", err.Error()}
		}
		oauthError(w, oe.status, oe.code, oe.description)
		return
	}
	now := s.opts.Now()
	if !strings.HasSuffix(c.Aud, requestPath(r)) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Failed audience check.")
		return
	}
	if c.Exp <= now.Unix() || c.Iat > now.Add(5*time.Minute).Unix() || c.Exp-c.Iat > 3600 {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	}
	scopes := strings.Fields(c.Scope)
	if len(scopes) == 0 {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	}
	for _, sc := range scopes {
		if !slices.Contains(s.opts.DelegatedScopes, sc) {
			oauthError(w, http.StatusUnauthorized, "unauthorized_client", "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
			return
		}
	}
	s.mu.Lock()
	u := s.lookup(c.Sub)
	s.mu.Unlock()
	if c.Sub == "" || u == nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid email or User ID")
		return
	}
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	tok := "ya29.sim" + base64.RawURLEncoding.EncodeToString(raw)
	s.mu.Lock()
	s.tokens[tok] = grant{userID: u.ID, scopes: scopes, expiry: now.Add(time.Hour)}
	s.mu.Unlock()
	sim.WriteJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
}

type oauthErr struct {
	status            int
	code, description string
}

func (e *oauthErr) Error() string { return e.description }

// verifyAssertion checks the JWT's form, issuer and RS256 signature and returns its claims.
func (s *Server) verifyAssertion(assertion string) (claims, error) {
	var c claims
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return c, &oauthErr{http.StatusBadRequest, "invalid_grant", "Invalid JWT: malformed assertion."}
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "RS256" {
		return c, &oauthErr{http.StatusBadRequest, "invalid_grant", "Invalid JWT: unsupported signature algorithm."}
	}
	if err := decodeSegment(parts[1], &c); err != nil {
		return c, &oauthErr{http.StatusBadRequest, "invalid_grant", "Invalid JWT: malformed claims."}
	}
	sa := s.opts.ServiceAccount
	if sa == nil || c.Iss != sa.Email {
		return c, &oauthErr{http.StatusUnauthorized, "invalid_client", "The OAuth client was not found."}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return c, &oauthErr{http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature."}
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&sa.Key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return c, &oauthErr{http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature."}
	}
	return c, nil
}

func decodeSegment(seg string, out any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// requestPath is the path the client asked for, mount prefix included.
func requestPath(r *http.Request) string {
	if r.RequestURI != "" {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	return r.URL.Path
}

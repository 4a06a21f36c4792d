package dockerhub

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// defaultTokenLife is how long an access token lives when its expiry cannot be read: the
// spec's AuthCreateTokenResponse says it "expires in 10 minutes".
const defaultTokenLife = 10 * time.Minute

// tokenSource exchanges the organization access token for a JWT at POST /v2/auth/token and
// caches it until shortly before it expires. Concurrent callers share one exchange.
type tokenSource struct {
	client     *connector.Client
	identifier string
	secret     string
	now        func() time.Time

	// sem holds the right to read or refresh the cached token; a channel rather than a mutex
	// so a caller waiting for another's exchange still honours its context.
	sem       chan struct{}
	token     string
	refreshAt time.Time
}

// get returns a JWT that is not about to expire, exchanging the OAT when needed.
func (t *tokenSource) get(ctx context.Context) (string, error) {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-t.sem }()
	if t.token != "" && t.now().Before(t.refreshAt) {
		return t.token, nil
	}
	tok, exp, err := t.exchange(ctx)
	if err != nil {
		return "", err
	}
	now := t.now()
	life := exp.Sub(now)
	// Refresh a minute early (or a fifth of the life of a short-lived token), so a token
	// does not expire between being handed out and reaching Docker Hub.
	t.token, t.refreshAt = tok, exp.Add(-min(time.Minute, life/5))
	return tok, nil
}

// invalidate drops tok if it is still the cached token, so the next get exchanges again. A
// token another caller already replaced is left alone.
func (t *tokenSource) invalidate(tok string) {
	t.sem <- struct{}{}
	defer func() { <-t.sem }()
	if t.token == tok {
		t.token, t.refreshAt = "", time.Time{}
	}
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
}

func (t *tokenSource) exchange(ctx context.Context) (string, time.Time, error) {
	var out tokenResponse
	_, err := t.client.JSON(ctx, http.MethodPost, "/v2/auth/token", nil,
		map[string]string{"identifier": t.identifier, "secret": t.secret}, &out)
	switch connector.StatusOf(err) {
	case 0:
		if err != nil {
			return "", time.Time{}, fmt.Errorf("dockerhub: exchange the access token: %w", err)
		}
	case http.StatusUnauthorized, http.StatusBadRequest:
		return "", time.Time{}, connector.Permanent(fmt.Errorf("dockerhub: the organization access token was refused for identifier %q; check connectors.dockerhub.token and that username is the organization's name: %w", t.identifier, err))
	default:
		return "", time.Time{}, fmt.Errorf("dockerhub: exchange the access token: %w", err)
	}
	if out.AccessToken == "" {
		return "", time.Time{}, fmt.Errorf("dockerhub: exchange the access token: the reply holds no access_token")
	}
	return out.AccessToken, jwtExpiry(out.AccessToken, t.now()), nil
}

// jwtExpiry reads the exp claim of a JWT without checking its signature (Docker Hub checks
// it; the client only needs to know when to refresh). A token whose expiry cannot be read is
// assumed to live for the documented ten minutes.
func jwtExpiry(tok string, now time.Time) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) == 3 {
		if raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "=")); err == nil {
			var claims struct {
				Exp json.Number `json:"exp"`
			}
			if json.Unmarshal(raw, &claims) == nil {
				if secs, err := claims.Exp.Int64(); err == nil && secs > 0 {
					if exp := time.Unix(secs, 0); exp.After(now) {
						return exp
					}
				}
			}
		}
	}
	return now.Add(defaultTokenLife)
}

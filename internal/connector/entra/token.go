package entra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/offboard-dev/offboard/internal/connector"
)

// tokenSource gets app-only access tokens with the client-credentials grant and caches one
// until shortly before it expires. Fetching is serialised, so a burst of parallel requests at
// start-up asks the token endpoint once.
type tokenSource struct {
	name   string
	cfg    clientcredentials.Config
	secret string
	http   *http.Client
	now    func() time.Time
	// lock is a one-slot semaphore rather than a mutex so a waiting caller can give up when
	// its context ends.
	lock   chan struct{}
	mu     sync.Mutex
	cached *oauth2.Token
}

// expiryMargin is how long before its expiry a token is replaced, so a request never leaves
// with a token that lapses in flight.
const expiryMargin = 2 * time.Minute

func newTokenSource(cfg Config) *tokenSource {
	base := cfg.HTTP
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	transport := base.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	hc := *base
	hc.Transport = &tokenTransport{base: transport}
	return &tokenSource{
		name: cfg.Name,
		cfg: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.TokenURL,
			Scopes:       []string{Scope},
			// Microsoft documents the secret as a form parameter; sending it only there
			// also avoids the library's retry with the other style after a refusal.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		secret: cfg.ClientSecret,
		http:   &hc,
		now:    time.Now,
		lock:   make(chan struct{}, 1),
	}
}

// get returns a valid access token and whether it was fetched by this call.
func (ts *tokenSource) get(ctx context.Context) (string, bool, error) {
	if tok := ts.valid(); tok != "" {
		return tok, false, nil
	}
	select {
	case ts.lock <- struct{}{}:
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
	defer func() { <-ts.lock }()
	// Another caller may have fetched one while this one waited.
	if tok := ts.valid(); tok != "" {
		return tok, false, nil
	}
	if ts.cfg.ClientID == "" || ts.cfg.ClientSecret == "" {
		return "", false, connector.Permanent(fmt.Errorf("%s: no client ID or client secret configured", ts.name))
	}
	tok, err := ts.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, ts.http))
	if err != nil {
		if ctx.Err() != nil {
			return "", false, ctx.Err()
		}
		return "", false, ts.classify(err)
	}
	ts.mu.Lock()
	ts.cached = tok
	ts.mu.Unlock()
	return tok.AccessToken, true, nil
}

func (ts *tokenSource) valid() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.cached == nil || ts.cached.AccessToken == "" {
		return ""
	}
	if !ts.cached.Expiry.IsZero() && !ts.now().Add(expiryMargin).Before(ts.cached.Expiry) {
		return ""
	}
	return ts.cached.AccessToken
}

// drop forgets tok if it is the cached token.
func (ts *tokenSource) drop(tok string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.cached != nil && ts.cached.AccessToken == tok {
		ts.cached = nil
	}
}

// classify turns a token failure into an error that carries no secret: a refusal of the
// credentials (4xx) is permanent and names what to fix; an outage is retryable.
func (ts *tokenSource) classify(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("%s: get access token: %s", ts.name, ts.scrub(err.Error()))
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	desc := re.ErrorDescription
	// The description ends with trace and correlation IDs and a timestamp; the first
	// sentence (with its AADSTS code) is what an operator needs.
	if i := strings.Index(desc, " Trace ID:"); i > 0 {
		desc = desc[:i]
	}
	msg := fmt.Sprintf("%s: get access token: HTTP %d %s: %s", ts.name, status, re.ErrorCode, ts.scrub(desc))
	if status >= 500 || status == http.StatusTooManyRequests || status == 0 {
		return errors.New(msg)
	}
	hint := "check connectors.entra tenant_id, client_id and client_secret"
	switch {
	case strings.Contains(desc, "AADSTS7000215"), strings.Contains(desc, "AADSTS7000222"):
		hint = "the client secret is wrong or expired; create a new secret for the app registration and set connectors.entra.client_secret to its value (not its ID)"
	case strings.Contains(desc, "AADSTS700016"):
		hint = "no app with this client ID exists in the tenant; check connectors.entra.client_id and tenant_id"
	case strings.Contains(desc, "AADSTS90002"):
		hint = "the tenant was not found; check connectors.entra.tenant_id"
	}
	return connector.Permanent(fmt.Errorf("%s (%s)", msg, hint))
}

func (ts *tokenSource) scrub(s string) string {
	if len(ts.secret) >= 4 {
		s = strings.ReplaceAll(s, ts.secret, "[REDACTED]")
	}
	return s
}

// tokenTransport makes the token endpoint's throttling a wait, never a failure: a 429 is
// retried after its Retry-After (or a growing backoff), for as long as the request's context
// allows; a 5xx or a dropped connection is retried twice.
type tokenTransport struct{ base http.RoundTripper }

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	backoff := time.Second
	transient := 0
	for {
		attempt := req
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			attempt = req.Clone(ctx)
			attempt.Body = body
		}
		resp, err := t.base.RoundTrip(attempt)
		var wait time.Duration
		switch {
		case err != nil:
			if transient >= 2 || req.GetBody == nil || ctx.Err() != nil {
				return nil, err
			}
			transient++
			wait = time.Duration(transient) * 100 * time.Millisecond
		case resp.StatusCode == http.StatusTooManyRequests && req.GetBody != nil:
			wait = connector.RetryAfterHeader(resp.Header, time.Now())
			if wait <= 0 {
				wait, backoff = backoff, min(backoff*2, time.Minute)
			}
			discard(resp)
		case resp.StatusCode >= 500 && transient < 2 && req.GetBody != nil:
			transient++
			wait = time.Duration(transient) * 100 * time.Millisecond
			discard(resp)
		default:
			return resp, nil
		}
		timer := time.NewTimer(wait + time.Duration(rand.Int64N(int64(wait)/10+1)))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		}
	}
}

func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
}

// Package entra offboards a person from Microsoft Entra ID (and so from Microsoft Teams) over
// Microsoft Graph: it revokes their sign-in sessions, removes them from every security and
// Microsoft 365 group Graph lets it change (a team's membership is its Microsoft 365 group's),
// deletes their authentication methods (the default one last, as Graph requires), removes
// their directly assigned licences, and then disables (never deletes) the account, verifying
// each step by reading Graph back.
//
// It signs in as an app registration with the OAuth 2.0 client-credentials grant
// (golang.org/x/oauth2/clientcredentials) and talks to Graph through connector.Client, which
// waits out 429s for as long as Retry-After asks. The endpoints, statuses and ordering rules it
// relies on are in the project's apis.md §7; the operator page is docs/connectors/entra.md.
package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// System is the connector's default name in plans, tickets and audit records.
const System = "entra"

// Action kinds. They are part of the stored contract: plans saved today are applied and
// verified by later versions, so these names never change.
const (
	KindRevokeSessions = "revoke_sessions"
	KindRemoveGroup    = "remove_group"
	KindRemoveMethod   = "remove_auth_method"
	// KindRemoveDefaultMethod deletes the user's default sign-in method, which Graph refuses
	// to delete while any other method remains; it waits for every KindRemoveMethod.
	KindRemoveDefaultMethod = "remove_default_auth_method"
	KindRemoveLicense       = "remove_license"
	KindDisable             = "disable_account"
)

// kindOrder is the order plans list kinds in: the order they can run in.
var kindOrder = []string{KindDisable, KindRevokeSessions, KindRemoveGroup, KindRemoveMethod, KindRemoveDefaultMethod, KindRemoveLicense}

// Defaults for Config.
const (
	DefaultBaseURL = "https://graph.microsoft.com/v1.0"
	// DefaultTokenURL is the tenant's token endpoint; {tenant} is replaced by TenantID.
	DefaultTokenURL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
	// Scope asks for the app's static application permissions on Graph.
	Scope = "https://graph.microsoft.com/.default"
	// DefaultConcurrency is the requests in flight when Config.Concurrency is 0. Graph's
	// identity limits are counted in resource units per 10 s (3,500 for a small tenant) and
	// writes per 2.5 min (3,000), not in connections; 16 in flight stays far under both
	// while a leaver with dozens of groups is done in a few rounds.
	DefaultConcurrency = 16
)

// Config is how to reach one Entra tenant.
type Config struct {
	// Name is the system name in plans and records; default "entra".
	Name string
	// TenantID is the directory (tenant) ID or a verified domain.
	TenantID string
	// ClientID and ClientSecret are the app registration's credentials. Never logged.
	ClientID     string
	ClientSecret string
	// BaseURL is Graph's v1.0 root; default https://graph.microsoft.com/v1.0.
	BaseURL string
	// BetaURL is Graph's beta root, used for one read only: the user's default sign-in
	// method (signInPreferences), which v1.0 does not expose. Default: BaseURL with its
	// trailing /v1.0 replaced by /beta; when that is impossible the default method is not
	// known in advance and its deletion is retried until the others are gone.
	BetaURL string
	// TokenURL is the token endpoint; default DefaultTokenURL for the tenant.
	TokenURL string
	// HTTP is the transport for Graph and the token endpoint; nil means a 30 s timeout.
	HTTP *http.Client
	// Concurrency caps this connector's requests in flight (default DefaultConcurrency).
	Concurrency int
}

// String describes the configuration without its secret, so printing or logging a Config
// cannot leak the client secret.
func (cfg Config) String() string {
	secret := "unset"
	if cfg.ClientSecret != "" {
		secret = "[REDACTED]"
	}
	return fmt.Sprintf("entra.Config{Name:%q TenantID:%q ClientID:%q ClientSecret:%s BaseURL:%q BetaURL:%q TokenURL:%q Concurrency:%d}",
		cfg.Name, cfg.TenantID, cfg.ClientID, secret, cfg.BaseURL, cfg.BetaURL, cfg.TokenURL, cfg.Concurrency)
}

// GoString is String, so %#v redacts the secret too.
func (cfg Config) GoString() string { return cfg.String() }

// Connector offboards people from one Entra tenant. It is safe for concurrent use: the engine
// applies and verifies independent actions in parallel.
type Connector struct {
	name   string
	graph  *connector.Client
	beta   *connector.Client
	tokens *tokenSource
	// members shares reads of a user's memberships among concurrent verifications of
	// group removals.
	members memberReads
	now     func() time.Time
}

// New returns a connector for the tenant cfg describes. It fails only on a malformed URL.
func New(cfg Config) (*Connector, error) {
	if cfg.Name == "" {
		cfg.Name = System
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.BetaURL == "" {
		if root, ok := strings.CutSuffix(cfg.BaseURL, "/v1.0"); ok {
			cfg.BetaURL = root + "/beta"
		}
	}
	if cfg.TokenURL == "" && strings.TrimSpace(cfg.TenantID) == "" {
		return nil, fmt.Errorf("%s: a tenant ID (or a token URL) is required", cfg.Name)
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = strings.ReplaceAll(DefaultTokenURL, "{tenant}", url.PathEscape(cfg.TenantID))
	}
	for name, raw := range map[string]string{"base URL": cfg.BaseURL, "token URL": cfg.TokenURL, "beta URL": cfg.BetaURL} {
		if raw == "" {
			continue
		}
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("%s: %s %q is not an http(s) URL", cfg.Name, name, raw)
		}
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	c := &Connector{name: cfg.Name, now: time.Now}
	c.tokens = newTokenSource(cfg)
	pacer := connector.NewPacer(cfg.Concurrency)
	c.graph = &connector.Client{
		System:      cfg.Name,
		BaseURL:     cfg.BaseURL,
		HTTP:        cfg.HTTP,
		Authorize:   authorize,
		DecodeError: decodeError,
		Retries:     2,
		Pacer:       pacer,
	}
	if cfg.BetaURL != "" {
		beta := *c.graph
		beta.BaseURL = strings.TrimRight(cfg.BetaURL, "/")
		c.beta = &beta
	}
	return c, nil
}

// System returns the configured system name ("entra" by default).
func (c *Connector) System() string { return c.name }

// tokenKey carries the access token from do to authorize inside the request's context, so the
// shared client adds it (and scrubs it from anything echoed back) like any credential.
type tokenKey struct{}

func authorize(r *http.Request) error {
	tok, _ := r.Context().Value(tokenKey{}).(string)
	if tok == "" {
		return errors.New("no access token")
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// do sends one Graph request with a token. A 401 on a token taken from the cache (revoked or
// expired early) drops it and tries once more with a fresh one; a 401 on a fresh token is a
// real refusal and stays permanent.
func (c *Connector) do(ctx context.Context, client *connector.Client, req connector.Request) (*connector.Response, error) {
	for attempt := 0; ; attempt++ {
		tok, fresh, err := c.tokens.get(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(context.WithValue(ctx, tokenKey{}, tok), req)
		if connector.StatusOf(err) == http.StatusUnauthorized && !fresh && attempt == 0 {
			c.tokens.drop(tok)
			continue
		}
		return resp, err
	}
}

// getJSON reads path (relative to client's root, or a nextLink) into out.
func (c *Connector) getJSON(ctx context.Context, client *connector.Client, path string, query url.Values, out any) error {
	resp, err := c.do(ctx, client, connector.Request{Method: http.MethodGet, Path: path, Query: query})
	if err != nil {
		return err
	}
	if err := resp.Decode(out); err != nil {
		return fmt.Errorf("%s: GET %s: decode reply: %w", c.name, pathOnly(path), err)
	}
	return nil
}

// graphError is Graph's error body (apis.md §0).
type graphError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID string `json:"request-id"`
			Date      string `json:"date"`
		} `json:"innerError"`
	} `json:"error"`
}

// decodeError reads Graph's error code and message, with the request ID Microsoft support
// asks for.
func decodeError(_ int, body []byte) (code, summary string) {
	var e graphError
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	summary = e.Error.Message
	if id := e.Error.InnerError.RequestID; id != "" {
		summary += " (request-id " + id + ")"
	}
	return e.Error.Code, summary
}

// seg escapes one path segment, but leaves '@' bare: Graph addresses users by UPN, and the
// simulator and Graph's documentation both show it unescaped.
func seg(s string) string { return strings.ReplaceAll(connector.PathSegment(s), "%40", "@") }

func userPath(id string, rest ...string) string {
	p := "/users/" + seg(id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

func pathOnly(p string) string {
	if u, err := url.Parse(p); err == nil {
		return u.Path
	}
	return p
}

// list reads every page of a collection, following @odata.nextLink verbatim.
func list[T any](ctx context.Context, c *Connector, client *connector.Client, path string, query url.Values) ([]T, error) {
	const maxPages = 10000
	var all []T
	seen := map[string]bool{}
	next := path
	for pages := 0; next != ""; pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("%s: GET %s: more than %d pages", c.name, path, maxPages)
		}
		var pg struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := c.getJSON(ctx, client, next, query, &pg); err != nil {
			return nil, err
		}
		all = append(all, pg.Value...)
		// The link carries the whole query, skip token included.
		query = nil
		next = pg.NextLink
		if seen[next] {
			return nil, fmt.Errorf("%s: GET %s: paging repeats a page", c.name, path)
		}
		seen[next] = true
	}
	return all, nil
}

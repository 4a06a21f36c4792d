// Package dockerhub offboards a person from a Docker Hub organization: it cancels their pending
// invitations and removes them from the organization (which takes them out of every team),
// verifying each step by reading Docker Hub back.
//
// It authenticates with an organization access token (OAT), exchanged for a short-lived JWT
// at POST /v2/auth/token, and talks to the Hub API through connector.Client, which paces
// requests to the X-RateLimit-* headers and waits out 429s whether Docker sends Retry-After
// (seconds) or the older X-Retry-After (unix time). The endpoints and their statuses are in the
// project's apis.md §9.1; the operator page is docs/connectors/dockerhub.md.
package dockerhub

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

// System is the connector's name in plans, tickets and audit records.
const System = "dockerhub"

// DefaultBaseURL is Docker Hub's API root.
const DefaultBaseURL = "https://hub.docker.com"

// Action kinds. They are part of the stored contract and never change.
const (
	// KindCancelInvite cancels one pending invitation to the organization.
	KindCancelInvite = "cancel_invite"
	// KindRemoveMember removes the person from the organization and so from all its teams.
	KindRemoveMember = "remove_member"
)

var kindOrder = []string{KindCancelInvite, KindRemoveMember}

// Config is how to reach one Docker Hub organization.
type Config struct {
	// BaseURL is the API root (default https://hub.docker.com).
	BaseURL string
	// Org is the organization's name (namespace).
	Org string
	// Username is the identifier the token is exchanged with: the organization's name for an
	// organization access token, as the API requires (default Org).
	Username string
	// Token is an organization access token (dckr_oat_...). Never logged.
	Token string
	// HTTP is the transport; nil means a client with a 30 s timeout.
	HTTP *http.Client
}

// Connector offboards people from one Docker Hub organization. It is safe for concurrent use.
type Connector struct {
	org    string
	api    *connector.Client
	tokens *tokenSource
	now    func() time.Time
}

// New returns a connector for the organization cfg describes. It fails when the organization
// or the token is missing, as nothing could work without them.
func New(cfg Config) (*Connector, error) {
	var missing []string
	if strings.TrimSpace(cfg.Org) == "" {
		missing = append(missing, "org")
	}
	if cfg.Token == "" {
		missing = append(missing, "token")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("dockerhub: missing configuration: %s", strings.Join(missing, ", "))
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Username == "" {
		cfg.Username = cfg.Org
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	// Docker Hub documents a per-minute budget but no concurrency limit; a handful in flight
	// keeps a plan quick without spending the budget in a burst.
	pacer := connector.NewPacer(4)
	authClient := &connector.Client{
		System: System, BaseURL: base, HTTP: cfg.HTTP, DecodeError: decodeError,
		RateHeaders: connector.StandardRateHeaders, Retries: 2, Pacer: connector.NewPacer(2),
	}
	c := &Connector{org: cfg.Org, now: time.Now}
	c.tokens = &tokenSource{client: authClient, identifier: cfg.Username, secret: cfg.Token, now: time.Now, sem: make(chan struct{}, 1)}
	c.api = &connector.Client{
		System:  System,
		BaseURL: base,
		HTTP:    cfg.HTTP,
		// The JWT for this call travels in the request's context (see do), so the token the
		// server refused is the one invalidated, and the client scrubs it from any error.
		Authorize: func(r *http.Request) error {
			tok, _ := r.Context().Value(jwtKey{}).(string)
			if tok == "" {
				return errors.New("no access token obtained")
			}
			r.Header.Set("Authorization", "Bearer "+tok)
			return nil
		},
		// StandardRateHeaders reads X-RateLimit-* and, through connector.RetryAfterHeader,
		// both Retry-After seconds and the older X-Retry-After unix timestamp.
		RateHeaders: connector.StandardRateHeaders,
		DecodeError: decodeError,
		Retries:     2,
		Pacer:       pacer,
	}
	return c, nil
}

// System returns "dockerhub".
func (c *Connector) System() string { return System }

type jwtKey struct{}

// do sends one API request with a current JWT. A 401 means the JWT expired or was revoked
// early: the connector exchanges the OAT again once and retries before calling the
// credentials bad.
func (c *Connector) do(ctx context.Context, req connector.Request) (*connector.Response, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.get(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := c.api.Do(context.WithValue(ctx, jwtKey{}, tok), req)
		if connector.StatusOf(err) != http.StatusUnauthorized {
			return resp, err
		}
		c.tokens.invalidate(tok)
		if attempt == 1 {
			return nil, connector.Permanent(fmt.Errorf("dockerhub: a freshly issued access token was refused; check that the organization access token is active and belongs to %s: %w", c.org, err))
		}
	}
}

// getJSON reads path and decodes the JSON reply into out.
func (c *Connector) getJSON(ctx context.Context, path string, query url.Values, out any) (*connector.Response, error) {
	resp, err := c.do(ctx, connector.Request{Method: http.MethodGet, Path: path, Query: query})
	if err != nil {
		return nil, err
	}
	if err := resp.Decode(out); err != nil {
		return resp, fmt.Errorf("dockerhub: GET %s: decode reply: %w", pathOnly(path), err)
	}
	return resp, nil
}

// Check exchanges the token and reads the member and invite lists, proving the URL, the token
// and its permissions without changing anything.
func (c *Connector) Check(ctx context.Context) error {
	var page memberPage
	if _, err := c.getJSON(ctx, c.orgPath("members"), url.Values{"page_size": {"1"}}, &page); err != nil {
		return c.checkError("read the organization's members", err)
	}
	var inv invitePage
	if _, err := c.getJSON(ctx, c.orgPath("invites"), nil, &inv); err != nil {
		return c.checkError("read the organization's pending invites", err)
	}
	return nil
}

func (c *Connector) checkError(what string, err error) error {
	switch connector.StatusOf(err) {
	case http.StatusForbidden:
		return connector.Permanent(fmt.Errorf("dockerhub: the token may not %s of %s: use an organization access token (personal access tokens are refused by organization endpoints) created by an owner with access to the organization's members and invites: %w", what, c.org, err))
	case http.StatusNotFound:
		return connector.Permanent(fmt.Errorf("dockerhub: organization %s was not found; check connectors.dockerhub.org: %w", c.org, err))
	}
	return fmt.Errorf("dockerhub: check: %s: %w", what, err)
}

func (c *Connector) orgPath(rest ...string) string {
	p := "/v2/orgs/" + url.PathEscape(c.org)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// hubError is Docker Hub's error body (the spec's `error` schema; older answers use `detail`).
type hubError struct {
	Message string `json:"message"`
	Detail  string `json:"detail"`
}

func decodeError(_ int, body []byte) (code, summary string) {
	var e hubError
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	switch {
	case e.Message != "" && e.Detail != "" && !strings.EqualFold(e.Message, e.Detail):
		return "", e.Message + ": " + e.Detail
	case e.Detail != "":
		return "", e.Detail
	}
	return "", e.Message
}

func pathOnly(p string) string {
	if u, err := url.Parse(p); err == nil {
		return u.Path
	}
	return p
}

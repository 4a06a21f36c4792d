// Package github offboards a person from a GitHub organization: it revokes every SAML SSO
// credential authorization of their login (personal access tokens and SSH keys), cancels their
// pending invitations, removes them from the organization (which also removes their team
// memberships) or, for an outside collaborator, from every repository, and lists the Actions
// secrets they could read as admin for their owners to rotate. Each removal is verified by
// reading GitHub back.
//
// It talks to GitHub's REST API (and GraphQL, for SAML identities) on api.github.com or a
// GitHub Enterprise Server through connector.Client, which paces requests to the
// x-ratelimit-* headers and waits out secondary rate limits (403 or 429). The endpoints and
// gotchas it relies on are in the project's apis.md §4; the operator page is
// docs/connectors/github.md.
package github

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
const System = "github"

// Action kinds. They are part of the stored contract and never change.
const (
	// KindRevokeCredential revokes one SAML SSO credential authorization (a PAT or SSH key).
	KindRevokeCredential = "revoke_credential_authorization"
	// KindCancelInvitation cancels one pending organization invitation.
	KindCancelInvitation = "cancel_invitation"
	// KindRemoveOutsideCollaborator removes an outside collaborator from every repository.
	KindRemoveOutsideCollaborator = "remove_outside_collaborator"
	// KindRemoveMember removes the login from the organization (and all its teams).
	KindRemoveMember = "remove_member"
)

// kindOrder is the order plans list kinds in: the order they can run in.
var kindOrder = []string{KindRevokeCredential, KindCancelInvitation, KindRemoveOutsideCollaborator, KindRemoveMember}

// DefaultBaseURL is GitHub.com's REST API.
const DefaultBaseURL = "https://api.github.com"

// DefaultConcurrency is the requests in flight when Config.Concurrency is 0. GitHub allows
// 100 concurrent requests per token across REST and GraphQL (apis.md §4); a tenth leaves the
// rest to other integrations.
const DefaultConcurrency = 10

// apiVersion is the REST API version requested (apis.md §4 headers).
const apiVersion = "2022-11-28"

// Config is how to reach one GitHub organization.
type Config struct {
	// BaseURL is the REST API root: https://api.github.com (the default) or, for GitHub
	// Enterprise Server, https://HOST/api/v3.
	BaseURL string
	// GraphQLURL overrides the GraphQL endpoint derived from BaseURL
	// (https://api.github.com/graphql, or https://HOST/api/graphql for a /api/v3 BaseURL).
	GraphQLURL string
	// Org is the organization's login.
	Org string
	// Token is a token of an organization owner (classic PAT with admin:org and repo, or a
	// GitHub App installation token), sent as `Authorization: Bearer`. Never logged.
	Token string
	// HTTP is the transport; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// Concurrency caps requests in flight (default DefaultConcurrency).
	Concurrency int
}

// Connector offboards people from one GitHub organization. It is safe for concurrent use.
type Connector struct {
	org  string
	rest *connector.Client
	gql  *connector.Client
	// gqlPath is the GraphQL endpoint relative to gql.BaseURL.
	gqlPath string
	now     func() time.Time
}

// New returns a connector for the organization cfg describes. It fails when the URLs cannot
// be parsed or no organization is named.
func New(cfg Config) (*Connector, error) {
	if strings.TrimSpace(cfg.Org) == "" {
		return nil, errors.New("github: no organization configured")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	gqlURL := cfg.GraphQLURL
	if gqlURL == "" {
		gqlURL = GraphQLURLFor(cfg.BaseURL)
	}
	gu, err := url.Parse(gqlURL)
	if err != nil || gu.Host == "" {
		return nil, fmt.Errorf("github: bad GraphQL URL %q", gqlURL)
	}
	if bu, err := url.Parse(cfg.BaseURL); err != nil || bu.Host == "" {
		return nil, fmt.Errorf("github: bad base URL %q", cfg.BaseURL)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	token := cfg.Token
	rest := &connector.Client{
		System:  System,
		BaseURL: cfg.BaseURL,
		HTTP:    cfg.HTTP,
		Authorize: func(r *http.Request) error {
			if token == "" {
				return errors.New("no token configured")
			}
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		},
		DecodeError: decodeError,
		Throttled:   Throttled,
		// GitHub asks to wait at least a minute after a secondary rate limit that names no
		// wait (apis.md §4).
		ThrottleBackoff: time.Minute,
		Retries:         2,
		Pacer:           connector.NewPacer(cfg.Concurrency),
	}
	gql := *rest
	dir, last := splitLast(gu)
	gql.BaseURL = dir
	return &Connector{org: cfg.Org, rest: rest, gql: &gql, gqlPath: last, now: time.Now}, nil
}

// GraphQLURLFor derives the GraphQL endpoint from a REST base URL: GitHub Enterprise Server
// serves REST at /api/v3 and GraphQL at /api/graphql; api.github.com (and any other root,
// such as a simulator's) serves GraphQL at /graphql beside the REST root.
func GraphQLURLFor(baseURL string) string {
	base := strings.TrimRight(baseURL, "/")
	if strings.HasSuffix(base, "/api/v3") {
		return strings.TrimSuffix(base, "/v3") + "/graphql"
	}
	return base + "/graphql"
}

// splitLast splits an endpoint URL into its parent and last path segment.
func splitLast(u *url.URL) (dir, last string) {
	p := strings.TrimRight(u.EscapedPath(), "/")
	i := strings.LastIndex(p, "/")
	d := *u
	d.RawQuery, d.Fragment = "", ""
	d.Path, d.RawPath = "", ""
	return strings.TrimRight(d.String(), "/") + p[:max(i, 0)], p[i+1:]
}

// System returns "github".
func (c *Connector) System() string { return System }

// headers are sent on every request (apis.md §4).
func headers() http.Header {
	return http.Header{"Accept": {"application/vnd.github+json"}, "X-Github-Api-Version": {apiVersion}}
}

// get reads path (or a pagination link) into out.
func (c *Connector) get(ctx context.Context, path string, query url.Values, out any) (*connector.Response, error) {
	resp, err := c.rest.Do(ctx, connector.Request{Method: http.MethodGet, Path: path, Query: query, Header: headers()})
	if err != nil {
		return nil, err
	}
	if err := resp.Decode(out); err != nil {
		return resp, fmt.Errorf("github: GET %s: decode reply: %w", strings.SplitN(path, "?", 2)[0], err)
	}
	return resp, nil
}

// del sends a DELETE; a 404 means the thing is already gone, which is what was wanted.
func (c *Connector) del(ctx context.Context, path string) error {
	_, err := c.rest.Do(ctx, connector.Request{Method: http.MethodDelete, Path: path, Header: headers()})
	if errors.Is(err, connector.ErrNotFound) {
		return nil
	}
	return err
}

// maxPages bounds paging so a server repeating pages cannot loop forever.
const maxPages = 10000

// list reads every page of a list, following the Link rel="next" headers. unwrap, when not
// nil, extracts the items from an object reply (the Actions secrets lists).
func list[T any](ctx context.Context, c *Connector, path string, query url.Values, unwrap func([]byte) ([]T, error)) ([]T, error) {
	q := url.Values{"per_page": {"100"}}
	for k, v := range query {
		q[k] = v
	}
	var all []T
	seen := map[string]bool{}
	next := path
	for pages := 0; next != ""; pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("github: GET %s: more than %d pages", path, maxPages)
		}
		resp, err := c.rest.Do(ctx, connector.Request{Method: http.MethodGet, Path: next, Query: q, Header: headers()})
		if err != nil {
			return nil, err
		}
		var items []T
		if unwrap != nil {
			items, err = unwrap(resp.Body)
		} else {
			err = resp.Decode(&items)
		}
		if err != nil {
			return nil, fmt.Errorf("github: GET %s: decode reply: %w", path, err)
		}
		all = append(all, items...)
		q = nil // the next link carries the whole query
		next = resp.NextLink()
		if next != "" && seen[next] {
			return nil, fmt.Errorf("github: GET %s: pagination repeats a page", path)
		}
		seen[next] = true
	}
	return all, nil
}

// Throttled reports GitHub's throttling that is not a plain 429 (apis.md §4 "Rate limits"): a
// 403 with retry-after (secondary limit), a 403 with x-ratelimit-remaining: 0 (primary limit),
// or a 403 whose message names a rate limit.
func Throttled(status int, h http.Header, body []byte) bool {
	if status != http.StatusForbidden {
		return false
	}
	if h.Get("Retry-After") != "" || strings.TrimSpace(h.Get("X-RateLimit-Remaining")) == "0" {
		return true
	}
	_, msg := decodeError(status, body)
	return strings.Contains(strings.ToLower(msg), "rate limit")
}

// apiError is GitHub's REST error body (apis.md §0); 422 adds errors.
type apiError struct {
	Message string `json:"message"`
	Errors  []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func decodeError(_ int, body []byte) (code, summary string) {
	var e apiError
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	summary = e.Message
	for _, d := range e.Errors {
		if d.Message != "" {
			summary += " (" + d.Message + ")"
		}
		if code == "" {
			code = d.Code
		}
	}
	return code, summary
}

// orgPath is /orgs/{org} followed by escaped segments.
func (c *Connector) orgPath(rest ...string) string {
	p := "/orgs/" + url.PathEscape(c.org)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// Check reads the organization and its pending invitations, which needs an owner's token with
// admin:org (read:org is not enough to see invitations or revoke anything).
func (c *Connector) Check(ctx context.Context) error {
	var org struct {
		Login string `json:"login"`
	}
	_, err := c.get(ctx, c.orgPath(), nil, &org)
	if err == nil {
		_, err = c.get(ctx, c.orgPath("invitations"), url.Values{"per_page": {"1"}}, &[]json.RawMessage{})
	}
	switch connector.StatusOf(err) {
	case 0:
		if err != nil {
			return fmt.Errorf("github: check token for %s: %w", c.org, err)
		}
		return nil
	case http.StatusUnauthorized:
		return connector.Permanent(fmt.Errorf("github: the token was refused (Bad credentials); check connectors.github.token: %w", err))
	case http.StatusNotFound:
		return connector.Permanent(fmt.Errorf("github: organization %s is not visible to the token; check connectors.github.org and that the token's owner is an organization owner: %w", c.org, err))
	case http.StatusForbidden:
		return connector.Permanent(fmt.Errorf("github: the token may not administer organization %s; it needs an organization owner's token with the admin:org scope (and SSO authorization if the organization enforces SAML): %w", c.org, err))
	default:
		return fmt.Errorf("github: check token for %s: %w", c.org, err)
	}
}

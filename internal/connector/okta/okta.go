// Package okta offboards a person from an Okta org: it revokes their sessions, OAuth tokens and
// consent grants, unenrolls their MFA factors, removes their admin roles and OKTA_GROUP
// memberships, and then deactivates (never deletes) the account, verifying each step by
// reading Okta back.
//
// It talks to the Okta Management API with an API token (SSWS) through connector.Client, which
// paces requests to Okta's X-Rate-Limit-* headers and waits out 429s. The endpoints, statuses
// and ordering rules it relies on are in the project's apis.md §1; the operator page is
// docs/connectors/okta.md.
package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/offboard-dev/offboard/internal/connector"
)

// System is the connector's name in plans, tickets and audit records.
const System = "okta"

// Action kinds. They are part of the stored contract: plans saved today are applied and
// verified by later versions, so these names never change.
const (
	KindRevokeSessions = "revoke_sessions"
	KindRevokeGrants   = "revoke_grants"
	KindRemoveFactor   = "remove_factor"
	KindRemoveRole     = "remove_role"
	KindRemoveGroup    = "remove_group"
	KindDeactivate     = "deactivate"
)

// kindOrder is the order plans list kinds in: the order they can run in.
var kindOrder = []string{KindRevokeSessions, KindRevokeGrants, KindRemoveFactor, KindRemoveRole, KindRemoveGroup, KindDeactivate}

// Config is how to reach one Okta org.
type Config struct {
	// BaseURL is the org's URL, e.g. https://acme.okta.com.
	BaseURL string
	// Token is an Okta API token, sent as `Authorization: SSWS <token>`. Never logged.
	Token string
	// HTTP is the transport; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// Concurrency caps this connector's requests in flight (default 24: a plan of a few
	// dozen removals goes out in two rounds while leaving most of the org's share free).
	// Okta allows 75 concurrent API requests per org, shared with every other integration.
	Concurrency int
}

// DefaultConcurrency is the requests in flight when Config.Concurrency is 0.
const DefaultConcurrency = 32

// Connector offboards people from one Okta org. It is safe for concurrent use: the engine
// applies and verifies independent actions in parallel.
type Connector struct {
	client *connector.Client
	// once is the client for calls that must not be repeated blindly (deactivation): it waits
	// out 429s but never retries a failure, so the next attempt reads the user first.
	once *connector.Client
	// groupReads shares one in-flight read of a user's groups among concurrent Verify calls.
	groupReads singleflight.Group
	now        func() time.Time
}

// New returns a connector for the org cfg describes.
func New(cfg Config) *Connector {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	token := cfg.Token
	client := &connector.Client{
		System:  System,
		BaseURL: strings.TrimRight(cfg.BaseURL, "/"),
		HTTP:    cfg.HTTP,
		Authorize: func(r *http.Request) error {
			if token == "" {
				return errors.New("no API token configured")
			}
			r.Header.Set("Authorization", "SSWS "+token)
			return nil
		},
		RateHeaders: connector.OktaRateHeaders,
		DecodeError: decodeError,
		Retries:     2,
		Pacer:       connector.NewPacer(cfg.Concurrency),
	}
	once := *client
	once.Retries = 0
	return &Connector{client: client, once: &once, now: time.Now}
}

// System returns "okta".
func (c *Connector) System() string { return System }

// Check reads the admin user the API token belongs to, proving the URL and token work. A
// refused token is a permanent error naming what to fix.
func (c *Connector) Check(ctx context.Context) error {
	var me oktaUser
	_, err := c.client.JSON(ctx, http.MethodGet, "/api/v1/users/me", nil, nil, &me)
	switch connector.StatusOf(err) {
	case 0:
		if err != nil {
			return fmt.Errorf("okta: check API token: %w", err)
		}
		return nil
	case http.StatusUnauthorized:
		return connector.Permanent(fmt.Errorf("okta: the API token was refused; check connectors.okta.token (Okta revokes API tokens unused for 30 days and rejects those of a deactivated admin): %w", err))
	case http.StatusForbidden:
		return connector.Permanent(fmt.Errorf("okta: the API token may not read users; it must belong to an admin who can read and manage users, groups and roles: %w", err))
	default:
		return fmt.Errorf("okta: check API token: %w", err)
	}
}

// oktaError is Okta's error body (apis.md §1.3).
type oktaError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

// decodeError reads Okta's error code and summary, with any causes appended.
func decodeError(_ int, body []byte) (code, summary string) {
	var e oktaError
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	summary = e.ErrorSummary
	var causes []string
	for _, c := range e.ErrorCauses {
		if s := strings.TrimSpace(c.ErrorSummary); s != "" {
			causes = append(causes, s)
		}
	}
	if len(causes) > 0 {
		summary += " (" + strings.Join(causes, "; ") + ")"
	}
	return e.ErrorCode, summary
}

func userPath(id string, rest ...string) string {
	p := "/api/v1/users/" + connector.PathSegment(id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// list reads every page of a list, following Okta's Link rel="next" headers.
func list[T any](ctx context.Context, c *connector.Client, path string, query url.Values) ([]T, error) {
	const maxPages = 10000
	var all []T
	seen := make(map[string]bool)
	next := path
	for pages := 0; next != ""; pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("okta: GET %s: more than %d pages", path, maxPages)
		}
		var items []T
		resp, err := c.JSON(ctx, http.MethodGet, next, query, nil, &items)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		// The next link carries the whole query, cursor included.
		query = nil
		next = resp.NextLink()
		if seen[next] {
			return nil, fmt.Errorf("okta: GET %s: pagination repeats a page", path)
		}
		seen[next] = true
	}
	return all, nil
}

func limit200() url.Values { return url.Values{"limit": {"200"}} }

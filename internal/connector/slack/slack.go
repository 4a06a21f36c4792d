// Package slack offboards a person from Slack, on Enterprise Grid or on a single workspace.
// It finds the person with the Web API (users.lookupByEmail, or users.info for a known user
// ID), signs them out everywhere with admin.users.session.reset (Enterprise Grid only), and
// deactivates the account through Slack's SCIM v2 API, which is the only API that deactivates
// an org-level account (admin.users.remove only removes from one workspace). Each step is
// verified by reading Slack back: the user's active sessions (admin.users.session.list) and
// the SCIM user's active attribute.
//
// Slack reports Web API errors as HTTP 200 with {"ok":false,"error":"code"}; every code the
// connector may see is classified (credentials and scopes stop and ask a human, a missing
// user is a finding, Slack's own failures are retried). Requests are paced to Slack's
// per-method tiers and to the org-wide SCIM budgets, and 429 Retry-After is honoured. The
// facts relied on are in the project's apis.md §5; the operator page is docs/connectors/slack.md.
package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/scim"
)

// System is the connector's name in plans, tickets and audit records.
const System = "slack"

// Action kinds. They are part of the stored contract and never change.
const (
	// KindResetSessions signs the user out of every session on every workspace
	// (admin.users.session.reset; Enterprise Grid only).
	KindResetSessions = "reset_sessions"
	// KindDeactivate deactivates the org-level account through SCIM (active: false).
	KindDeactivate = "deactivate"
)

// kindOrder is the order plans list kinds in: the order they run in.
var kindOrder = []string{KindResetSessions, KindDeactivate}

// Default endpoints (apis.md §0 and §5).
const (
	DefaultBaseURL = "https://slack.com/api"
	DefaultSCIMURL = "https://api.slack.com/scim/v2"
)

// Config is how to reach one Slack organisation (Enterprise Grid) or workspace.
type Config struct {
	// BaseURL is the Web API root (default DefaultBaseURL).
	BaseURL string
	// SCIMURL is the SCIM v2 root (default DefaultSCIMURL).
	SCIMURL string
	// Token is a user token (xoxp-…) of an Org Owner or Admin (a workspace Owner or Admin off
	// Grid), from an app installed at the org level with the scopes users:read,
	// users:read.email and, on Enterprise Grid, admin.users:read and admin.users:write. When
	// SCIMToken is empty it is also used for SCIM and then needs the admin scope. Never logged.
	Token string
	// SCIMToken is the token for the SCIM API (a user token with the admin scope), when the
	// SCIM app is a different app from the one holding Token; empty means Token.
	SCIMToken string
	// EnterpriseGrid says the organisation is on Enterprise Grid, where session reset and
	// session listing (admin.users.session.*) exist. Check compares it with what Slack says.
	EnterpriseGrid bool
	// HTTP is the transport; nil means a client with a 30 s timeout.
	HTTP *http.Client
}

// Connector offboards people from one Slack organisation. It is safe for concurrent use.
type Connector struct {
	web  *connector.Client
	scim *scim.API
	grid bool
	pace *pacer
	now  func() time.Time
}

// New returns a connector for the organisation cfg describes.
func New(cfg Config) *Connector {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.SCIMURL == "" {
		cfg.SCIMURL = DefaultSCIMURL
	}
	scimToken := cfg.SCIMToken
	if scimToken == "" {
		scimToken = cfg.Token
	}
	token := cfg.Token
	p := newPacer()
	web := &connector.Client{
		System:  System,
		BaseURL: strings.TrimRight(cfg.BaseURL, "/"),
		HTTP:    cfg.HTTP,
		Authorize: func(r *http.Request) error {
			if token == "" {
				return errors.New("no Slack token configured")
			}
			// Slack rejects tokens in query strings for newer apps; the header is the way.
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		},
		DecodeError: decodeWebError,
		Retries:     2,
		Pacer:       connector.NewPacer(8),
	}
	scimClient := scim.NewClient(System, cfg.SCIMURL, scimToken, cfg.HTTP, connector.NewPacer(4))
	return &Connector{
		web:  web,
		scim: &scim.API{Client: scimClient, Pace: p.scim},
		grid: cfg.EnterpriseGrid,
		pace: p,
		now:  time.Now,
	}
}

// System returns "slack".
func (c *Connector) System() string { return System }

// requiredScopes are the Web API token's scopes the connector needs.
func (c *Connector) requiredScopes() []string {
	s := []string{"users:read", "users:read.email"}
	if c.grid {
		s = append(s, "admin.users:read", "admin.users:write")
	}
	return s
}

// Check signs in with auth.test, compares the token's scopes (Slack lists them in the
// X-OAuth-Scopes header) with those needed, confirms the plan matches EnterpriseGrid, and
// reads one SCIM user. It changes nothing; every problem found is reported at once.
func (c *Connector) Check(ctx context.Context) error {
	var who struct {
		UserID              string `json:"user_id"`
		EnterpriseID        string `json:"enterprise_id"`
		IsEnterpriseInstall bool   `json:"is_enterprise_install"`
	}
	hdr, err := c.call(ctx, "auth.test", nil, &who)
	if err != nil {
		return fmt.Errorf("slack: check token: %w", err)
	}
	var problems []string
	if scopes := hdr.Get("X-OAuth-Scopes"); scopes != "" {
		have := strings.Split(strings.ReplaceAll(scopes, " ", ""), ",")
		var missing []string
		for _, s := range c.requiredScopes() {
			if !slices.Contains(have, s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, "the token lacks the scope(s) "+strings.Join(missing, ", "))
		}
	}
	if c.grid && who.EnterpriseID == "" {
		problems = append(problems, "enterprise_grid is set but the token does not belong to an Enterprise Grid org (auth.test returned no enterprise_id)")
	}
	if !c.grid && who.EnterpriseID != "" {
		problems = append(problems, fmt.Sprintf("the token belongs to Enterprise Grid org %s but enterprise_grid is not set, so sessions would not be reset", who.EnterpriseID))
	}
	if err := c.scim.Probe(ctx); err != nil {
		problems = append(problems, "SCIM: "+scimProblem(c.grid, err))
	}
	if len(problems) > 0 {
		return connector.Permanent(fmt.Errorf("slack: check: %s", strings.Join(problems, "; ")))
	}
	return nil
}

// scimProblem explains a SCIM refusal for an operator.
func scimProblem(grid bool, err error) string {
	switch connector.StatusOf(err) {
	case http.StatusUnauthorized:
		return "the token was refused by the SCIM API; it must be a user token with the admin scope (" + err.Error() + ")"
	case http.StatusForbidden:
		if grid {
			return "the SCIM API refused the token; it needs the admin scope from an app installed by an Org Owner (" + err.Error() + ")"
		}
		return "the SCIM API refused the token; SCIM needs the Business+ plan or Enterprise Grid and a user token with the admin scope (" + err.Error() + ")"
	}
	return err.Error()
}

// Package scim offboards a person from any application that speaks SCIM 2.0 (RFC 7643 and
// RFC 7644) as a service provider: Zoom, Atlassian Access, Notion, Figma and many more. One
// Connector serves one configured application, named by Config.Name, so several SCIM apps can
// be connected at once, each under its own system name.
//
// The person is found with a configurable filter on GET /Users, paged with
// startIndex/count; several matches are never guessed between but handed to a human. The
// account is deactivated with a PatchOp setting active to false (the default, which keeps the
// account for audit and rehire) or, when configured, deleted. Each change is verified by
// reading the user back. The facts relied on are in the project's apis.md §9.2; the operator
// page is docs/connectors/scim.md.
//
// The Users helpers (API) are exported because other connectors (Slack) deactivate through
// their vendor's SCIM endpoint with the same protocol.
package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Action kinds. They are part of the stored contract: plans saved today are applied and
// verified by later versions, so these names never change.
const (
	// KindDeactivate sets the SCIM user's active attribute to false.
	KindDeactivate = "deactivate"
	// KindDelete deletes the SCIM user (DELETE /Users/{id}); only when Config.Deprovision is
	// "delete".
	KindDelete = "delete"
)

// Deprovisioning modes for Config.Deprovision.
const (
	ModeDeactivate = "deactivate"
	ModeDelete     = "delete"
)

// DefaultUserFilter finds the user whose userName is the person's email address, which is
// what most IdP-provisioned SCIM apps use.
const DefaultUserFilter = `userName eq "{email}"`

// DefaultConcurrency caps requests in flight to one app. SCIM service providers rarely publish
// limits; a small number keeps a bulk layoff polite while the 429 handling covers the rest.
const DefaultConcurrency = 4

// Config is how to reach one SCIM 2.0 application.
type Config struct {
	// Name is the system name used in plans, tickets and audit records, e.g. "zoom". Required:
	// it tells apart the several SCIM apps a company connects.
	Name string
	// BaseURL is the SCIM root, the URL that /Users is relative to, e.g.
	// https://api.zoom.us/scim2. Required.
	BaseURL string
	// Token is the bearer token the app issued for SCIM provisioning. Never logged.
	Token string
	// UserFilter is the SCIM filter that finds the person (default DefaultUserFilter). The
	// placeholders {email}, {worker_id} and {handle} (the person's handle for Name) are
	// replaced by the person's values, escaped for a SCIM string literal; write the quotes
	// around them yourself, e.g. `externalId eq "{worker_id}"`.
	UserFilter string
	// Deprovision is "deactivate" (the default: PATCH active=false, reversible) or "delete"
	// (DELETE /Users/{id}, irreversible; for apps whose deactivation does not end access).
	Deprovision string
	// HTTP is the transport; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// Concurrency caps requests in flight (default DefaultConcurrency).
	Concurrency int
}

// Connector offboards people from one SCIM 2.0 application. It is safe for concurrent use.
type Connector struct {
	name   string
	filter string
	mode   string
	api    *API
	now    func() time.Time
}

var (
	namePattern        = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	placeholderPattern = regexp.MustCompile(`\{[a-z_]+\}`)
)

// placeholders are the values a UserFilter may use.
var placeholders = []string{"{email}", "{worker_id}", "{handle}"}

// New checks cfg and returns a connector for the application it describes. Every problem with
// the configuration is reported at once.
func New(cfg Config) (*Connector, error) {
	var problems []string
	if !namePattern.MatchString(cfg.Name) {
		problems = append(problems, fmt.Sprintf("name %q must be lower-case letters, digits and dashes, starting with a letter, such as \"zoom\"", cfg.Name))
	}
	if cfg.BaseURL == "" {
		problems = append(problems, "base_url is required (the SCIM root that /Users is under)")
	} else if !strings.HasPrefix(cfg.BaseURL, "https://") && !strings.HasPrefix(cfg.BaseURL, "http://") {
		problems = append(problems, "base_url must be an http(s) URL")
	}
	if cfg.UserFilter == "" {
		cfg.UserFilter = DefaultUserFilter
	}
	for _, p := range placeholderPattern.FindAllString(cfg.UserFilter, -1) {
		if !slices.Contains(placeholders, p) {
			problems = append(problems, fmt.Sprintf("user_filter uses unknown placeholder %s (known: %s)", p, strings.Join(placeholders, ", ")))
		}
	}
	if !placeholderPattern.MatchString(cfg.UserFilter) {
		problems = append(problems, "user_filter must use at least one placeholder, or it would match the same users for everyone")
	}
	switch cfg.Deprovision {
	case "":
		cfg.Deprovision = ModeDeactivate
	case ModeDeactivate, ModeDelete:
	default:
		problems = append(problems, fmt.Sprintf("deprovision %q must be %q or %q", cfg.Deprovision, ModeDeactivate, ModeDelete))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("scim %s: invalid configuration: %s", cfg.Name, strings.Join(problems, "; "))
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	client := NewClient(cfg.Name, cfg.BaseURL, cfg.Token, cfg.HTTP, connector.NewPacer(cfg.Concurrency))
	return &Connector{
		name:   cfg.Name,
		filter: cfg.UserFilter,
		mode:   cfg.Deprovision,
		api:    &API{Client: client},
		now:    time.Now,
	}, nil
}

// NewClient returns a connector.Client for a SCIM endpoint that authenticates with a bearer
// token and reads SCIM error bodies.
func NewClient(system, baseURL, token string, hc *http.Client, pacer *connector.Pacer) *connector.Client {
	return &connector.Client{
		System:  system,
		BaseURL: strings.TrimRight(baseURL, "/"),
		HTTP:    hc,
		Authorize: func(r *http.Request) error {
			if token == "" {
				return errors.New("no SCIM bearer token configured")
			}
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		},
		DecodeError: DecodeError,
		Retries:     2,
		Pacer:       pacer,
	}
}

// System returns the configured system name.
func (c *Connector) System() string { return c.name }

// Check lists one user, proving the URL and token work and that the token may read users. It
// changes nothing.
func (c *Connector) Check(ctx context.Context) error {
	err := c.api.Probe(ctx)
	if err == nil {
		return nil
	}
	switch connector.StatusOf(err) {
	case http.StatusUnauthorized:
		return connector.Permanent(fmt.Errorf("scim %s: the bearer token was refused; check the token issued for SCIM provisioning: %w", c.name, err))
	case http.StatusForbidden:
		return connector.Permanent(fmt.Errorf("scim %s: the token may not read users; it needs the app's SCIM provisioning (user read and write) permission: %w", c.name, err))
	}
	return fmt.Errorf("scim %s: check: %w", c.name, err)
}

// Package jenkins offboards a person from a Jenkins controller: it revokes every API token of
// their Jenkins user and, when configured to, deletes the user, verifying each step by reading
// Jenkins back.
//
// Jenkins core has no way to disable an account, so the default mode ("disable") does what
// core allows and can be verified (revoke the tokens) and hands the rest to a person, saying
// how; mode "delete" also deletes the user's record. It authenticates with HTTP Basic (user
// name and API token), fetches a CSRF crumb only when Jenkins asks for one, and talks through
// connector.Client. The operator page is docs/connectors/jenkins.md.
package jenkins

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// System is the connector's name in plans, tickets and audit records.
const System = "jenkins"

// Action kinds. They are part of the stored contract and never change.
const (
	// KindRevokeToken revokes one API token of the user.
	KindRevokeToken = "revoke_token"
	// KindDeleteUser deletes the user's record (mode "delete" only).
	KindDeleteUser = "delete_user"
)

var kindOrder = []string{KindRevokeToken, KindDeleteUser}

// Modes of offboarding.
const (
	// ModeDisable revokes the user's API tokens and leaves the account, listing for a person
	// how to block sign-in (Jenkins core cannot disable accounts).
	ModeDisable = "disable"
	// ModeDelete also deletes the user's record.
	ModeDelete = "delete"
)

// Config is how to reach one Jenkins controller.
type Config struct {
	// BaseURL is the controller's root URL, e.g. https://ci.example.com/ (with its context
	// path, if any).
	BaseURL string
	// Username and APIToken are an administrator's user ID and one of their API tokens.
	Username string
	APIToken string
	// Mode is ModeDisable (default) or ModeDelete.
	Mode string
	// HTTP is the transport; nil means a client with a 30 s timeout. Redirects are never
	// followed (Jenkins answers a deletion with a redirect to its dashboard).
	HTTP *http.Client
}

// Connector offboards people from one Jenkins controller. It is safe for concurrent use.
type Connector struct {
	client   *connector.Client
	mode     string
	username string
	now      func() time.Time

	mu    sync.Mutex
	crumb *crumb
	// fetching is held while a crumb is fetched, so that requests refused together fetch
	// one crumb between them.
	fetching sync.Mutex
}

// New returns a connector for the controller cfg describes, or an error naming every missing
// or invalid setting.
func New(cfg Config) (*Connector, error) {
	var problems []string
	if strings.TrimSpace(cfg.BaseURL) == "" {
		problems = append(problems, "base_url is required")
	} else if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, "base_url must be an http(s) URL")
	}
	if strings.TrimSpace(cfg.Username) == "" {
		problems = append(problems, "username is required")
	}
	if cfg.APIToken == "" {
		problems = append(problems, "api_token is required")
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = ModeDisable
	case ModeDisable, ModeDelete:
	default:
		problems = append(problems, fmt.Sprintf("mode %q is not %q or %q", cfg.Mode, ModeDisable, ModeDelete))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("jenkins: %s", strings.Join(problems, "; "))
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTP != nil {
		copied := *cfg.HTTP
		hc = &copied
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	user, token := cfg.Username, cfg.APIToken
	client := &connector.Client{
		System:  System,
		BaseURL: strings.TrimRight(cfg.BaseURL, "/"),
		HTTP:    hc,
		Authorize: func(r *http.Request) error {
			r.SetBasicAuth(user, token)
			return nil
		},
		DecodeError: decodeError,
		Retries:     2,
		// Jenkins publishes no rate limit; a few requests in flight keep a large controller
		// responsive while a plan reads.
		Pacer: connector.NewPacer(4),
	}
	return &Connector{client: client, mode: cfg.Mode, username: cfg.Username, now: time.Now}, nil
}

// System returns "jenkins".
func (c *Connector) System() string { return System }

// Check signs in and reads: who the token belongs to, the people list where this Jenkins still
// has it (2.452 removed it, JENKINS-18884; its 404 is no fault, as plans then skip the mail
// search), and the caller's own token page (proving this Jenkins version's page can be read).
// It changes nothing.
// Overall/Administer, needed to revoke other users' tokens and delete users, cannot be tested
// without a change; a missing permission shows on the first Apply as a permanent error.
func (c *Connector) Check(ctx context.Context) error {
	var who struct {
		Name          string `json:"name"`
		Anonymous     bool   `json:"anonymous"`
		Authenticated bool   `json:"authenticated"`
	}
	if _, err := c.client.JSON(ctx, http.MethodGet, "/whoAmI/api/json", nil, nil, &who); err != nil {
		return c.checkError("read /whoAmI", err)
	}
	if who.Anonymous || !who.Authenticated {
		return connector.Permanent(fmt.Errorf("jenkins: the credentials were not accepted (Jenkins sees an anonymous caller); check connectors.jenkins.username and api_token"))
	}
	if _, err := c.people(ctx); err != nil && !errors.Is(err, connector.ErrNotFound) {
		return c.checkError("read the people list", err)
	}
	if _, err := c.tokens(ctx, who.Name); err != nil {
		return c.checkError("read the API tokens of "+who.Name, err)
	}
	return nil
}

func (c *Connector) checkError(what string, err error) error {
	switch connector.StatusOf(err) {
	case http.StatusUnauthorized:
		return connector.Permanent(fmt.Errorf("jenkins: the API token was refused; check connectors.jenkins.username and api_token: %w", err))
	case http.StatusForbidden:
		return connector.Permanent(fmt.Errorf("jenkins: %s: permission denied; the user needs Overall/Administer: %w", what, err))
	}
	return fmt.Errorf("jenkins: check: %s: %w", what, err)
}

// userPath is /user/{id} plus rest, the ID escaped as one path segment.
func userPath(id string, rest ...string) string {
	p := "/user/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

var (
	titleRE      = regexp.MustCompile(`(?is)<title>(.*?)</title>`)
	permissionRE = regexp.MustCompile(`[^<>\n]{1,200} is missing the [^<>\n]{1,80} permission`)
)

// decodeError reads Jenkins' HTML error pages: the crumb refusal (code "crumb"), a missing
// permission, or the page title.
func decodeError(_ int, body []byte) (code, summary string) {
	text := string(body)
	switch {
	case strings.Contains(text, "No valid crumb"):
		return "crumb", "No valid crumb was included in the request"
	case strings.Contains(text, "Cannot delete self"):
		return "self", "Cannot delete self"
	}
	if m := permissionRE.FindString(text); m != "" {
		return "permission", html.UnescapeString(strings.TrimSpace(m))
	}
	if m := titleRE.FindStringSubmatch(text); m != nil {
		return "", html.UnescapeString(strings.TrimSpace(m[1]))
	}
	return "", ""
}

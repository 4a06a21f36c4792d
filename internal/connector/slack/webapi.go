package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Error is a Web API refusal: HTTP 200 with {"ok":false,"error":code} (apis.md §5). Needed and
// Provided are the scopes Slack names on missing_scope.
type Error struct {
	Method   string
	Code     string
	Needed   string
	Provided string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("slack: %s: %s", e.Method, e.Code)
	if hint := hints[e.Code]; hint != "" {
		msg += " (" + hint + ")"
	}
	if e.Code == "missing_scope" && e.Needed != "" {
		msg += fmt.Sprintf(": the token needs the scope %s (it has: %s)", e.Needed, e.Provided)
	}
	return msg
}

// Is makes errors.Is(err, connector.ErrNotFound) true for Slack's "no such user" codes.
func (e *Error) Is(target error) bool {
	return target == connector.ErrNotFound && (e.Code == "users_not_found" || e.Code == "user_not_found")
}

// Class is what the engine should do about an error code.
type Class int

// Classes of Web API error codes.
const (
	// Retry: Slack's own failure or an unknown code; a later attempt may succeed.
	Retry Class = iota
	// Permanent: credentials, scopes, plan or a refused request; a human must act.
	Permanent
	// NotFound: the user does not exist (or is not visible to the token).
	NotFound
	// RateLimited: wait as long as Slack asks.
	RateLimited
)

// classes classifies every error code the methods we call document (the Swagger enums of
// auth.test, users.lookupByEmail, users.info; docs of admin.users.session.*). A code missing
// here is retried as a plain error carrying the code, so a new code is visible but not fatal.
var classes = map[string]Class{
	"invalid_auth": Permanent, "not_authed": Permanent, "account_inactive": Permanent,
	"token_revoked": Permanent, "token_expired": Permanent, "no_permission": Permanent,
	"not_allowed_token_type": Permanent, "missing_scope": Permanent, "ekm_access_denied": Permanent,
	"enterprise_is_restricted": Permanent, "not_an_admin": Permanent, "invalid_permissions": Permanent,
	"restricted_action": Permanent, "access_denied": Permanent, "two_factor_setup_required": Permanent,
	"feature_not_enabled": Permanent, "not_an_enterprise": Permanent,
	"cannot_reset_primary_owner": Permanent, "cannot_reset_bot": Permanent, "user_not_visible": Permanent,
	"invalid_arg_name": Permanent, "invalid_array_arg": Permanent, "invalid_charset": Permanent,
	"invalid_form_data": Permanent, "invalid_post_type": Permanent, "missing_post_type": Permanent,
	"invalid_json": Permanent, "json_not_object": Permanent, "upgrade_required": Permanent,
	"invalid_arguments": Permanent, "invalid_cursor": Permanent, "invalid_limit": Permanent,
	"users_not_found": NotFound, "user_not_found": NotFound,
	"ratelimited":    RateLimited,
	"internal_error": Retry, "fatal_error": Retry, "service_unavailable": Retry,
	"request_timeout": Retry, "team_added_to_org": Retry,
}

// hints say what an operator can do about a code.
var hints = map[string]string{
	"invalid_auth":               "the token is not valid; check connectors.slack.token",
	"not_authed":                 "no token was sent",
	"account_inactive":           "the token's user has been deactivated; issue a token from an active Org Owner or Admin",
	"token_revoked":              "the token was revoked; issue a new one",
	"token_expired":              "the token expired; issue a new one (or turn off token rotation for this app)",
	"no_permission":              "the token's user may not do this; use an Org Owner or Admin's token",
	"not_allowed_token_type":     "this method needs a user token (xoxp-), not a bot token",
	"enterprise_is_restricted":   "the method is restricted on this Enterprise Grid org; install the app at the org level",
	"not_an_admin":               "the token's user is not an Org Owner or Admin",
	"feature_not_enabled":        "admin.users.* needs Enterprise Grid",
	"not_an_enterprise":          "admin.users.* needs Enterprise Grid",
	"cannot_reset_primary_owner": "Slack does not let the API sign out the Primary Owner; transfer primary ownership first",
	"cannot_reset_bot":           "bot users have no sessions to reset",
	"user_not_visible":           "the token cannot see this user",
	"upgrade_required":           "the app must be re-installed with current Slack permissions",
}

// ClassOf returns the class of a Web API error code.
func ClassOf(code string) Class {
	if c, ok := classes[code]; ok {
		return c
	}
	return Retry
}

// defaultRatelimitWait is how long to wait after ok:false ratelimited without a Retry-After:
// Slack's tiers are per minute.
const defaultRatelimitWait = 30 * time.Second

// classify turns an ok:false reply into the error the engine acts on.
func classify(method string, reply webReply, h http.Header, now time.Time) error {
	e := &Error{Method: method, Code: reply.Error, Needed: reply.Needed, Provided: reply.Provided}
	if e.Code == "" {
		e.Code = "unknown_error"
	}
	switch ClassOf(e.Code) {
	case Permanent:
		return connector.Permanent(e)
	case RateLimited:
		wait := connector.RetryAfterHeader(h, now)
		if wait <= 0 {
			wait = defaultRatelimitWait
		}
		return connector.RetryAfter(wait, e)
	}
	// NotFound and Retry are plain errors; errors.Is finds connector.ErrNotFound in the former.
	return e
}

// webReply is the envelope every Web API reply shares.
type webReply struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Needed   string `json:"needed"`
	Provided string `json:"provided"`
}

// call invokes a Web API method with a form-encoded POST and decodes a successful reply into
// out. Slack's methods take GET and POST interchangeably; POST keeps arguments such as email
// addresses out of URLs and access logs. It returns the reply's headers (X-OAuth-Scopes).
func (c *Connector) call(ctx context.Context, method string, args url.Values, out any) (http.Header, error) {
	if err := c.pace.web(ctx, method); err != nil {
		return nil, err
	}
	resp, err := c.web.Do(ctx, connector.Request{
		Method: http.MethodPost,
		Path:   "/" + method,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body:   []byte(args.Encode()),
	})
	if err != nil {
		return nil, err
	}
	var reply webReply
	if err := json.Unmarshal(resp.Body, &reply); err != nil {
		return nil, fmt.Errorf("slack: %s: decode reply: %w", method, err)
	}
	if !reply.OK {
		return resp.Header, classify(method, reply, resp.Header, c.now())
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return nil, fmt.Errorf("slack: %s: decode reply: %w", method, err)
		}
	}
	return resp.Header, nil
}

// decodeWebError reads {"ok":false,"error":…} from a non-2xx reply (Slack's 429 carries
// ratelimited; a proxy's 5xx may carry anything).
func decodeWebError(_ int, body []byte) (code, summary string) {
	var r webReply
	if json.Unmarshal(body, &r) != nil {
		return "", ""
	}
	return r.Error, ""
}

// isNotFound reports whether err says the user does not exist.
func isNotFound(err error) bool { return errors.Is(err, connector.ErrNotFound) }

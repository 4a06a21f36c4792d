// Package google offboards a person from Google Workspace: it hands their Drive and Calendar
// data over to their manager (Data Transfer API), signs them out everywhere, revokes the
// OAuth tokens they granted to applications, deletes their app-specific passwords,
// invalidates their backup verification codes, turns off 2-Step Verification, removes them
// from every group and finally suspends (never deletes) the account, verifying each step by
// reading Google back.
//
// It calls the Admin SDK (Directory API and Data Transfer API) as an administrator, through a
// service account with domain-wide delegation: the service account signs a JWT assertion
// naming the administrator as its subject, and Google's token endpoint exchanges it for an
// access token (golang.org/x/oauth2/jwt). Requests go through connector.Client, which treats
// Google's 403 userRateLimitExceeded/quotaExceeded and 429 as rate limits to wait out. The
// endpoints and their quirks are in the project's apis.md §6; the operator page is
// docs/connectors/google.md.
package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/offboard-dev/offboard/internal/connector"
)

// System is the connector's name in plans, tickets and audit records.
const System = "google"

// Action kinds. They are part of the stored contract: plans saved today are applied and
// verified by later versions, so these names never change.
//
// A data transfer is two kinds because Google takes hours to move a large Drive:
// KindTransferData is verified once Google has accepted the transfer, so suspension need not
// wait for the data to move; KindConfirmTransfer is verified once it has completed, and nothing
// waits on it.
const (
	KindTransferData    = "transfer_data"
	KindConfirmTransfer = "confirm_transfer"
	KindSignOut         = "sign_out"
	KindRevokeToken     = "revoke_token"
	KindDeleteASP       = "delete_asp"
	KindInvalidateCode  = "invalidate_backup_codes"
	KindTurnOff2SV      = "turn_off_2sv"
	KindRemoveGroup     = "remove_group"
	KindSuspend         = "suspend"
)

// kindOrder is the order plans list kinds in: the order they can run in.
var kindOrder = []string{KindTransferData, KindSignOut, KindRevokeToken, KindDeleteASP, KindInvalidateCode, KindTurnOff2SV, KindRemoveGroup, KindSuspend, KindConfirmTransfer}

// Where the data goes, for Config.TransferTo.
const (
	// TransferToManager hands Drive and Calendar data to Person.Manager (the default).
	TransferToManager = "manager"
	// TransferToNone leaves the data with the suspended account.
	TransferToNone = "none"
)

// Defaults for Config.
const (
	DefaultBaseURL     = "https://admin.googleapis.com"
	DefaultTokenURL    = "https://oauth2.googleapis.com/token"
	DefaultCustomer    = "my_customer"
	DefaultConcurrency = 8
)

// Scopes are the OAuth scopes the service account asks for, each of which must be granted to
// its client ID through domain-wide delegation. They are the narrowest that cover the calls
// made: users (read, suspend), user security (sign-out, tokens, app passwords, backup codes,
// 2-Step Verification), groups read-only plus group membership (list a user's groups, remove
// a member), and data transfer.
var Scopes = []string{
	"https://www.googleapis.com/auth/admin.directory.user",
	"https://www.googleapis.com/auth/admin.directory.user.security",
	"https://www.googleapis.com/auth/admin.directory.group.readonly",
	"https://www.googleapis.com/auth/admin.directory.group.member",
	"https://www.googleapis.com/auth/admin.datatransfer",
}

// Config is how to reach one Google Workspace account.
type Config struct {
	// CredentialsJSON is the service account's key file (JSON). A secret: never logged.
	CredentialsJSON string
	// AdminEmail is the administrator the service account impersonates (the JWT subject).
	AdminEmail string
	// Customer is the account's customer ID for the Data Transfer API (default
	// "my_customer", the impersonated admin's own account).
	Customer string
	// BaseURL is the Admin SDK root (default https://admin.googleapis.com).
	BaseURL string
	// TokenURL is Google's OAuth token endpoint; empty means the key file's token_uri, or
	// https://oauth2.googleapis.com/token. Tests point it at the simulator.
	TokenURL string
	// HTTP is the transport for the API and the token endpoint; nil means a 30 s timeout.
	HTTP *http.Client
	// TransferTo is where the person's Drive and Calendar data goes: "manager" (default:
	// Person.Manager when one is known; otherwise the plan says there is nobody to hand over
	// to and lists the transfer as manual work) or "none".
	TransferTo string
	// Scopes overrides the OAuth scopes requested; nil means Scopes.
	Scopes []string
	// Concurrency caps requests in flight (default 8): Google answers 403 quotaExceeded
	// when too many requests for one operation run at once.
	Concurrency int
}

// Connector offboards people from one Google Workspace account. It is safe for concurrent
// use.
type Connector struct {
	client *connector.Client
	// once is the client for calls that must not be repeated blindly (inserting a data
	// transfer): it waits out throttling but never retries, so the next attempt reads first.
	once       *connector.Client
	tokens     *tokenCache
	admin      string
	customer   string
	transferTo string
	groupReads singleflight.Group
	now        func() time.Time

	// signedOut records when Google accepted a sign-out per user ID, the only evidence of a
	// sign-out there is: Google has no API that lists a user's sessions.
	mu        sync.Mutex
	signedOut map[string]time.Time
}

// New checks cfg and returns a connector for the account it describes. It does not call
// Google; Check does.
func New(cfg Config) (*Connector, error) {
	var problems []string
	key, err := parseKey(cfg.CredentialsJSON)
	if err != nil {
		problems = append(problems, err.Error())
	}
	admin := strings.TrimSpace(cfg.AdminEmail)
	if !strings.Contains(admin, "@") {
		problems = append(problems, "admin_email must be the address of the administrator to impersonate")
	}
	switch cfg.TransferTo {
	case "":
		cfg.TransferTo = TransferToManager
	case TransferToManager, TransferToNone:
	default:
		problems = append(problems, fmt.Sprintf("transfer must be %q or %q, not %q", TransferToManager, TransferToNone, cfg.TransferTo))
	}
	if len(problems) > 0 {
		return nil, connector.Permanent(fmt.Errorf("google: bad configuration: %s", strings.Join(problems, "; ")))
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Customer == "" {
		cfg.Customer = DefaultCustomer
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = key.TokenURI
	}
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	scopes := cfg.Scopes
	if scopes == nil {
		scopes = Scopes
	}
	pacer := connector.NewPacer(cfg.Concurrency)
	tc := newTokenCache(key, admin, tokenURL, slices.Clone(scopes), cfg.HTTP, pacer)
	client := &connector.Client{
		System:      System,
		BaseURL:     strings.TrimRight(cfg.BaseURL, "/"),
		HTTP:        cfg.HTTP,
		Authorize:   authorize,
		DecodeError: decodeError,
		Throttled:   throttled,
		Retries:     2,
		Pacer:       pacer,
	}
	once := *client
	once.Retries = 0
	return &Connector{
		client: client, once: &once, tokens: tc, admin: admin, customer: cfg.Customer,
		transferTo: cfg.TransferTo, now: time.Now, signedOut: map[string]time.Time{},
	}, nil
}

// System returns "google".
func (c *Connector) System() string { return System }

// googleError is Google's error envelope (apis.md §6).
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Errors  []struct {
			Reason  string `json:"reason"`
			Domain  string `json:"domain"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"error"`
}

// decodeError reads the first error's reason as the code and the message as the summary.
func decodeError(_ int, body []byte) (code, summary string) {
	var e googleError
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	code = e.Error.Status
	if len(e.Error.Errors) > 0 && e.Error.Errors[0].Reason != "" {
		code = e.Error.Errors[0].Reason
	}
	return code, e.Error.Message
}

// rateReasons are the error reasons Google uses for throttling (Directory API limits page).
var rateReasons = []string{"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"}

// throttled recognises Google's throttling, which usually arrives as a 403 rather than a 429:
// a permission refusal and a rate limit share the status and differ only in the reason.
func throttled(status int, _ http.Header, body []byte) bool {
	if status != http.StatusForbidden && status != http.StatusTooManyRequests {
		return false
	}
	code, _ := decodeError(status, body)
	return slices.Contains(rateReasons, code)
}

// tokenKey carries the access token of one call to authorize, through the request context.
type tokenKey struct{}

// authorize adds the access token do fetched for this call.
func authorize(r *http.Request) error {
	tok, _ := r.Context().Value(tokenKey{}).(string)
	if tok == "" {
		return errors.New("no access token for this request")
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// do sends one request with a current access token. An access token Google refuses (401) is
// dropped and the request tried once more with a fresh one, as tokens can be revoked early.
func (c *Connector) do(ctx context.Context, cl *connector.Client, req connector.Request, out any) (*connector.Response, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.get(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := cl.Do(context.WithValue(ctx, tokenKey{}, tok), req)
		if connector.StatusOf(err) == http.StatusUnauthorized && attempt == 0 {
			c.tokens.drop(tok)
			continue
		}
		if err != nil {
			return nil, err
		}
		if out != nil {
			if err := resp.Decode(out); err != nil {
				p, _, _ := strings.Cut(req.Path, "?")
				return resp, fmt.Errorf("google: %s %s: decode reply: %w", req.Method, p, err)
			}
		}
		return resp, nil
	}
}

func (c *Connector) get(ctx context.Context, path string, query map[string][]string, out any) error {
	_, err := c.do(ctx, c.client, connector.Request{Method: http.MethodGet, Path: path, Query: query}, out)
	return err
}

const (
	dirPrefix      = "/admin/directory/v1"
	transferPrefix = "/admin/datatransfer/v1"
)

func userPath(key string, rest ...string) string {
	p := dirPrefix + "/users/" + connector.PathSegment(key)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

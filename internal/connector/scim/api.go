package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/offboard-dev/offboard/internal/connector"
)

// SCIM message schemas (RFC 7644 §3.4.2, §3.5.2, §3.12).
const (
	SchemaPatchOp      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaError        = "urn:ietf:params:scim:api:messages:2.0:Error"
	SchemaListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	// MediaType is the SCIM content type (RFC 7644 §3.1).
	MediaType = "application/scim+json"
)

// Wait, when set, is called before each request of the given kind ("read" or "write") so a
// caller can pace to limits the vendor publishes but does not signal in headers (Slack's
// org-wide SCIM budgets). It must return ctx.Err() when ctx ends first.
type Wait func(ctx context.Context, write bool) error

// API is the Users endpoint of one SCIM 2.0 service provider, reached through a
// connector.Client (see NewClient).
type API struct {
	Client *connector.Client
	// Pace, if set, is waited on before every request.
	Pace Wait
	// PageSize is the count asked for per page when searching (default 100).
	PageSize int
}

// User is the part of a SCIM User resource (RFC 7643 §4.1) offboarding reads. Active is a
// pointer because the attribute is optional: a provider that omits it says nothing about
// whether the account works.
type User struct {
	ID         string  `json:"id"`
	ExternalID string  `json:"externalId,omitempty"`
	UserName   string  `json:"userName"`
	Active     *bool   `json:"active,omitempty"`
	Emails     []Email `json:"emails,omitempty"`
	Groups     []Group `json:"groups,omitempty"`
	// Raw is the resource exactly as read, kept as evidence.
	Raw json.RawMessage `json:"-"`
}

// Email is one of a user's email addresses.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Group is a membership from the user's read-only "groups" attribute.
type Group struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
}

// IsActive reports whether the user is active. A missing attribute counts as active: access
// must be assumed until the provider says otherwise.
func (u User) IsActive() bool { return u.Active == nil || *u.Active }

// ActiveText describes the active attribute for people.
func (u User) ActiveText() string {
	switch {
	case u.Active == nil:
		return "active not reported"
	case *u.Active:
		return "active"
	}
	return "inactive"
}

// Name is the best short name of the user for sentences: userName, else the ID.
func (u User) Name() string {
	if u.UserName != "" {
		return u.UserName
	}
	return u.ID
}

// UserPath is the path of one user resource.
func UserPath(id string) string { return "/Users/" + url.PathEscape(id) }

func (a *API) pace(ctx context.Context, write bool) error {
	if a.Pace == nil {
		return nil
	}
	return a.Pace(ctx, write)
}

func scimHeaders() http.Header {
	return http.Header{"Accept": {MediaType + ", application/json"}}
}

// Get reads one user. A user that does not exist is connector.ErrNotFound.
func (a *API) Get(ctx context.Context, id string) (User, error) {
	if err := a.pace(ctx, false); err != nil {
		return User{}, err
	}
	resp, err := a.Client.Do(ctx, connector.Request{Method: http.MethodGet, Path: UserPath(id), Header: scimHeaders()})
	if err != nil {
		return User{}, err
	}
	var u User
	if err := json.Unmarshal(resp.Body, &u); err != nil {
		return User{}, fmt.Errorf("%s: GET %s: decode user: %w", a.Client.System, UserPath(id), err)
	}
	u.Raw = json.RawMessage(resp.Body)
	return u, nil
}

// listResponse is RFC 7644 §3.4.2's ListResponse.
type listResponse struct {
	TotalResults *int              `json:"totalResults"`
	ItemsPerPage int               `json:"itemsPerPage"`
	StartIndex   int               `json:"startIndex"`
	Resources    []json.RawMessage `json:"Resources"`
}

// maxSearchResults bounds a search: a filter meant to find one person that matches more than
// this is misconfigured, and reading on would only waste the app's budget.
const maxSearchResults = 1000

// Find returns every user the filter matches, reading all pages. Paging follows RFC 7644
// §3.4.2.4: startIndex is 1-based and advances by the number of resources actually returned,
// since a provider may return fewer than asked (its own maximum) whatever itemsPerPage says.
func (a *API) Find(ctx context.Context, filter string) ([]User, error) {
	size := a.PageSize
	if size <= 0 {
		size = 100
	}
	var users []User
	start := 1
	for {
		page, total, err := a.list(ctx, filter, start, size)
		if err != nil {
			return nil, err
		}
		users = append(users, page...)
		// totalResults is required, but a provider that omits it must not make a second
		// match invisible: then only a short page ends the search.
		if len(page) == 0 || (total >= 0 && len(users) >= total) || (total < 0 && len(page) < size) {
			return users, nil
		}
		if len(users) >= maxSearchResults {
			return nil, connector.Permanent(fmt.Errorf("%s: the user filter matches more than %d users; it must identify one person", a.Client.System, maxSearchResults))
		}
		start += len(page)
	}
}

// Probe reads a single user, the cheapest request that proves the endpoint and token work
// and that the token may read users.
func (a *API) Probe(ctx context.Context) error {
	_, _, err := a.list(ctx, "", 1, 1)
	return err
}

// list reads one page of users and the totalResults reported, or -1 when it is missing.
func (a *API) list(ctx context.Context, filter string, start, count int) ([]User, int, error) {
	if err := a.pace(ctx, false); err != nil {
		return nil, 0, err
	}
	q := url.Values{"startIndex": {strconv.Itoa(start)}, "count": {strconv.Itoa(count)}}
	if filter != "" {
		q.Set("filter", filter)
	}
	resp, err := a.Client.Do(ctx, connector.Request{Method: http.MethodGet, Path: "/Users", Query: q, Header: scimHeaders()})
	if err != nil {
		return nil, 0, err
	}
	var lr listResponse
	if err := json.Unmarshal(resp.Body, &lr); err != nil {
		return nil, 0, fmt.Errorf("%s: GET /Users: decode list: %w", a.Client.System, err)
	}
	users := make([]User, 0, len(lr.Resources))
	for _, raw := range lr.Resources {
		var u User
		if err := json.Unmarshal(raw, &u); err != nil {
			return nil, 0, fmt.Errorf("%s: GET /Users: decode user: %w", a.Client.System, err)
		}
		u.Raw = raw
		users = append(users, u)
	}
	total := -1
	if lr.TotalResults != nil {
		total = *lr.TotalResults
	}
	return users, total, nil
}

// patchOp is one operation of a PatchOp request (RFC 7644 §3.5.2).
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value"`
}

// DeactivateBody is the PatchOp that sets active to false, in the form with a path, which
// every provider accepts (apis.md §9.2).
func DeactivateBody() any {
	return map[string]any{
		"schemas":    []string{SchemaPatchOp},
		"Operations": []patchOp{{Op: "replace", Path: "active", Value: false}},
	}
}

// Deactivate sets the user's active attribute to false. Repeating it is harmless (the
// attribute is simply replaced again). A user that no longer exists is connector.ErrNotFound.
func (a *API) Deactivate(ctx context.Context, id string) error {
	if err := a.pace(ctx, true); err != nil {
		return err
	}
	body, _ := json.Marshal(DeactivateBody())
	h := scimHeaders()
	h.Set("Content-Type", MediaType)
	_, err := a.Client.Do(ctx, connector.Request{Method: http.MethodPatch, Path: UserPath(id), Header: h, Body: body})
	return err
}

// Delete deletes the user. A user that is already gone is connector.ErrNotFound.
func (a *API) Delete(ctx context.Context, id string) error {
	if err := a.pace(ctx, true); err != nil {
		return err
	}
	_, err := a.Client.Do(ctx, connector.Request{Method: http.MethodDelete, Path: UserPath(id), Header: scimHeaders()})
	return err
}

// errorBody is RFC 7644 §3.12's error response. status is a string by the RFC, but some
// providers send a number, so it is read as either.
type errorBody struct {
	Schemas  []string        `json:"schemas"`
	Status   json.RawMessage `json:"status"`
	ScimType string          `json:"scimType"`
	Detail   string          `json:"detail"`
	// Some providers (and SCIM 1.1) use other shapes; these catch the common ones.
	Message string `json:"message"`
	Errors  any    `json:"Errors"`
}

// DecodeError reads a SCIM error body: the scimType is the code and the detail the summary.
func DecodeError(_ int, body []byte) (code, summary string) {
	var e errorBody
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	summary = e.Detail
	if summary == "" {
		summary = e.Message
	}
	if summary == "" && e.Errors != nil {
		if b, err := json.Marshal(e.Errors); err == nil {
			summary = string(b)
		}
	}
	return e.ScimType, truncate(summary, 300)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// EscapeFilterValue escapes s for use inside a double-quoted SCIM filter string literal.
// SCIM filter strings are JSON strings (RFC 7644 §3.4.2.2, ABNF compValue): a quote or
// backslash in an email or name must be escaped, or the filter would end early and could
// match someone else. Control characters become \uXXXX with upper-case hex, the form every
// parser accepts; everything else is sent as is.
func EscapeFilterValue(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ErrMissingValue is returned by ExpandFilter when the filter needs a value the person lacks.
var ErrMissingValue = errors.New("missing value")

// ExpandFilter replaces the placeholders in filter with the escaped values given, keyed by
// placeholder ("{email}"). A placeholder whose value is empty is an error wrapping
// ErrMissingValue, naming it: searching for an empty string could match the wrong account.
func ExpandFilter(filter string, values map[string]string) (string, error) {
	var missing []string
	out := placeholderPattern.ReplaceAllStringFunc(filter, func(p string) string {
		v := strings.TrimSpace(values[p])
		if v == "" {
			missing = append(missing, p)
			return p
		}
		return EscapeFilterValue(v)
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%w: the person has no value for %s", ErrMissingValue, strings.Join(missing, ", "))
	}
	return out, nil
}

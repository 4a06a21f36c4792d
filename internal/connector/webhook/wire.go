package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/offboard-dev/offboard/internal/connector"
)

// request is the body of every POST (docs/connectors/webhook.md, "Requests").
type request struct {
	Version int    `json:"version"`
	Phase   string `json:"phase"`
	System  string `json:"system"`
	// Person is omitted in a check.
	Person *wirePerson `json:"person,omitempty"`
	// Action is sent with apply and verify only.
	Action *wireAction `json:"action,omitempty"`
	// IdempotencyKey is the action's key: the same for every delivery of one action.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

type wirePerson struct {
	WorkerID string `json:"worker_id,omitempty"`
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
	Manager  string `json:"manager,omitempty"`
	Handle   string `json:"handle,omitempty"`
}

// wireAction is an action as the tool plans it and as offboard sends it back. System is
// accepted in answers only to be checked; offboard stamps it itself.
type wireAction struct {
	System string            `json:"system,omitempty"`
	Kind   string            `json:"kind"`
	Target string            `json:"target"`
	Detail string            `json:"detail"`
	Params map[string]string `json:"params,omitempty"`
	After  []string          `json:"after,omitempty"`
	Before string            `json:"before,omitempty"`
}

// envelope is what every answer carries. Version is a pointer so a missing one is told apart.
type envelope struct {
	Version *int   `json:"version"`
	Phase   string `json:"phase"`
}

func (e envelope) head() envelope { return e }

type answer interface{ head() envelope }

type planResponse struct {
	envelope
	NotFound bool   `json:"not_found"`
	Account  string `json:"account"`
	// Actions is a pointer so that a missing list (a bug that would otherwise read as
	// "nothing to remove") is told apart from an empty one.
	Actions *[]wireAction `json:"actions"`
	Kept    []struct {
		Target string `json:"target"`
		Detail string `json:"detail"`
		Reason string `json:"reason"`
	} `json:"kept"`
	Manual []struct {
		Detail string `json:"detail"`
	} `json:"manual"`
	Rotate []struct {
		Location string `json:"location"`
		Name     string `json:"name"`
		Reason   string `json:"reason"`
	} `json:"rotate"`
	Notes []string `json:"notes"`
}

type applyResponse struct {
	envelope
	OK      *bool  `json:"ok"`
	Changed bool   `json:"changed"`
	Message string `json:"message"`
	Error   *struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		Retryable  *bool  `json:"retryable"`
		RetryAfter int    `json:"retry_after"`
	} `json:"error"`
}

type verifyResponse struct {
	envelope
	Verified *bool           `json:"verified"`
	Observed string          `json:"observed"`
	Read     json.RawMessage `json:"read"`
}

type checkResponse struct {
	envelope
	Problems []string `json:"problems"`
}

// call POSTs req, signed, and decodes the answer into out after checking its size, its JSON
// (strictly: an unknown field is an error, so a misspelt "after" cannot silently drop a
// dependency), its version and its phase.
func (c *Connector) call(ctx context.Context, req request, out answer) error {
	req.Version, req.System = Version, c.name
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	resp, err := c.client.Do(ctx, connector.Request{
		Method: http.MethodPost,
		Path:   c.url,
		// The phase is repeated in the query for the tool's access logs and proxies; the
		// signed body is what the tool acts on.
		Query:  url.Values{"phase": {req.Phase}},
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   body,
	})
	if err != nil {
		return c.classify(err)
	}
	if len(resp.Body) > MaxResponse {
		return permanentAnswer("the answer is larger than %d bytes", MaxResponse)
	}
	dec := json.NewDecoder(bytes.NewReader(c.scrub(resp.Body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return permanentAnswer("not a %s answer of protocol version %d: %s", req.Phase, Version, clean(err.Error(), 200))
	}
	if dec.More() {
		return permanentAnswer("more than one JSON value in the body")
	}
	h := out.head()
	switch {
	case h.Version == nil:
		return permanentAnswer("no \"version\"")
	case *h.Version != Version:
		return permanentAnswer("version %d answered to a version %d request", *h.Version, Version)
	case h.Phase != req.Phase:
		return permanentAnswer("phase %q answered to a %q request", clean(h.Phase, 40), req.Phase)
	}
	return nil
}

// classify makes the tool's refusals permanent where retrying cannot help, with a hint at
// the usual cause. Throttling never gets here (the client waits it out); 5xx, 408, 425 and
// transport failures (timeouts, refused connections) stay retryable.
func (c *Connector) classify(err error) error {
	status := connector.StatusOf(err)
	var netErr net.Error
	switch {
	case status == 0 && errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("the tool did not answer within %s (the connector's timeout): %w", c.timeout, err)
	case status == http.StatusUnauthorized:
		return connector.Permanent(fmt.Errorf("the tool refused offboard's signature; check that the secret is the same on both sides and that both clocks are within 5 minutes: %w", err))
	case status == http.StatusForbidden:
		return connector.Permanent(fmt.Errorf("the tool forbids this request: %w", err))
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		return connector.Permanent(fmt.Errorf("nothing at the configured URL answers the offboard webhook protocol: %w", err))
	case status >= 300 && status < 400:
		return connector.Permanent(fmt.Errorf("the tool answered with a redirect, which offboard does not follow with a signed request; configure the final URL: %w", err))
	case status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooEarly:
		return connector.Permanent(err)
	}
	return err
}

// decodeError reads the tool's error body, {"error": {"code", "message"}}, or the bare
// {"error": "message"} many proxies answer with. The text is cleaned and cut short, and the
// shared secret scrubbed, as a tool could echo anything.
func (c *Connector) decodeError(_ int, body []byte) (code, summary string) {
	body = c.scrub(body)
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Error) == 0 {
		return "", ""
	}
	var obj struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(e.Error, &obj) == nil {
		return clean(obj.Code, 64), clean(obj.Message, 300)
	}
	var s string
	if json.Unmarshal(e.Error, &s) == nil {
		return "", clean(s, 300)
	}
	return "", ""
}

// scrub replaces the shared secret, raw or JSON-escaped, wherever a tool echoed it.
func (c *Connector) scrub(b []byte) []byte {
	const redacted = "[REDACTED]"
	esc, _ := json.Marshal(string(c.secret))
	esc = esc[1 : len(esc)-1]
	b = bytes.ReplaceAll(b, esc, []byte(redacted))
	if !bytes.Equal(esc, c.secret) {
		b = bytes.ReplaceAll(b, c.secret, []byte(redacted))
	}
	return b
}

// clean makes tool-supplied text safe to show in a plan, a ticket or a log line: control
// characters become spaces, and text longer than max runes is cut with an ellipsis.
func clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return s
}

// validKind reports whether s can be a kind or a system name: it is stored in action keys
// ("system/kind/target") and dependencies, so it is a short lower-case identifier.
func validKind(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// permanentAnswer is an answer that breaks the protocol: the same tool code would give it
// again, so retrying cannot help.
func permanentAnswer(format string, args ...any) error {
	return connector.Permanent(fmt.Errorf("%w: "+format, append([]any{ErrInvalidAnswer}, args...)...))
}

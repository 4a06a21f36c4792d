package connector

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxBody bounds how much of a response is read, so a misbehaving server cannot exhaust memory.
const maxBody = 16 << 20

// maxThrottleWait bounds a vendor's throttle wait. A throttled call waits within its attempt
// when the attempt's deadline allows; otherwise the wait is handed to the engine, which
// retries the step then, at most maxThrottleWait ahead.
const maxThrottleWait = time.Hour

// Client sends requests to one vendor API. It adds credentials, paces requests to the vendor's
// rate-limit headers, waits out 429s (so a rate limit never fails a step), retries transient
// failures a few times, and turns refusals into *APIError values that carry no credential.
type Client struct {
	// System names the vendor in errors, e.g. "okta".
	System string
	// BaseURL is the API root; it may carry a path prefix (http://127.0.0.1:8080/okta).
	BaseURL string
	// HTTP is the transport; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// Authorize adds credentials to a request. Credentials are never logged or put in errors.
	Authorize func(*http.Request) error
	// RateHeaders reads the vendor's budget headers; nil means StandardRateHeaders.
	RateHeaders RateHeaders
	// DecodeError extracts the vendor's error code and summary from an error body.
	DecodeError func(status int, body []byte) (code, summary string)
	// Throttled reports vendor-specific throttling that does not use 429 (Google's 403
	// userRateLimitExceeded, GitHub's 403 with no remaining budget).
	Throttled func(status int, h http.Header, body []byte) bool
	// ThrottleBackoff is the first wait after a throttle that names no wait and leaves budget
	// (GitHub's secondary limits ask for at least a minute); it doubles up to a minute, or
	// stays at it. Zero means one second.
	ThrottleBackoff time.Duration
	// Retries is how many times a transient failure (5xx, a dropped connection) is retried
	// within one call before the error is returned for the engine to retry later.
	Retries int
	// Pacer is shared by every request to this vendor; nil means NewPacer(16).
	Pacer *Pacer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Request is one call. Path is an escaped path relative to BaseURL (segments escaped with
// url.PathEscape, optionally followed by a query), or an absolute URL on the same host as
// BaseURL (a pagination link); a link to another host is refused so credentials cannot leak.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	// Body is sent as is; JSON, when set, is marshalled instead and Content-Type set.
	Body []byte
	JSON any
}

// Response is a successful (2xx) reply.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body as JSON into out.
func (r *Response) Decode(out any) error {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return nil
	}
	return json.Unmarshal(r.Body, out)
}

// NextLink returns the rel="next" URL of an RFC 8288 Link header, or "".
func (r *Response) NextLink() string { return NextLink(r.Header) }

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// pacerMu guards the lazy creation of a Client's Pacer; a global lock keeps Client copyable.
var pacerMu sync.Mutex

func (c *Client) pacer() *Pacer {
	pacerMu.Lock()
	defer pacerMu.Unlock()
	if c.Pacer == nil {
		c.Pacer = NewPacer(16)
	}
	return c.Pacer
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// resolve builds the request URL. A relative Path is an escaped URL path (segments escaped with
// url.PathEscape), optionally with a query; req.Query is merged over any query it carries.
func (c *Client) resolve(req Request) (*url.URL, error) {
	base, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s: bad base URL: %w", c.System, urlErrorCause(err)))
	}
	var u *url.URL
	if strings.HasPrefix(req.Path, "http://") || strings.HasPrefix(req.Path, "https://") {
		// url.Error repeats the whole link, query string included; keep only the cause.
		if u, err = url.Parse(req.Path); err != nil {
			return nil, fmt.Errorf("%s: bad link: %w", c.System, urlErrorCause(err))
		}
		if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) || u.User != nil {
			return nil, Permanent(fmt.Errorf("%s: refusing to follow a link to another host (%s)", c.System, u.Hostname()))
		}
	} else {
		p, rawQuery, _ := strings.Cut(req.Path, "?")
		joined := strings.TrimSuffix(base.EscapedPath(), "/") + "/" + strings.TrimPrefix(p, "/")
		u = &url.URL{Scheme: base.Scheme, Host: base.Host, RawQuery: rawQuery}
		if unescaped, err := url.PathUnescape(joined); err == nil {
			u.Path, u.RawPath = unescaped, joined
		} else {
			u.Path = joined
		}
	}
	u.Fragment = ""
	if len(req.Query) > 0 {
		q := u.Query()
		for k, vs := range req.Query {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	return u, nil
}

func urlErrorCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Do sends req and returns the 2xx response, or an error: *APIError (wrapped in Permanent for
// 400, 401, 403, 405, 409, 413 and 422 unless throttled) for a refusal, a plain error for a
// transient failure that outlasted the retries, or the context's error. A 429, or a response
// the Throttled hook recognises, is waited out for as long as the vendor asks; the context
// bounds the wait.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	u, err := c.resolve(req)
	if err != nil {
		return nil, err
	}
	body := req.Body
	if req.JSON != nil {
		if body, err = json.Marshal(req.JSON); err != nil {
			return nil, fmt.Errorf("%s: %s %s: encode body: %w", c.System, req.Method, u.Path, err)
		}
	}
	readHeaders := c.RateHeaders
	if readHeaders == nil {
		readHeaders = StandardRateHeaders
	}
	pacer := c.pacer()
	transient := 0
	backoff := cmp.Or(c.ThrottleBackoff, time.Second)
	for {
		resp, secrets, err := c.once(ctx, pacer, req, u, body)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if IsPermanent(err) || transient >= c.Retries {
				return nil, err
			}
			transient++
			if err := pacer.sleep(ctx, jitter(time.Duration(transient)*100*time.Millisecond)); err != nil {
				return nil, err
			}
			continue
		}
		now := c.now()
		rl := readHeaders(resp.Header, now)
		pacer.Observe(rl, now)
		status := resp.Status
		if status >= 200 && status < 300 {
			return resp, nil
		}
		if status == http.StatusTooManyRequests || (c.Throttled != nil && c.Throttled(status, resp.Header, resp.Body)) {
			wait := rl.RetryAfter
			if wait <= 0 && rl.Reset.After(now) && rl.Remaining <= 0 {
				// The budget is spent (or its size unknown): it comes back at the reset. With
				// budget left, this is another limit (GitHub's secondary ones), which the
				// reset of the primary budget says nothing about.
				wait = rl.Reset.Sub(now)
			}
			if wait <= 0 {
				wait = backoff
				backoff = max(min(backoff*2, time.Minute), backoff)
			}
			if dl, ok := ctx.Deadline(); (ok && wait >= time.Until(dl)) || wait > maxThrottleWait {
				// Longer than this attempt may last: every call to this vendor holds (bounded,
				// in case a proxy asks for a day), and the step is rescheduled for then,
				// saying why, instead of running into its own timeout.
				wait = min(wait, maxThrottleWait)
				pacer.pauseFor(wait)
				return nil, RetryAfter(wait, fmt.Errorf("%w: throttled, asked to wait %s", c.apiError(req.Method, u.Path, status, resp.Body, secrets), wait.Round(time.Second)))
			}
			pacer.pauseFor(jitter(wait))
			continue
		}
		apiErr := c.apiError(req.Method, u.Path, status, resp.Body, secrets)
		switch {
		case status >= 500:
			if transient < c.Retries {
				transient++
				if err := pacer.sleep(ctx, jitter(time.Duration(transient)*100*time.Millisecond)); err != nil {
					return nil, err
				}
				continue
			}
			return nil, apiErr
		case status == 404:
			return nil, apiErr
		case status == 400, status == 401, status == 403, status == 405, status == 409, status == 413, status == 422:
			return nil, Permanent(apiErr)
		default:
			return nil, apiErr
		}
	}
}

// once makes one attempt. Besides the response it returns the credential values Authorize
// added, so that anything the vendor echoes back can be scrubbed of them.
func (c *Client) once(ctx context.Context, pacer *Pacer, req Request, u *url.URL, body []byte) (*Response, []string, error) {
	release, err := pacer.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, u.String(), rd)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s %s: %w", c.System, req.Method, u.Path, urlErrorCause(err))
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	if req.JSON != nil && hreq.Header.Get("Content-Type") == "" {
		hreq.Header.Set("Content-Type", "application/json")
	}
	if hreq.Header.Get("Accept") == "" {
		hreq.Header.Set("Accept", "application/json")
	}
	hreq.Header.Set("User-Agent", "offboard")
	var secrets []string
	if c.Authorize != nil {
		before, query := hreq.Header.Clone(), hreq.URL.Query()
		if err := c.Authorize(hreq); err != nil {
			return nil, nil, Permanent(fmt.Errorf("%s: credentials: %w", c.System, err))
		}
		secrets = addedCredentials(before, hreq.Header, query, hreq.URL.Query())
	}
	hresp, err := c.httpClient().Do(hreq)
	if err != nil {
		// url.Error repeats the full URL; keep only the cause so no query string is echoed. The
		// cause stays wrapped (for errors.Is on timeouts and refusals) unless it had to be scrubbed.
		cause := urlErrorCause(err)
		if msg := scrub(cause.Error(), secrets); msg != cause.Error() {
			cause = errors.New(msg)
		}
		return nil, secrets, fmt.Errorf("%s: %s %s: %w", c.System, req.Method, u.Path, cause)
	}
	defer hresp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(hresp.Body, maxBody+1))
	if err != nil {
		return nil, secrets, fmt.Errorf("%s: %s %s: read response: %s", c.System, req.Method, u.Path, scrub(err.Error(), secrets))
	}
	if len(respBody) > maxBody {
		// A truncated page would be read as the whole answer: a list cut short hides access.
		return nil, secrets, Permanent(fmt.Errorf("%s: %s %s: the response is larger than %d MiB; refusing to read part of it", c.System, req.Method, u.Path, maxBody>>20))
	}
	return &Response{Status: hresp.StatusCode, Header: hresp.Header, Body: respBody}, secrets, nil
}

func (c *Client) apiError(method, path string, status int, body []byte, secrets []string) *APIError {
	e := &APIError{System: c.System, Method: method, Path: path, Status: status}
	if c.DecodeError != nil {
		e.Code, e.Summary = c.DecodeError(status, body)
		e.Code, e.Summary = scrub(e.Code, secrets), scrub(e.Summary, secrets)
	}
	if e.Summary == "" {
		e.Summary = http.StatusText(status)
	}
	return e
}

// addedCredentials returns the header and query values Authorize set, in every form a vendor
// might echo: the whole value, the token after its scheme, and a Basic pair decoded.
func addedCredentials(before, after http.Header, qBefore, qAfter url.Values) []string {
	var values []string
	for k, vs := range after {
		if !slices.Equal(before[k], vs) {
			values = append(values, vs...)
		}
	}
	for k, vs := range qAfter {
		if !slices.Equal(qBefore[k], vs) {
			values = append(values, vs...)
		}
	}
	var out []string
	add := func(s string) {
		// Very short values are not credentials and would scrub ordinary words.
		if len(s) >= 4 {
			out = append(out, s)
		}
	}
	for _, v := range values {
		add(v)
		scheme, token, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok {
			continue
		}
		token = strings.TrimSpace(token)
		add(token)
		if strings.EqualFold(scheme, "Basic") {
			if pair, err := base64.StdEncoding.DecodeString(token); err == nil {
				add(string(pair))
				if _, pass, ok := strings.Cut(string(pair), ":"); ok {
					add(pass)
				}
			}
		}
	}
	// Longest first, so a whole value is replaced before a part of it.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// scrub replaces every credential value in s.
func scrub(s string, secrets []string) string {
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, "[REDACTED]")
	}
	return s
}

// JSON sends a request with an optional JSON body and decodes a JSON reply into out (if not nil).
func (c *Client) JSON(ctx context.Context, method, path string, query url.Values, in, out any) (*Response, error) {
	resp, err := c.Do(ctx, Request{Method: method, Path: path, Query: query, JSON: in})
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := resp.Decode(out); err != nil {
			return resp, fmt.Errorf("%s: %s %s: decode reply: %w", c.System, method, pathOnly(path), err)
		}
	}
	return resp, nil
}

// pathOnly drops the scheme, host and query of a path or link, for error messages.
func pathOnly(path string) string {
	if u, err := url.Parse(path); err == nil {
		return u.Path
	}
	p, _, _ := strings.Cut(path, "?")
	return p
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBody bounds how much of a response is read, so a misbehaving server cannot exhaust memory.
const maxBody = 16 << 20

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
	// Retries is how many times a transient failure (5xx, a dropped connection) is retried
	// within one call before the error is returned for the engine to retry later.
	Retries int
	// Pacer is shared by every request to this vendor; nil means NewPacer(16).
	Pacer *Pacer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Request is one call. Path is relative to BaseURL, or an absolute URL on the same host as
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

// NextLink returns the rel="next" URL of an RFC 8288 Link header, or "".
func NextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			segs := strings.Split(part, ";")
			if len(segs) < 2 {
				continue
			}
			target := strings.TrimSpace(segs[0])
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range segs[1:] {
				p = strings.TrimSpace(p)
				if p == `rel="next"` || p == "rel=next" {
					return target[1 : len(target)-1]
				}
			}
		}
	}
	return ""
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) pacer() *Pacer {
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

// resolve builds the request URL and the path shown in errors (no query string).
func (c *Client) resolve(req Request) (*url.URL, error) {
	base, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("%s: bad base URL: %w", c.System, err)
	}
	if strings.HasPrefix(req.Path, "http://") || strings.HasPrefix(req.Path, "https://") {
		u, err := url.Parse(req.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: bad link: %w", c.System, err)
		}
		if u.Scheme != base.Scheme || u.Host != base.Host {
			return nil, Permanent(fmt.Errorf("%s: refusing to follow a link to another host (%s)", c.System, u.Host))
		}
		if req.Query != nil {
			q := u.Query()
			for k, vs := range req.Query {
				q[k] = vs
			}
			u.RawQuery = q.Encode()
		}
		return u, nil
	}
	u := *base
	u.Path = strings.TrimSuffix(base.Path, "/") + "/" + strings.TrimPrefix(req.Path, "/")
	u.RawPath = ""
	if req.Query != nil {
		u.RawQuery = req.Query.Encode()
	}
	return &u, nil
}

// Do sends req and returns the 2xx response, or an error: *APIError (wrapped in Permanent for
// 400, 401, 403, 409 and 422 unless throttled) for a refusal, a plain error for a transient
// failure that outlasted the retries, or the context's error.
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
	transient := 0
	backoff := time.Second
	for {
		resp, status, header, respBody, err := c.once(ctx, req, u, body)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if transient < c.Retries {
				transient++
				if err := sleep(ctx, jitter(time.Duration(transient)*100*time.Millisecond)); err != nil {
					return nil, err
				}
				continue
			}
			return nil, err
		}
		now := c.now()
		rl := readHeaders(header, now)
		c.pacer().Observe(rl, now)
		if status >= 200 && status < 300 {
			return resp, nil
		}
		if status == http.StatusTooManyRequests || (c.Throttled != nil && c.Throttled(status, header, respBody)) {
			wait := rl.RetryAfter
			if wait <= 0 && rl.Reset.After(now) {
				wait = rl.Reset.Sub(now)
			}
			if wait <= 0 {
				wait = backoff
				backoff = min(backoff*2, time.Minute)
			}
			c.pacer().PauseUntil(now.Add(jitter(wait)))
			continue
		}
		apiErr := c.apiError(req.Method, u.Path, status, respBody)
		switch {
		case status >= 500:
			if transient < c.Retries {
				transient++
				if err := sleep(ctx, jitter(time.Duration(transient)*100*time.Millisecond)); err != nil {
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

func (c *Client) once(ctx context.Context, req Request, u *url.URL, body []byte) (*Response, int, http.Header, []byte, error) {
	release, err := c.pacer().Acquire(ctx)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	defer release()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, u.String(), rd)
	if err != nil {
		return nil, 0, nil, nil, fmt.Errorf("%s: %s %s: %w", c.System, req.Method, u.Path, err)
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
	if c.Authorize != nil {
		if err := c.Authorize(hreq); err != nil {
			return nil, 0, nil, nil, Permanent(fmt.Errorf("%s: credentials: %w", c.System, err))
		}
	}
	hresp, err := c.httpClient().Do(hreq)
	if err != nil {
		// url.Error repeats the full URL; keep only the cause so no query string is echoed.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, 0, nil, nil, fmt.Errorf("%s: %s %s: %w", c.System, req.Method, u.Path, err)
	}
	defer hresp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(hresp.Body, maxBody))
	if err != nil {
		return nil, 0, nil, nil, fmt.Errorf("%s: %s %s: read response: %w", c.System, req.Method, u.Path, err)
	}
	resp := &Response{Status: hresp.StatusCode, Header: hresp.Header, Body: respBody}
	return resp, hresp.StatusCode, hresp.Header, respBody, nil
}

func (c *Client) apiError(method, path string, status int, body []byte) *APIError {
	e := &APIError{System: c.System, Method: method, Path: path, Status: status}
	if c.DecodeError != nil {
		e.Code, e.Summary = c.DecodeError(status, body)
	}
	if e.Summary == "" {
		e.Summary = http.StatusText(status)
	}
	return e
}

// JSON sends a request with an optional JSON body and decodes a JSON reply into out (if not nil).
func (c *Client) JSON(ctx context.Context, method, path string, query url.Values, in, out any) (*Response, error) {
	resp, err := c.Do(ctx, Request{Method: method, Path: path, Query: query, JSON: in})
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := resp.Decode(out); err != nil {
			return resp, fmt.Errorf("%s: %s %s: decode reply: %w", c.System, method, path, err)
		}
	}
	return resp, nil
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// Package webhook connects offboard to a company's own internal tools through a small signed
// JSON protocol of offboard's own (version 1, docs/connectors/webhook.md).
//
// For each phase offboard POSTs one request to the tool's URL: "plan" asks what the leaver
// holds and what to remove, "apply" makes one planned change, "verify" reads one change back,
// and "check" asks whether the tool is ready. Every body is signed with the HR webhook's
// scheme (internal/signature), so a company implements one HMAC check for both directions.
//
// The tool is treated like any vendor API: its answers are validated strictly (an invalid plan
// is refused, never half-applied), 5xx and timeouts are retried, 429 is paced, a refused
// signature is permanent, and nothing the tool sends can panic the connector or leak the
// shared secret. A complete example tool to copy is in examples/webhook-tool.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/signature"
)

// Version is the protocol version offboard speaks; it is sent in every request and must be
// echoed in every answer.
const Version = 1

// Phases of the protocol.
const (
	PhaseCheck  = "check"
	PhasePlan   = "plan"
	PhaseApply  = "apply"
	PhaseVerify = "verify"
)

// DefaultTimeout bounds one request when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// MinSecretLength is the shortest shared secret accepted: an HMAC key anyone could guess
// would let them forge plans.
const MinSecretLength = 16

// MaxResponse bounds a tool's answer. A plan of a few hundred actions is tens of kilobytes; an
// answer past this is a bug in the tool and is refused rather than read.
const MaxResponse = 1 << 20

// concurrency caps requests in flight to one tool: internal tools are rarely sized for bursts.
const concurrency = 8

// Config is how to reach one internal tool. Several tools can be configured, each with its
// own Name.
type Config struct {
	// Name is the system's name in plans, tickets and audit records, e.g. "admin-tool".
	Name string
	// URL receives every request, e.g. https://admin.internal.example/offboard. Its query
	// string, if any, is kept and never appears in errors.
	URL string
	// Secret signs every request body (HMAC-SHA256, the HR webhook's scheme). Never logged.
	Secret string
	// Timeout bounds one request, from sending it to reading the whole answer; 0 means
	// DefaultTimeout. It overrides any timeout set on HTTP.
	Timeout time.Duration
	// HTTP is the transport; nil means http.DefaultTransport. Redirects are never followed.
	HTTP *http.Client
}

// Connector offboards people from one internal tool. It is safe for concurrent use.
type Connector struct {
	name   string
	url    string
	secret []byte
	// timeout is the per-request timeout, named in timeout errors.
	timeout time.Duration
	client  *connector.Client
	now     func() time.Time
}

// New validates cfg and returns the connector. Every problem is listed in the error.
func New(cfg Config) (*Connector, error) {
	var problems []string
	if !validKind(cfg.Name) {
		problems = append(problems, fmt.Sprintf("name %q must be lower case letters, digits, '-' or '_' (it is stored in every action)", cfg.Name))
	}
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "":
		problems = append(problems, "url is required")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil:
		problems = append(problems, "url must be an absolute http(s) URL without user info")
	}
	if len(cfg.Secret) < MinSecretLength {
		problems = append(problems, fmt.Sprintf("secret must be at least %d characters", MinSecretLength))
	}
	if cfg.Timeout < 0 {
		problems = append(problems, "timeout must not be negative")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("webhook %s: %s", cfg.Name, strings.Join(problems, "; "))
	}
	c := &Connector{name: cfg.Name, url: u.String(), secret: []byte(cfg.Secret), now: time.Now}
	hc := httpClient(cfg)
	c.timeout = hc.Timeout
	c.client = &connector.Client{
		System:      cfg.Name,
		BaseURL:     cfg.URL,
		HTTP:        hc,
		Authorize:   c.sign,
		DecodeError: c.decodeError,
		Retries:     2,
		Pacer:       connector.NewPacer(concurrency),
		Now:         func() time.Time { return c.now() },
	}
	return c, nil
}

// System returns the configured name.
func (c *Connector) System() string { return c.name }

// sign adds the Offboard-Signature header. It runs for every attempt, so a request retried
// after a long rate-limit wait carries a fresh timestamp instead of a stale one.
func (c *Connector) sign(r *http.Request) error {
	var body []byte
	if r.GetBody != nil {
		rc, err := r.GetBody()
		if err != nil {
			return err
		}
		defer rc.Close()
		if body, err = io.ReadAll(rc); err != nil {
			return err
		}
	}
	r.Header.Set(signature.Header, signature.Sign(c.secret, c.now(), body))
	return nil
}

// httpClient copies the configured client with the timeout applied, redirects refused (a
// signed request is for the configured URL only) and answers capped at MaxResponse+1 bytes.
func httpClient(cfg Config) *http.Client {
	hc := &http.Client{}
	if cfg.HTTP != nil {
		*hc = *cfg.HTTP
	}
	hc.Timeout = cfg.Timeout
	if hc.Timeout == 0 {
		hc.Timeout = DefaultTimeout
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = capTransport{base: base, limit: MaxResponse + 1}
	return hc
}

// capTransport stops reading an answer after limit bytes, so a runaway tool costs at most that
// much memory; a body of exactly limit bytes is then known to be too large.
type capTransport struct {
	base  http.RoundTripper
	limit int64
}

func (t capTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: t.limit}
	return resp, nil
}

type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// Check asks the tool whether it is ready ("check" phase), which also proves the URL, the
// secret and both clocks are right. Problems the tool reports are permanent: a human must fix
// them.
func (c *Connector) Check(ctx context.Context) error {
	var resp checkResponse
	if err := c.call(ctx, request{Phase: PhaseCheck}, &resp); err != nil {
		return fmt.Errorf("%s: check: %w", c.name, err)
	}
	if len(resp.Problems) > 0 {
		return connector.Permanent(fmt.Errorf("%s: the tool reports it is not ready: %s", c.name, strings.Join(resp.Problems, "; ")))
	}
	return nil
}

// ErrInvalidAnswer is wrapped by every error about an answer that breaks the protocol
// (malformed JSON, a wrong version or phase, an invalid plan, an oversize body). Such errors
// are also connector.Permanent: the same tool code would answer the same.
var ErrInvalidAnswer = errors.New("invalid answer")

// Package jira writes deprovisioning tickets to Jira Cloud through its REST API v3: it opens
// the issue, comments, attaches the evidence, labels and transitions it. Requests are paced to
// Jira's rate-limit headers and a 429's Retry-After is waited out, so a busy Jira slows ticket
// updates down but never fails them. The API token never appears in errors.
package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/ticket"
)

// Config says where tickets go and how to sign in.
type Config struct {
	// BaseURL is the site, e.g. https://acme.atlassian.net.
	BaseURL string
	// Email and Token are the bot account's address and API token (HTTP Basic).
	Email, Token string
	// Project is the project key; IssueType the issue type's name (default Task).
	Project, IssueType string
	// DoneTransition is the transition taken when a case is complete (default Done).
	DoneTransition string
	// HTTP is the transport; nil means a client with a 30 s timeout.
	HTTP *http.Client
}

// Tracker writes tickets to one Jira Cloud site. It implements ticket.Tracker.
type Tracker struct {
	cfg Config
	c   *connector.Client
}

var _ ticket.Tracker = (*Tracker)(nil)

// New returns a Tracker for cfg.
func New(cfg Config) *Tracker {
	if cfg.IssueType == "" {
		cfg.IssueType = "Task"
	}
	if cfg.DoneTransition == "" {
		cfg.DoneTransition = "Done"
	}
	email, token := cfg.Email, cfg.Token
	return &Tracker{cfg: cfg, c: &connector.Client{
		System:      "jira",
		BaseURL:     cfg.BaseURL,
		HTTP:        cfg.HTTP,
		Retries:     2,
		RateHeaders: connector.StandardRateHeaders,
		Authorize: func(r *http.Request) error {
			if email == "" || token == "" {
				return errors.New("the Jira email and API token must both be set")
			}
			r.SetBasicAuth(email, token)
			return nil
		},
		DecodeError: decodeError,
		// Some of Jira's 503s carry Retry-After (apis.md §3): wait them out like a 429.
		Throttled: func(status int, h http.Header, _ []byte) bool {
			return status == http.StatusServiceUnavailable && h.Get("Retry-After") != ""
		},
		// Jira also limits writes per issue; one case's updates go one at a time anyway, and
		// few cases update their tickets at once.
		Pacer: connector.NewPacer(4),
	}}
}

// decodeError reads Jira's ErrorCollection, {"errorMessages": [...], "errors": {field: msg}},
// or the first line of a short plain-text body (the XSRF refusal is plain text).
func decodeError(_ int, body []byte) (string, string) {
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		text := strings.TrimSpace(string(body))
		if line, _, _ := strings.Cut(text, "\n"); line != "" && len(line) <= 200 && utf8.ValidString(line) && !strings.HasPrefix(line, "<") {
			return "", line
		}
		return "", ""
	}
	msgs := slices.Clone(e.ErrorMessages)
	fields := make([]string, 0, len(e.Errors))
	for f := range e.Errors {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		msgs = append(msgs, f+": "+e.Errors[f])
	}
	return "", strings.Join(msgs, "; ")
}

func issuePath(key string, rest ...string) string {
	return "/rest/api/3/issue/" + url.PathEscape(key) + strings.Join(rest, "")
}

// issueErr wraps a failed call on an existing issue. A 404 there means the issue was deleted
// or the account lost Browse projects on it; retrying cannot fix either, so it is permanent.
func issueErr(what, key string, err error) error {
	if connector.StatusOf(err) == http.StatusNotFound && !connector.IsPermanent(err) {
		return connector.Permanent(fmt.Errorf("jira: %s %s: the issue does not exist or the account cannot see it: %w", what, key, err))
	}
	return fmt.Errorf("jira: %s %s: %w", what, key, err)
}

// Create opens an issue in the configured project and returns its key. When nt.Ref is set,
// it is added as a label and an issue already opened with the same Ref and summary is returned
// instead of opening a second one.
func (t *Tracker) Create(ctx context.Context, nt ticket.NewTicket) (string, error) {
	summary := cleanSummary(nt.Summary)
	labels := []string{}
	for _, l := range append(slices.Clone(nt.Labels), nt.Ref) {
		if l != "" && !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	if nt.Ref != "" {
		// A lookup Jira refuses outright, or a site without the search endpoint, must not stop
		// the ticket from being opened: a possible duplicate is better than no ticket. A
		// transient failure is returned, and the caller retries.
		key, found, err := t.findByRef(ctx, nt.Ref, summary)
		if st := connector.StatusOf(err); err != nil && !connector.IsPermanent(err) && st != http.StatusNotFound && st != http.StatusGone {
			return "", err
		}
		if found {
			return key, nil
		}
	}
	body := map[string]any{"fields": map[string]any{
		"project":     map[string]string{"key": t.cfg.Project},
		"issuetype":   map[string]string{"name": t.cfg.IssueType},
		"summary":     summary,
		"description": toADF(fitDescription(nt.Description)),
		"labels":      labels,
	}}
	// No transport-level retry: had a first attempt reached Jira, a second would open a
	// second issue. The caller retries later, when the Ref lookup finds the first.
	once := *t.c
	once.Retries = 0
	var out struct {
		Key string `json:"key"`
	}
	if _, err := once.JSON(ctx, http.MethodPost, "/rest/api/3/issue", nil, body, &out); err != nil {
		return "", fmt.Errorf("jira: create issue in %s: %w", t.cfg.Project, err)
	}
	if out.Key == "" {
		return "", errors.New("jira: create issue: the reply carried no key")
	}
	return out.Key, nil
}

// findByRef looks for an issue in the project labelled ref whose summary is summary (the same
// label on another person's issue, from another offboard installation, is not a match).
func (t *Tracker) findByRef(ctx context.Context, ref, summary string) (string, bool, error) {
	q := url.Values{
		"jql":        {fmt.Sprintf("project = %s AND labels = %s ORDER BY created ASC", jqlQuote(t.cfg.Project), jqlQuote(ref))},
		"fields":     {"summary"},
		"maxResults": {"50"},
	}
	for pages := 0; pages < 20; pages++ {
		var page struct {
			Issues []struct {
				Key    string `json:"key"`
				Fields struct {
					Summary string `json:"summary"`
				} `json:"fields"`
			} `json:"issues"`
			NextPageToken string `json:"nextPageToken"`
			IsLast        *bool  `json:"isLast"`
		}
		if _, err := t.c.JSON(ctx, http.MethodGet, "/rest/api/3/search/jql", q, nil, &page); err != nil {
			return "", false, fmt.Errorf("jira: look for an issue labelled %s in %s: %w", ref, t.cfg.Project, err)
		}
		for _, is := range page.Issues {
			if is.Fields.Summary == summary {
				return is.Key, true, nil
			}
		}
		if page.NextPageToken == "" || (page.IsLast != nil && *page.IsLast) {
			return "", false, nil
		}
		q.Set("nextPageToken", page.NextPageToken)
	}
	return "", false, nil
}

// jqlQuote quotes a JQL value.
func jqlQuote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// cleanSummary makes a summary Jira accepts: one line of at most 255 characters.
func cleanSummary(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 255 {
		s = string([]rune(s)[:254]) + "…"
	}
	return s
}

// fitDescription keeps a description within Jira's field limit, ending it with a note when
// it had to be shortened (a description cannot continue in a comment without risking a
// duplicate comment on retry).
func fitDescription(d ticket.Doc) ticket.Doc {
	note := ticket.Block{Paragraph: "(Shortened to fit Jira's size limit; offboard holds the full record.)"}
	parts := split(d, budget-size(blockNodes(note)))
	if len(parts) == 1 {
		return parts[0]
	}
	first := parts[0]
	first.Blocks = append(first.Blocks, note)
	return first
}

// Comment adds a comment to the issue. A document too long for one Jira comment is posted as
// several, each marked "(part i of n)".
func (t *Tracker) Comment(ctx context.Context, key string, d ticket.Doc) error {
	marker := ticket.Block{Paragraph: "(part 000 of 000)"}
	parts := split(d, budget-size(blockNodes(marker)))
	for i, part := range parts {
		if len(parts) > 1 {
			part.Blocks = append([]ticket.Block{{Paragraph: fmt.Sprintf("(part %d of %d)", i+1, len(parts))}}, part.Blocks...)
		}
		if _, err := t.c.JSON(ctx, http.MethodPost, issuePath(key, "/comment"), nil, map[string]any{"body": toADF(part)}, nil); err != nil {
			if len(parts) > 1 {
				return issueErr(fmt.Sprintf("comment (part %d of %d) on", i+1, len(parts)), key, err)
			}
			return issueErr("comment on", key, err)
		}
	}
	return nil
}

// Attach uploads a file to the issue. Jira blocks uploads without the X-Atlassian-Token:
// no-check header (its XSRF check) and reads the file from the multipart part "file".
func (t *Tracker) Attach(ctx context.Context, key, filename string, data []byte) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ph := textproto.MIMEHeader{}
	ph.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteFilename(filename)))
	ct := mime.TypeByExtension(path.Ext(filename))
	if ct == "" {
		ct = "application/octet-stream"
	}
	ph.Set("Content-Type", ct)
	part, err := mw.CreatePart(ph)
	if err == nil {
		_, err = part.Write(data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return fmt.Errorf("jira: attach %s to %s: %w", filename, key, err)
	}
	h := http.Header{}
	h.Set("Content-Type", mw.FormDataContentType())
	h.Set("X-Atlassian-Token", "no-check")
	if _, err := t.c.Do(ctx, connector.Request{Method: http.MethodPost, Path: issuePath(key, "/attachments"), Header: h, Body: buf.Bytes()}); err != nil {
		return issueErr("attach "+filename+" to", key, err)
	}
	return nil
}

// quoteFilename escapes a filename for a Content-Disposition parameter; line breaks, which
// would end the header, are dropped.
func quoteFilename(s string) string {
	s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// Label adds and removes labels on the issue. Removing a label the issue lacks changes nothing.
func (t *Tracker) Label(ctx context.Context, key string, add, remove []string) error {
	ops := make([]map[string]string, 0, len(add)+len(remove))
	for _, l := range add {
		if l != "" {
			ops = append(ops, map[string]string{"add": l})
		}
	}
	for _, l := range remove {
		if l != "" {
			ops = append(ops, map[string]string{"remove": l})
		}
	}
	if len(ops) == 0 {
		return nil
	}
	body := map[string]any{"update": map[string]any{"labels": ops}}
	if _, err := t.c.JSON(ctx, http.MethodPut, issuePath(key), nil, body, nil); err != nil {
		return issueErr("label", key, err)
	}
	return nil
}

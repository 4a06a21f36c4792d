// Package jira writes deprovisioning tickets to Jira Cloud through its REST API v3: create,
// comment, attach the evidence, label and transition. Requests are paced to Jira's rate-limit
// headers and a 429's Retry-After is honoured.
package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/ticket"
)

// Config says where tickets go and how to sign in.
type Config struct {
	BaseURL string
	// Email and Token are the bot account's address and API token (HTTP Basic).
	Email, Token string
	// Project is the project key; IssueType the issue type's name (default Task).
	Project, IssueType string
	// DoneTransition is the transition used when a case is complete (default Done).
	DoneTransition string
	HTTP           *http.Client
}

// Tracker writes tickets to one Jira Cloud site. It implements ticket.Tracker.
type Tracker struct {
	cfg Config
	c   *connector.Client
}

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
			r.SetBasicAuth(email, token)
			return nil
		},
		DecodeError: decodeError,
		// Jira limits writes per issue; one case's updates go one at a time anyway.
		Pacer: connector.NewPacer(4),
	}}
}

// decodeError reads Jira's ErrorCollection: {"errorMessages": [...], "errors": {field: msg}}.
func decodeError(_ int, body []byte) (string, string) {
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	msgs := append([]string(nil), e.ErrorMessages...)
	for field, msg := range e.Errors {
		msgs = append(msgs, field+": "+msg)
	}
	return "", strings.Join(msgs, "; ")
}

func issuePath(key string, rest ...string) string {
	return "/rest/api/3/issue/" + url.PathEscape(key) + strings.Join(rest, "")
}

// Create opens an issue in the configured project and returns its key.
func (t *Tracker) Create(ctx context.Context, nt ticket.NewTicket) (string, error) {
	labels := nt.Labels
	if labels == nil {
		labels = []string{}
	}
	body := map[string]any{"fields": map[string]any{
		"project":     map[string]string{"key": t.cfg.Project},
		"issuetype":   map[string]string{"name": t.cfg.IssueType},
		"summary":     nt.Summary,
		"description": toADF(nt.Description),
		"labels":      labels,
	}}
	var out struct {
		Key string `json:"key"`
	}
	if _, err := t.c.JSON(ctx, http.MethodPost, "/rest/api/3/issue", nil, body, &out); err != nil {
		return "", fmt.Errorf("jira: create issue in %s: %w", t.cfg.Project, err)
	}
	if out.Key == "" {
		return "", errors.New("jira: create issue: the reply carried no key")
	}
	return out.Key, nil
}

// Comment adds a comment to the issue.
func (t *Tracker) Comment(ctx context.Context, key string, d ticket.Doc) error {
	if _, err := t.c.JSON(ctx, http.MethodPost, issuePath(key, "/comment"), nil, map[string]any{"body": toADF(d)}, nil); err != nil {
		return fmt.Errorf("jira: comment on %s: %w", key, err)
	}
	return nil
}

// Attach uploads a file to the issue. Jira blocks attachment uploads that lack the
// X-Atlassian-Token: no-check header (its XSRF check).
func (t *Tracker) Attach(ctx context.Context, key, filename string, data []byte) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, err := mw.CreateFormFile("file", filename)
	if err != nil {
		return fmt.Errorf("jira: attach %s to %s: %w", filename, key, err)
	}
	if _, err := part.Write(data); err != nil {
		return fmt.Errorf("jira: attach %s to %s: %w", filename, key, err)
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("jira: attach %s to %s: %w", filename, key, err)
	}
	h := http.Header{}
	h.Set("Content-Type", mw.FormDataContentType())
	h.Set("X-Atlassian-Token", "no-check")
	if _, err := t.c.Do(ctx, connector.Request{Method: http.MethodPost, Path: issuePath(key, "/attachments"), Header: h, Body: buf.Bytes()}); err != nil {
		return fmt.Errorf("jira: attach %s to %s: %w", filename, key, err)
	}
	return nil
}

// Label adds and removes labels on the issue.
func (t *Tracker) Label(ctx context.Context, key string, add, remove []string) error {
	var ops []map[string]string
	for _, l := range add {
		ops = append(ops, map[string]string{"add": l})
	}
	for _, l := range remove {
		ops = append(ops, map[string]string{"remove": l})
	}
	if len(ops) == 0 {
		return nil
	}
	body := map[string]any{"update": map[string]any{"labels": ops}}
	if _, err := t.c.JSON(ctx, http.MethodPut, issuePath(key), nil, body, nil); err != nil {
		return fmt.Errorf("jira: label %s: %w", key, err)
	}
	return nil
}

// Transition moves the issue through the transition named name. When the transition is not
// offered but the issue already sits in a done status, that is success.
func (t *Tracker) Transition(ctx context.Context, key, name string) error {
	var list struct {
		Transitions []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"transitions"`
	}
	if _, err := t.c.JSON(ctx, http.MethodGet, issuePath(key, "/transitions"), nil, nil, &list); err != nil {
		return fmt.Errorf("jira: transitions of %s: %w", key, err)
	}
	var names []string
	for _, tr := range list.Transitions {
		if strings.EqualFold(tr.Name, name) {
			body := map[string]any{"transition": map[string]string{"id": tr.ID}}
			if _, err := t.c.JSON(ctx, http.MethodPost, issuePath(key, "/transitions"), nil, body, nil); err != nil {
				return fmt.Errorf("jira: transition %s to %q: %w", key, name, err)
			}
			return nil
		}
		names = append(names, tr.Name)
	}
	var issue struct {
		Fields struct {
			Status struct {
				Name           string `json:"name"`
				StatusCategory struct {
					Key string `json:"key"`
				} `json:"statusCategory"`
			} `json:"status"`
		} `json:"fields"`
	}
	if _, err := t.c.JSON(ctx, http.MethodGet, issuePath(key), url.Values{"fields": {"status"}}, nil, &issue); err != nil {
		return fmt.Errorf("jira: status of %s: %w", key, err)
	}
	if issue.Fields.Status.StatusCategory.Key == "done" {
		return nil
	}
	return connector.Permanent(fmt.Errorf("jira: %s (status %s) offers no transition named %q; it offers: %s",
		key, issue.Fields.Status.Name, name, strings.Join(names, ", ")))
}

// Check verifies the credentials and that the project exists, without changing anything.
func (t *Tracker) Check(ctx context.Context) error {
	if _, err := t.c.JSON(ctx, http.MethodGet, "/rest/api/3/myself", nil, nil, nil); err != nil {
		return fmt.Errorf("jira: check credentials: %w", err)
	}
	if _, err := t.c.JSON(ctx, http.MethodGet, "/rest/api/3/project/"+url.PathEscape(t.cfg.Project), nil, nil, nil); err != nil {
		return fmt.Errorf("jira: check project %s: %w", t.cfg.Project, err)
	}
	return nil
}

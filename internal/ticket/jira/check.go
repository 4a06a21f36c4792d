package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// required are the project permissions the bot account needs, with Jira's names for them.
var required = []struct{ key, name string }{
	{"BROWSE_PROJECTS", "Browse projects"},
	{"CREATE_ISSUES", "Create issues"},
	{"ADD_COMMENTS", "Add comments"},
	{"CREATE_ATTACHMENTS", "Create attachments"},
	{"EDIT_ISSUES", "Edit issues"},
	{"TRANSITION_ISSUES", "Transition issues"},
}

// Check signs in and reads, without changing anything, that the project exists, that it has
// the configured issue type, and that the account holds every permission a ticket's life
// needs. It reports every problem it finds, not just the first.
func (t *Tracker) Check(ctx context.Context) error {
	var missing []string
	for _, f := range []struct{ name, value string }{{"base_url", t.cfg.BaseURL}, {"email", t.cfg.Email}, {"token", t.cfg.Token}, {"project", t.cfg.Project}} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("jira: not configured: %s must be set", strings.Join(missing, ", "))
	}
	if _, err := t.c.JSON(ctx, http.MethodGet, "/rest/api/3/myself", nil, nil, nil); err != nil {
		return fmt.Errorf("jira: sign in as %s: %w", t.cfg.Email, err)
	}
	var project struct {
		IssueTypes []struct {
			Name string `json:"name"`
		} `json:"issueTypes"`
	}
	if _, err := t.c.JSON(ctx, http.MethodGet, "/rest/api/3/project/"+url.PathEscape(t.cfg.Project), nil, nil, &project); err != nil {
		return fmt.Errorf("jira: project %s (it must exist and %s must be able to browse it): %w", t.cfg.Project, t.cfg.Email, err)
	}
	var problems []error
	if len(project.IssueTypes) > 0 {
		var names []string
		found := false
		for _, it := range project.IssueTypes {
			names = append(names, it.Name)
			found = found || it.Name == t.cfg.IssueType
		}
		if !found {
			problems = append(problems, fmt.Errorf("jira: project %s has no issue type %q; it has %s", t.cfg.Project, t.cfg.IssueType, strings.Join(names, ", ")))
		}
	}
	keys := make([]string, len(required))
	for i, p := range required {
		keys[i] = p.key
	}
	var perms struct {
		Permissions map[string]struct {
			HavePermission bool `json:"havePermission"`
		} `json:"permissions"`
	}
	q := url.Values{"projectKey": {t.cfg.Project}, "permissions": {strings.Join(keys, ",")}}
	if _, err := t.c.JSON(ctx, http.MethodGet, "/rest/api/3/mypermissions", q, nil, &perms); err != nil {
		problems = append(problems, fmt.Errorf("jira: read %s's permissions in %s: %w", t.cfg.Email, t.cfg.Project, err))
	} else {
		var lacking []string
		for _, p := range required {
			if got, ok := perms.Permissions[p.key]; !ok || !got.HavePermission {
				lacking = append(lacking, p.name)
			}
		}
		if len(lacking) > 0 {
			problems = append(problems, fmt.Errorf("jira: %s lacks these permissions in project %s: %s", t.cfg.Email, t.cfg.Project, strings.Join(lacking, ", ")))
		}
	}
	return errors.Join(problems...)
}

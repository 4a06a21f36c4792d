package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// offered is one transition Jira offers from an issue's current status.
type offered struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	To   struct {
		Name string `json:"name"`
	} `json:"to"`
}

// status is an issue's status and its category ("new", "indeterminate" or "done").
type status struct {
	Name           string `json:"name"`
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

// Transition moves the issue through the transition named name (case-insensitively; an empty
// name means the configured done transition). Workflows name transitions differently, so when
// no transition has that name but exactly one leads to a status of that name, it is taken.
// When neither is offered but the issue already sits in a done status, that is success;
// otherwise the error is permanent and lists the transitions Jira offers.
func (t *Tracker) Transition(ctx context.Context, key, name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		name = t.cfg.DoneTransition
	}
	var list struct {
		Transitions []offered `json:"transitions"`
	}
	if _, err := t.c.JSON(ctx, http.MethodGet, issuePath(key, "/transitions"), nil, nil, &list); err != nil {
		return issueErr("list transitions of", key, err)
	}
	if tr, ok := pick(list.Transitions, name); ok {
		body := map[string]any{"transition": map[string]string{"id": tr.ID}}
		_, err := t.c.JSON(ctx, http.MethodPost, issuePath(key, "/transitions"), nil, body, nil)
		if err == nil {
			return nil
		}
		// Someone may have moved the issue between the two calls; if it is now done, the
		// transition's purpose is met.
		if connector.StatusOf(err) == http.StatusBadRequest {
			if st, serr := t.status(ctx, key); serr == nil && st.StatusCategory.Key == "done" {
				return nil
			}
		}
		return issueErr(fmt.Sprintf("transition %q of", tr.Name), key, err)
	}
	st, err := t.status(ctx, key)
	if err != nil {
		return err
	}
	if st.StatusCategory.Key == "done" || strings.EqualFold(st.Name, name) {
		return nil
	}
	names := make([]string, 0, len(list.Transitions))
	for _, tr := range list.Transitions {
		names = append(names, fmt.Sprintf("%q (to %s)", tr.Name, tr.To.Name))
	}
	offers := "none (does the account have the Transition issues permission?)"
	if len(names) > 0 {
		offers = strings.Join(names, ", ")
	}
	return connector.Permanent(fmt.Errorf("jira: %s is in status %q, which offers no transition named %q; it offers %s (set ticket.jira.done_transition)",
		key, st.Name, name, offers))
}

// pick finds the transition named name, or else the only one leading to a status of that name.
func pick(trs []offered, name string) (offered, bool) {
	for _, tr := range trs {
		if strings.EqualFold(strings.TrimSpace(tr.Name), name) {
			return tr, true
		}
	}
	var to []offered
	for _, tr := range trs {
		if strings.EqualFold(strings.TrimSpace(tr.To.Name), name) {
			to = append(to, tr)
		}
	}
	if len(to) == 1 {
		return to[0], true
	}
	return offered{}, false
}

// status reads the issue's status.
func (t *Tracker) status(ctx context.Context, key string) (status, error) {
	var issue struct {
		Fields struct {
			Status status `json:"status"`
		} `json:"fields"`
	}
	if _, err := t.c.JSON(ctx, http.MethodGet, issuePath(key), url.Values{"fields": {"status"}}, nil, &issue); err != nil {
		return status{}, issueErr("read the status of", key, err)
	}
	return issue.Fields.Status, nil
}

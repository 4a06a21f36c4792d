package jenkins

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// jenkinsUser is the part of /user/{id}/api/json the connector reads.
type jenkinsUser struct {
	ID       string `json:"id"`
	FullName string `json:"fullName"`
	Property []struct {
		Class   string `json:"_class"`
		Address string `json:"address,omitempty"`
	} `json:"property"`
}

// mailerProperty is the Mailer plugin's user property, which exports the user's address.
const mailerProperty = "hudson.tasks.Mailer$UserProperty"

// email is the address of the user's mail property, or "" when they have none (or the Mailer
// plugin is not installed).
func (u jenkinsUser) email() string {
	for _, p := range u.Property {
		if p.Class == mailerProperty {
			return strings.TrimSpace(p.Address)
		}
	}
	return ""
}

// getUser reads one user; a missing user is connector.ErrNotFound (Jenkins answers 404, as it
// does not create users from URLs).
func (c *Connector) getUser(ctx context.Context, id string) (jenkinsUser, error) {
	var u jenkinsUser
	_, err := c.client.JSON(ctx, http.MethodGet, userPath(id, "api", "json"), nil, nil, &u)
	return u, err
}

// people reads every user Jenkins knows with their exported properties. Jenkins 2.452 removed
// this API (JENKINS-18884): there it answers 404, which is connector.ErrNotFound.
func (c *Connector) people(ctx context.Context) ([]jenkinsUser, error) {
	var out struct {
		Users []struct {
			User jenkinsUser `json:"user"`
		} `json:"users"`
	}
	q := url.Values{"tree": {"users[user[id,fullName,property[address]]]"}}
	if _, err := c.client.JSON(ctx, http.MethodGet, "/asynchPeople/api/json", q, nil, &out); err != nil {
		return nil, err
	}
	users := make([]jenkinsUser, 0, len(out.Users))
	for _, u := range out.Users {
		if u.User.ID != "" {
			users = append(users, u.User)
		}
	}
	return users, nil
}

// match is how a person was found.
type match struct {
	user jenkinsUser
	how  string
	// caution is set when the match is weak and the plan should say so.
	caution string
	// notes tell the plan how the search went (the people list being unavailable, say).
	notes []string
}

// finding is the outcome of a lookup that matched nobody for certain.
type finding struct {
	notes  []string
	manual []string
}

// peopleUnavailable is the plan note for a Jenkins without the people list.
const peopleUnavailable = "The Jenkins people list (/asynchPeople/api/json) is unavailable on this Jenkins (removed in 2.452, JENKINS-18884), so users were not searched by mail address; the person is looked up by their jenkins handle or the local part of their email."

// findUser looks the person up by their jenkins handle, then by the address of the users' mail
// property, then by the local part of their email. It returns a finding instead when nobody,
// or more than one user, matches. On a Jenkins without the people list the mail search is
// skipped with a note rather than failing: its 404 would otherwise be retried forever and the
// local-part lookup never reached.
func (c *Connector) findUser(ctx context.Context, p connector.Person) (*match, *finding, error) {
	handle, email := strings.TrimSpace(p.Handle(System)), strings.TrimSpace(p.Email)
	if handle == "" && email == "" {
		return nil, nil, connector.Permanent(errors.New("jenkins: the person has no jenkins handle and no email to look their user up by"))
	}
	var tried []string
	if handle != "" {
		u, err := c.getUser(ctx, handle)
		switch {
		case err == nil:
			return &match{user: u, how: "jenkins handle " + handle}, nil, nil
		case !errors.Is(err, connector.ErrNotFound):
			return nil, nil, fmt.Errorf("jenkins: look up user %s: %w", handle, err)
		}
		tried = append(tried, "user ID "+handle)
	}
	if email == "" {
		return nil, &finding{notes: []string{fmt.Sprintf("not found in jenkins: no user with %s", strings.Join(tried, " or "))}}, nil
	}
	users, err := c.people(ctx)
	if errors.Is(err, connector.ErrNotFound) {
		m, f, err := c.byLocalPart(ctx, email, tried)
		switch {
		case m != nil:
			m.notes = append([]string{peopleUnavailable}, m.notes...)
		case f != nil:
			f.notes = append(f.notes, peopleUnavailable)
		}
		return m, f, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("jenkins: list users to find %s: %w", email, err)
	}
	var byMail []jenkinsUser
	for _, u := range users {
		if strings.EqualFold(u.email(), email) {
			byMail = append(byMail, u)
		}
	}
	switch len(byMail) {
	case 1:
		u, err := c.getUser(ctx, byMail[0].ID)
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			return nil, nil, fmt.Errorf("jenkins: read user %s: %w", byMail[0].ID, err)
		}
		if err == nil {
			return &match{user: u, how: "the email address " + email + " of the user's mail property"}, nil, nil
		}
	case 0:
	default:
		ids := make([]string, len(byMail))
		for i, u := range byMail {
			ids[i] = u.ID
		}
		return nil, &finding{
			notes:  []string{fmt.Sprintf("ambiguous in jenkins: %d users have the email address %s (%s); nothing is planned until a person decides which is the leaver's", len(ids), email, strings.Join(ids, ", "))},
			manual: []string{fmt.Sprintf("Decide which of the Jenkins users %s belongs to the leaver, set their jenkins handle to that user ID, and plan again.", strings.Join(ids, ", "))},
		}, nil
	}
	tried = append(tried, "mail address "+email)
	return c.byLocalPart(ctx, email, tried)
}

// byLocalPart tries the email's local part as the user ID, the usual convention when Jenkins
// signs users in from a directory. A user whose mail property names someone else is not taken.
func (c *Connector) byLocalPart(ctx context.Context, email string, tried []string) (*match, *finding, error) {
	local, _, _ := strings.Cut(email, "@")
	if local == "" || slices.Contains(tried, "user ID "+local) {
		return nil, &finding{notes: []string{fmt.Sprintf("not found in jenkins: no user with %s", strings.Join(tried, " or "))}}, nil
	}
	u, err := c.getUser(ctx, local)
	if errors.Is(err, connector.ErrNotFound) {
		tried = append(tried, "user ID "+local)
		return nil, &finding{notes: []string{fmt.Sprintf("not found in jenkins: no user with %s (if the leaver's Jenkins user ID differs, set their jenkins handle to it)", strings.Join(tried, " or "))}}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("jenkins: look up user %s: %w", local, err)
	}
	other := u.email()
	if other != "" && !strings.EqualFold(other, email) {
		return nil, &finding{
			notes:  []string{fmt.Sprintf("not found in jenkins: user %s exists, but its mail address is %s, not %s, so it is not taken to be the leaver's", u.ID, other, email)},
			manual: []string{fmt.Sprintf("Check whether Jenkins user %s (mail %s) belongs to the leaver; if so, set their jenkins handle to %s and plan again.", u.ID, other, u.ID)},
		}, nil
	}
	if other != "" {
		// Reached without the people list: the user's own mail address confirms the match.
		return &match{user: u, how: "the local part of " + email + " as user ID, confirmed by the user's mail address"}, nil, nil
	}
	return &match{user: u, how: "the local part of " + email + " as user ID",
		caution: fmt.Sprintf("Jenkins user %s was matched only by the local part of %s (the user has no mail address to confirm it); check it is the leaver's before applying.", u.ID, email)}, nil, nil
}

// apiToken is one token as the user's configuration page lists it.
type apiToken struct {
	UUID   string `json:"uuid"`
	Name   string `json:"name,omitempty"`
	Legacy bool   `json:"legacy,omitempty"`
}

// Token pages: Jenkins since mid-2024 (JENKINS-69869) lists tokens on /user/{id}/security/,
// older versions on /user/{id}/configure. The list is rendered HTML (ApiTokenProperty/config.jelly); the API
// token property exports nothing to api/json.
var tokenPages = []string{"security/", "configure"}

var (
	tokenListRE = regexp.MustCompile(`id="api-token-list"|name="tokenStore"|class="token-list`)
	cardRE      = regexp.MustCompile(`(?s)<div class="token-card[^"]*" id="([^"]+)">(.*?)data-token-uuid="([^"]*)"`)
	nameRE      = regexp.MustCompile(`(?s)<span class="token-name">(.*?)</span>`)
	hiddenRE    = regexp.MustCompile(`<input[^>]*name="tokenUuid"[^>]*value="([^"]+)"`)
)

// errNoTokenList marks a page that renders no API token list this connector recognises.
var errNoTokenList = errors.New("the user's page shows no API token list this connector can read")

// tokens reads the user's API tokens from their configuration page. It returns
// connector.ErrNotFound when the user does not exist.
func (c *Connector) tokens(ctx context.Context, id string) ([]apiToken, error) {
	for _, page := range tokenPages {
		resp, err := c.client.Do(ctx, connector.Request{Method: http.MethodGet, Path: userPath(id, page), Header: http.Header{"Accept": {"text/html"}}})
		if errors.Is(err, connector.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return parseTokens(string(resp.Body))
	}
	// Both pages are missing: either the user is gone, or this Jenkins has neither page.
	if _, err := c.getUser(ctx, id); err != nil {
		return nil, err
	}
	return nil, connector.Permanent(fmt.Errorf("jenkins: read API tokens of %s: %w", id, errNoTokenList))
}

// parseTokens finds the token cards of ApiTokenProperty/config.jelly (and the hidden
// tokenUuid inputs of older versions). The row template's empty card is skipped.
func parseTokens(page string) ([]apiToken, error) {
	if !tokenListRE.MatchString(page) {
		return nil, connector.Permanent(errNoTokenList)
	}
	var out []apiToken
	seen := map[string]bool{}
	add := func(t apiToken) {
		if t.UUID != "" && !seen[t.UUID] {
			seen[t.UUID] = true
			out = append(out, t)
		}
	}
	for _, m := range cardRE.FindAllStringSubmatch(page, -1) {
		id := html.UnescapeString(m[3])
		if id == "" {
			id = html.UnescapeString(m[1])
		}
		t := apiToken{UUID: id, Legacy: strings.Contains(m[2], "legacy-token")}
		if n := nameRE.FindStringSubmatch(m[2]); n != nil {
			t.Name = html.UnescapeString(strings.TrimSpace(n[1]))
		}
		add(t)
	}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		add(apiToken{UUID: html.UnescapeString(m[1])})
	}
	slices.SortFunc(out, func(a, b apiToken) int { return strings.Compare(a.UUID, b.UUID) })
	return out, nil
}

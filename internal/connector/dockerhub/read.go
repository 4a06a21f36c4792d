package dockerhub

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// member is the part of the spec's org_member schema the connector reads.
type member struct {
	ID       string   `json:"id,omitempty"`
	Username string   `json:"username"`
	FullName string   `json:"full_name,omitempty"`
	Email    string   `json:"email,omitempty"`
	Role     string   `json:"role"`
	Groups   []string `json:"groups"`
}

// invitee reports whether the row is a pending invitation rather than a member (member lists
// include invitations when asked to, with role Invitee).
func (m member) invitee() bool { return strings.EqualFold(m.Role, "Invitee") }

// memberPage is org_member_paginated. The spec wraps it in an array by mistake; Docker Hub
// answers one object with count, next, previous and results.
type memberPage struct {
	Count   int      `json:"count"`
	Next    *string  `json:"next"`
	Results []member `json:"results"`
}

// invite is the spec's invite schema.
type invite struct {
	ID              string `json:"id"`
	InviterUsername string `json:"inviter_username,omitempty"`
	Invitee         string `json:"invitee"`
	Org             string `json:"org,omitempty"`
	Team            string `json:"team,omitempty"`
	CreatedAt       string `json:"created_at,omitempty"`
}

type invitePage struct {
	Data []invite `json:"data"`
}

// maxPages bounds a listing, so a server that never stops paging cannot hold a step forever.
const maxPages = 1000

// searchMembers lists every member the organization's search matches for term, following
// the `next` links. Docker Hub searches usernames, full names and email addresses.
func (c *Connector) searchMembers(ctx context.Context, term string) ([]member, error) {
	var all []member
	next := c.orgPath("members")
	query := url.Values{"search": {term}, "page_size": {"100"}}
	seen := map[string]bool{}
	for pages := 0; next != ""; pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("dockerhub: list members of %s: more than %d pages", c.org, maxPages)
		}
		var page memberPage
		if _, err := c.getJSON(ctx, next, query, &page); err != nil {
			return nil, fmt.Errorf("dockerhub: search members of %s for %q: %w", c.org, term, err)
		}
		for _, m := range page.Results {
			if !m.invitee() {
				all = append(all, m)
			}
		}
		// The next link carries the whole query.
		query = nil
		next = ""
		if page.Next != nil {
			next = *page.Next
		}
		if seen[next] {
			return nil, fmt.Errorf("dockerhub: list members of %s: pagination repeats a page", c.org)
		}
		seen[next] = true
	}
	return all, nil
}

// findMembers returns the members whose username (when by is "handle") or email address
// matches want exactly, ignoring case.
func (c *Connector) findMembers(ctx context.Context, want, by string) ([]member, error) {
	found, err := c.searchMembers(ctx, want)
	if err != nil {
		return nil, err
	}
	var out []member
	for _, m := range found {
		field := m.Username
		if by == "email" {
			field = m.Email
		}
		if strings.EqualFold(strings.TrimSpace(field), want) {
			out = append(out, m)
		}
	}
	return out, nil
}

// listInvites reads the organization's pending invitations.
func (c *Connector) listInvites(ctx context.Context) ([]invite, error) {
	var page invitePage
	if _, err := c.getJSON(ctx, c.orgPath("invites"), nil, &page); err != nil {
		return nil, fmt.Errorf("dockerhub: list pending invites of %s: %w", c.org, err)
	}
	return page.Data, nil
}

// invitesFor picks the invitations addressed to any of names (Docker IDs or emails).
func invitesFor(all []invite, names ...string) []invite {
	var out []invite
	for _, inv := range all {
		for _, n := range names {
			if n != "" && strings.EqualFold(strings.TrimSpace(inv.Invitee), n) {
				out = append(out, inv)
				break
			}
		}
	}
	return out
}

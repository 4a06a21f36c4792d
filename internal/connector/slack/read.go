package slack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/offboard-dev/offboard/internal/connector"
)

// slackUser is the part of Slack's user object (objs_user) offboarding reads.
type slackUser struct {
	ID             string `json:"id"`
	TeamID         string `json:"team_id"`
	Name           string `json:"name"`
	RealName       string `json:"real_name"`
	Deleted        bool   `json:"deleted"`
	IsAdmin        bool   `json:"is_admin"`
	IsOwner        bool   `json:"is_owner"`
	IsPrimaryOwner bool   `json:"is_primary_owner"`
	IsBot          bool   `json:"is_bot"`
	IsRestricted   bool   `json:"is_restricted"`
	Profile        struct {
		Email string `json:"email"`
	} `json:"profile"`
	EnterpriseUser *struct {
		ID           string   `json:"id"`
		EnterpriseID string   `json:"enterprise_id"`
		Teams        []string `json:"teams"`
	} `json:"enterprise_user,omitempty"`
}

// teams lists the workspaces the user belongs to: every team of an Enterprise Grid user, or
// the one workspace.
func (u slackUser) teams() []string {
	var ts []string
	if u.EnterpriseUser != nil {
		ts = append(ts, u.EnterpriseUser.Teams...)
	}
	if u.TeamID != "" && !slices.Contains(ts, u.TeamID) {
		ts = append(ts, u.TeamID)
	}
	slices.Sort(ts)
	return ts
}

// label names the user for sentences: email, else handle, else ID.
func (u slackUser) label() string {
	switch {
	case u.Profile.Email != "":
		return u.Profile.Email
	case u.Name != "":
		return u.Name
	}
	return u.ID
}

func (u slackUser) state() string {
	if u.Deleted {
		return "deactivated"
	}
	return "active"
}

// userInfo reads one user by ID.
func (c *Connector) userInfo(ctx context.Context, id string) (slackUser, error) {
	var r struct {
		User slackUser `json:"user"`
	}
	_, err := c.call(ctx, "users.info", url.Values{"user": {id}}, &r)
	return r.User, err
}

// findUser looks the person up by their slack handle (a user ID) or else by email. It returns
// nil and what it looked for when Slack has no such user.
func (c *Connector) findUser(ctx context.Context, p connector.Person) (*slackUser, string, error) {
	if id := strings.TrimSpace(p.Handle(System)); id != "" {
		u, err := c.userInfo(ctx, id)
		if isNotFound(err) {
			return nil, "user ID " + id, nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("slack: look up user %s: %w", id, err)
		}
		return &u, "", nil
	}
	email := strings.TrimSpace(p.Email)
	if email == "" {
		return nil, "", connector.Permanent(errors.New("slack: the person has no email and no slack handle (user ID) to look them up by"))
	}
	var r struct {
		User slackUser `json:"user"`
	}
	_, err := c.call(ctx, "users.lookupByEmail", url.Values{"email": {email}}, &r)
	if isNotFound(err) {
		return nil, "email " + email, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("slack: look up user by email %s: %w", email, err)
	}
	return &r.User, "", nil
}

// session is one entry of admin.users.session.list's active_sessions. Session IDs and device
// details are kept as evidence; they are not credentials.
type session struct {
	UserID    string `json:"user_id"`
	TeamID    string `json:"team_id"`
	SessionID any    `json:"session_id"`
	Created   *struct {
		DeviceHardware string `json:"device_hardware,omitempty"`
		OS             string `json:"os,omitempty"`
	} `json:"created,omitempty"`
}

// maxSessionPages bounds paging through one user's sessions on one workspace.
const maxSessionPages = 100

// listSessions reads the user's active sessions on each workspace, concurrently within the
// method's Tier 2 pacing. admin.users.session.list takes user_id and team_id together, so
// there is one listing per workspace.
func (c *Connector) listSessions(ctx context.Context, userID string, teams []string) ([]session, error) {
	var mu sync.Mutex
	var all []session
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, team := range teams {
		g.Go(func() error {
			got, err := c.listTeamSessions(gctx, userID, team)
			if err != nil {
				return err
			}
			mu.Lock()
			all = append(all, got...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b session) int {
		if d := strings.Compare(a.TeamID, b.TeamID); d != 0 {
			return d
		}
		return strings.Compare(fmt.Sprint(a.SessionID), fmt.Sprint(b.SessionID))
	})
	return all, nil
}

func (c *Connector) listTeamSessions(ctx context.Context, userID, team string) ([]session, error) {
	var out []session
	cursor := ""
	for range maxSessionPages {
		args := url.Values{"user_id": {userID}, "team_id": {team}, "limit": {strconv.Itoa(1000)}}
		if cursor != "" {
			args.Set("cursor", cursor)
		}
		var r struct {
			ActiveSessions   []session `json:"active_sessions"`
			ResponseMetadata struct {
				NextCursor string `json:"next_cursor"`
			} `json:"response_metadata"`
		}
		if _, err := c.call(ctx, "admin.users.session.list", args, &r); err != nil {
			return nil, fmt.Errorf("slack: list sessions of %s on workspace %s: %w", userID, team, err)
		}
		out = append(out, r.ActiveSessions...)
		if cursor = r.ResponseMetadata.NextCursor; cursor == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("slack: list sessions of %s on workspace %s: more than %d pages", userID, team, maxSessionPages)
}

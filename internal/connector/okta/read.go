package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/offboard-dev/offboard/internal/connector"
)

// The parts of Okta's objects the connector reads (schemas in management-minimal.yaml).

type oktaUser struct {
	ID                    string `json:"id"`
	Status                string `json:"status"`
	TransitioningToStatus string `json:"transitioningToStatus,omitempty"`
	Profile               struct {
		Login string `json:"login"`
		Email string `json:"email"`
	} `json:"profile"`
}

const deprovisioned = "DEPROVISIONED"

// deactivated reports whether the user is deactivated or on the way there.
func (u oktaUser) deactivated() bool {
	return u.Status == deprovisioned || u.TransitioningToStatus == deprovisioned
}

type oktaGroup struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Profile struct {
		Name                       string `json:"name"`
		WindowsDomainQualifiedName string `json:"windowsDomainQualifiedName,omitempty"`
	} `json:"profile"`
	Embedded struct {
		App *struct {
			ID    string `json:"id"`
			Label string `json:"label"`
		} `json:"app,omitempty"`
	} `json:"_embedded"`
	Links struct {
		Source *struct {
			Href string `json:"href"`
		} `json:"source,omitempty"`
	} `json:"_links"`
}

// source describes where an APP_GROUP is imported from, as precisely as the read allows.
func (g oktaGroup) source() string {
	switch {
	case g.Embedded.App != nil && g.Embedded.App.Label != "":
		return g.Embedded.App.Label
	case g.Profile.WindowsDomainQualifiedName != "":
		return "Active Directory (" + g.Profile.WindowsDomainQualifiedName + ")"
	case g.Links.Source != nil && g.Links.Source.Href != "":
		return "app " + path.Base(g.Links.Source.Href)
	}
	return "its source application"
}

type oktaFactor struct {
	ID         string `json:"id"`
	FactorType string `json:"factorType"`
	Provider   string `json:"provider"`
	Status     string `json:"status"`
}

type oktaRole struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Label          string `json:"label"`
	Status         string `json:"status"`
	AssignmentType string `json:"assignmentType"`
}

type oktaGrant struct {
	ID       string `json:"id"`
	ClientID string `json:"clientId"`
	ScopeID  string `json:"scopeId"`
	Status   string `json:"status"`
}

type oktaClient struct {
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name"`
}

type oktaToken struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

type oktaRule struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Conditions struct {
		People struct {
			Users struct {
				Exclude []string `json:"exclude"`
			} `json:"users"`
		} `json:"people"`
	} `json:"conditions"`
	Actions struct {
		AssignUserToGroups struct {
			GroupIDs []string `json:"groupIds"`
		} `json:"assignUserToGroups"`
	} `json:"actions"`
}

func (r oktaRule) excludes(userID string) bool {
	return slices.Contains(r.Conditions.People.Users.Exclude, userID)
}

// getUser reads one user by ID or login.
func (c *Connector) getUser(ctx context.Context, idOrLogin string) (oktaUser, error) {
	var u oktaUser
	_, err := c.client.JSON(ctx, http.MethodGet, userPath(idOrLogin), nil, nil, &u)
	return u, err
}

// findUser looks the person up by their okta handle, then by email. It returns nil and the
// logins tried when neither names a user.
func (c *Connector) findUser(ctx context.Context, p connector.Person) (*oktaUser, []string, error) {
	var logins []string
	for _, l := range []string{p.Handle(System), p.Email} {
		l = strings.TrimSpace(l)
		if l != "" && !slices.ContainsFunc(logins, func(x string) bool { return strings.EqualFold(x, l) }) {
			logins = append(logins, l)
		}
	}
	if len(logins) == 0 {
		return nil, nil, connector.Permanent(errors.New("okta: the person has no okta handle and no email to look their account up by"))
	}
	for _, l := range logins {
		// getUser: "Logins with a / character can only be fetched by id". Reporting such a
		// person as not found would leave the account active, so ask for the ID instead.
		if strings.Contains(l, "/") {
			return nil, logins, connector.Permanent(fmt.Errorf("okta: login %q contains '/', which Okta can only look up by user ID; set the person's okta handle to their Okta user ID", l))
		}
		u, err := c.getUser(ctx, l)
		if errors.Is(err, connector.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, logins, fmt.Errorf("okta: look up user %s: %w", l, err)
		}
		return &u, logins, nil
	}
	return nil, logins, nil
}

// access is everything a plan needs to know about one user, read concurrently.
type access struct {
	groups  []oktaGroup
	factors []oktaFactor
	roles   []oktaRole
	grants  []oktaGrant
	clients []oktaClient
	rules   []oktaRule
	// rulesErr is set when group rules could not be read for lack of permission
	// (okta.groups.read): the plan goes on, with a note that rule residue is unknown.
	rulesErr error
}

func (c *Connector) readAccess(ctx context.Context, userID string) (access, error) {
	var a access
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		a.groups, err = list[oktaGroup](ctx, c.client, userPath(userID, "groups"), limit200())
		return wrap(err, "list groups of %s", userID)
	})
	g.Go(func() (err error) {
		a.factors, err = list[oktaFactor](ctx, c.client, userPath(userID, "factors"), nil)
		return wrap(err, "list factors of %s", userID)
	})
	g.Go(func() (err error) {
		a.roles, err = list[oktaRole](ctx, c.client, userPath(userID, "roles"), nil)
		return wrap(err, "list admin roles of %s", userID)
	})
	g.Go(func() (err error) {
		a.grants, err = list[oktaGrant](ctx, c.client, userPath(userID, "grants"), limit200())
		return wrap(err, "list grants of %s", userID)
	})
	g.Go(func() (err error) {
		a.clients, err = list[oktaClient](ctx, c.client, userPath(userID, "clients"), nil)
		return wrap(err, "list OAuth clients of %s", userID)
	})
	g.Go(func() error {
		rules, err := list[oktaRule](ctx, c.client, "/api/v1/groups/rules", limit200())
		if connector.StatusOf(err) == http.StatusForbidden {
			a.rulesErr = err
			return nil
		}
		a.rules = rules
		return wrap(err, "list group rules")
	})
	return a, g.Wait()
}

func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("okta: "+format+": %w", append(args, err)...)
}

// listGroupsShared reads the user's groups, sharing one in-flight read among concurrent
// callers.
//
// Sharing is safe for verification because a shared read can only be staler than a read of
// one's own, never fresher: it began no earlier than the moment the caller asked, minus the
// time the read was already in flight. A removal that completed before the shared read began
// is reflected in it; one that completed during the read may not be, and then the group still
// shows as a member and Verify says "not yet" — the engine reads again later. Nothing the
// read can miss makes a membership look gone when it is not, so sharing never produces a
// false "verified".
func (c *Connector) listGroupsShared(ctx context.Context, userID string) ([]oktaGroup, error) {
	ch := c.groupReads.DoChan(userID, func() (any, error) {
		// The read outlives any one caller's context, so one caller giving up does not fail
		// the others; it is still bounded.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedReadTimeout)
		defer cancel()
		return list[oktaGroup](rctx, c.client, userPath(userID, "groups"), limit200())
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]oktaGroup), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

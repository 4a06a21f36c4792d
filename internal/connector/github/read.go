package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// The parts of GitHub's objects the connector reads.

type membership struct {
	State string `json:"state"` // active or pending
	Role  string `json:"role"`  // admin (owner) or member
}

type ghUser struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
}

type credential struct {
	Login          string   `json:"login"`
	CredentialID   int64    `json:"credential_id"`
	CredentialType string   `json:"credential_type"`
	TokenLastEight *string  `json:"token_last_eight"`
	Fingerprint    *string  `json:"fingerprint"`
	Title          *string  `json:"authorized_credential_title"`
	Scopes         []string `json:"scopes,omitempty"`
}

// describe names the credential without anything secret: a PAT by its last eight characters
// (GitHub shows them for identification), an SSH key by its fingerprint.
func (k credential) describe() string {
	s := k.CredentialType
	if k.Title != nil && *k.Title != "" {
		s += fmt.Sprintf(" %q", *k.Title)
	}
	if k.TokenLastEight != nil && *k.TokenLastEight != "" {
		s += " ending " + *k.TokenLastEight
	}
	if k.Fingerprint != nil && *k.Fingerprint != "" {
		s += " " + *k.Fingerprint
	}
	return fmt.Sprintf("%s (credential %d)", s, k.CredentialID)
}

type invitation struct {
	ID    int64   `json:"id"`
	Login *string `json:"login"`
	Email *string `json:"email"`
	Role  string  `json:"role"`
}

func (i invitation) login() string {
	if i.Login == nil {
		return ""
	}
	return *i.Login
}

func (i invitation) email() string {
	if i.Email == nil {
		return ""
	}
	return *i.Email
}

type repo struct {
	Name     string `json:"name"`
	FullName string `json:"full_name"`
}

type secret struct {
	Name string `json:"name"`
}

// getMembership reads the login's membership; nil when they are neither a member nor invited.
func (c *Connector) getMembership(ctx context.Context, login string) (*membership, error) {
	var m membership
	_, err := c.get(ctx, c.orgPath("memberships", login), nil, &m)
	if errors.Is(err, connector.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// userExists reports whether a GitHub account has the login.
func (c *Connector) userExists(ctx context.Context, login string) (bool, error) {
	var u ghUser
	_, err := c.get(ctx, "/users/"+url.PathEscape(login), nil, &u)
	if errors.Is(err, connector.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (c *Connector) listInvitations(ctx context.Context) ([]invitation, error) {
	return list[invitation](ctx, c, c.orgPath("invitations"), nil, nil)
}

func (c *Connector) listOutside(ctx context.Context) ([]ghUser, error) {
	return list[ghUser](ctx, c, c.orgPath("outside_collaborators"), url.Values{"filter": {"all"}}, nil)
}

func isOutside(users []ghUser, login string) bool {
	return slices.ContainsFunc(users, func(u ghUser) bool { return strings.EqualFold(u.Login, login) })
}

// errNoSAML marks an organization without SAML SSO: the credential-authorizations endpoints
// answer 404 there.
var errNoSAML = errors.New("the organization does not use SAML single sign-on")

// listCredentials lists the login's SAML SSO credential authorizations.
func (c *Connector) listCredentials(ctx context.Context, login string) ([]credential, error) {
	creds, err := list[credential](ctx, c, c.orgPath("credential-authorizations"), url.Values{"login": {login}}, nil)
	if errors.Is(err, connector.ErrNotFound) {
		return nil, errNoSAML
	}
	// The login filter is the server's; keep only exact matches in case it is loose.
	return slices.DeleteFunc(creds, func(k credential) bool { return !strings.EqualFold(k.Login, login) }), err
}

// isOwnerCount returns how many owners the organization has.
func (c *Connector) ownerCount(ctx context.Context) (int, error) {
	owners, err := list[ghUser](ctx, c, c.orgPath("members"), url.Values{"role": {"admin"}}, nil)
	return len(owners), err
}

// adminRepos lists the organization's repositories on which login has admin permission,
// reading the permissions concurrently (the client's pacer bounds the concurrency).
func (c *Connector) adminRepos(ctx context.Context, login string) ([]repo, error) {
	repos, err := list[repo](ctx, c, c.orgPath("repos"), url.Values{"type": {"all"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	admin := make([]bool, len(repos))
	err = forEach(ctx, len(repos), func(ctx context.Context, i int) error {
		var p struct {
			Permission string `json:"permission"`
		}
		_, err := c.get(ctx, c.repoPath(repos[i].Name, "collaborators", login, "permission"), nil, &p)
		if errors.Is(err, connector.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s's permission on %s: %w", login, repos[i].Name, err)
		}
		admin[i] = p.Permission == "admin"
		return nil
	})
	var out []repo
	for i, r := range repos {
		if admin[i] {
			out = append(out, r)
		}
	}
	return out, err
}

func (c *Connector) repoPath(name string, rest ...string) string {
	p := "/repos/" + url.PathEscape(c.org) + "/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// secretNames lists the names of the Actions secrets at path (values are never readable).
func (c *Connector) secretNames(ctx context.Context, path string) ([]string, error) {
	secrets, err := list(ctx, c, path, nil, func(body []byte) ([]secret, error) {
		var v struct {
			Secrets []secret `json:"secrets"`
		}
		err := json.Unmarshal(body, &v)
		return v.Secrets, err
	})
	names := make([]string, len(secrets))
	for i, s := range secrets {
		names[i] = s.Name
	}
	slices.Sort(names)
	return names, err
}

// forEach runs fn for 0..n-1 concurrently and returns the first error. Concurrency is bounded
// by the client's pacer, which every request passes through.
func forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- fn(ctx, i) }()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

// samlIdentity is one node of the externalIdentities connection.
type samlIdentity struct {
	SAMLIdentity struct {
		NameID string `json:"nameId"`
		Emails []struct {
			Value string `json:"value"`
		} `json:"emails"`
	} `json:"samlIdentity"`
	User *struct {
		Login string `json:"login"`
	} `json:"user"`
}

const samlQuery = `query($org: String!, $after: String) {
  organization(login: $org) {
    samlIdentityProvider {
      externalIdentities(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { samlIdentity { nameId emails { value } } user { login } }
      }
    }
  }
}`

type gqlError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// graphql posts one query and decodes its data. GraphQL reports problems as 200 with
// "errors": rate limiting is waited out like a REST throttle, anything else is permanent (a
// query GitHub refuses will be refused again).
func (c *Connector) graphql(ctx context.Context, query string, vars map[string]any, out any) error {
	for {
		resp, err := c.gql.Do(ctx, connector.Request{Method: http.MethodPost, Path: c.gqlPath, JSON: map[string]any{"query": query, "variables": vars}, Header: headers()})
		if err != nil {
			return err
		}
		var body struct {
			Data   json.RawMessage `json:"data"`
			Errors []gqlError      `json:"errors"`
		}
		if err := resp.Decode(&body); err != nil {
			return fmt.Errorf("github: POST graphql: decode reply: %w", err)
		}
		if len(body.Errors) > 0 {
			msgs := make([]string, len(body.Errors))
			limited := false
			for i, e := range body.Errors {
				msgs[i] = strings.TrimSpace(e.Type + " " + e.Message)
				limited = limited || e.Type == "RATE_LIMITED"
			}
			err := fmt.Errorf("github: GraphQL errors: %s", strings.Join(msgs, "; "))
			if limited {
				if werr := c.wait(ctx, time.Minute); werr != nil {
					return werr
				}
				continue
			}
			return connector.Permanent(err)
		}
		if err := json.Unmarshal(body.Data, out); err != nil {
			return fmt.Errorf("github: POST graphql: decode data: %w", err)
		}
		return nil
	}
}

func (c *Connector) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// samlLogins returns the logins whose SAML identity's nameId or emails equal email
// (case-insensitively), and whether the organization has SAML SSO at all.
func (c *Connector) samlLogins(ctx context.Context, email string) (logins []string, unlinked int, saml bool, err error) {
	var after any
	for pages := 0; pages < maxPages; pages++ {
		var data struct {
			Organization *struct {
				SAMLIdentityProvider *struct {
					ExternalIdentities struct {
						PageInfo struct {
							HasNextPage bool    `json:"hasNextPage"`
							EndCursor   *string `json:"endCursor"`
						} `json:"pageInfo"`
						Nodes []samlIdentity `json:"nodes"`
					} `json:"externalIdentities"`
				} `json:"samlIdentityProvider"`
			} `json:"organization"`
		}
		if err := c.graphql(ctx, samlQuery, map[string]any{"org": c.org, "after": after}, &data); err != nil {
			return nil, 0, false, err
		}
		if data.Organization == nil {
			return nil, 0, false, connector.Permanent(fmt.Errorf("github: GraphQL cannot see organization %s", c.org))
		}
		idp := data.Organization.SAMLIdentityProvider
		if idp == nil {
			return nil, 0, false, nil
		}
		for _, n := range idp.ExternalIdentities.Nodes {
			if !n.matches(email) {
				continue
			}
			if n.User == nil || n.User.Login == "" {
				unlinked++
				continue
			}
			if !slices.ContainsFunc(logins, func(l string) bool { return strings.EqualFold(l, n.User.Login) }) {
				logins = append(logins, n.User.Login)
			}
		}
		pi := idp.ExternalIdentities.PageInfo
		if !pi.HasNextPage || pi.EndCursor == nil {
			slices.Sort(logins)
			return logins, unlinked, true, nil
		}
		after = *pi.EndCursor
	}
	return nil, 0, true, fmt.Errorf("github: SAML identities of %s: more than %d pages", c.org, maxPages)
}

func (n samlIdentity) matches(email string) bool {
	if strings.EqualFold(n.SAMLIdentity.NameID, email) {
		return true
	}
	return slices.ContainsFunc(n.SAMLIdentity.Emails, func(e struct {
		Value string `json:"value"`
	}) bool {
		return strings.EqualFold(e.Value, email)
	})
}

package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Plan finds the person's login (their github handle, else their SAML identity in the
// organization) and lists what to remove: every SAML SSO credential authorization first, their
// pending invitations, and then their organization membership (which waits until the
// credentials are verified revoked, because GitHub lists credential authorizations through the
// membership) or their outside-collaborator access. It also lists the Actions secrets they
// could read as a repository admin or owner, for rotation. It never changes anything.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	plan := connector.Plan{System: System, Actions: []connector.Action{}}
	login, stop, err := c.resolveLogin(ctx, p, &plan)
	if err != nil || stop {
		return plan, err
	}
	invs, err := c.listInvitations(ctx)
	if err != nil {
		return plan, fmt.Errorf("github: list invitations of %s: %w", c.org, err)
	}
	b := &planBuilder{c: c, plan: &plan, login: login}
	for _, inv := range invs {
		if (login != "" && strings.EqualFold(inv.login(), login)) || (p.Email != "" && strings.EqualFold(inv.email(), p.Email)) {
			b.invitation(inv)
		}
	}
	if login != "" {
		if err := b.account(ctx); err != nil {
			return plan, err
		}
	}
	if len(plan.Actions) == 0 && len(plan.Kept) == 0 {
		plan.NotFound = true
		who := login
		if who == "" {
			who = p.Email
		}
		plan.Notes = append(plan.Notes, fmt.Sprintf("no GitHub access found in organization %s for %s: not a member, outside collaborator or invitee", c.org, who))
	}
	connector.SortActions(plan.Actions, kindOrder)
	return plan, nil
}

// resolveLogin returns the person's login, or "" when none is known but invitations by email
// may still be found. stop is true when the plan is complete (not found, ambiguous).
func (c *Connector) resolveLogin(ctx context.Context, p connector.Person, plan *connector.Plan) (login string, stop bool, err error) {
	if h := strings.TrimSpace(p.Handle(System)); h != "" {
		ok, err := c.userExists(ctx, h)
		if err != nil {
			return "", false, fmt.Errorf("github: look up user %s: %w", h, err)
		}
		if !ok {
			plan.NotFound = true
			plan.Notes = append(plan.Notes, fmt.Sprintf("no GitHub identity found: there is no GitHub account with the login %q given as the person's github handle", h))
			return "", true, nil
		}
		return h, false, nil
	}
	if strings.TrimSpace(p.Email) == "" {
		plan.NotFound = true
		plan.Notes = append(plan.Notes, "no GitHub identity found: the person has neither a github handle nor an email to match a SAML identity with")
		return "", true, nil
	}
	logins, unlinked, saml, err := c.samlLogins(ctx, p.Email)
	if err != nil {
		return "", false, fmt.Errorf("github: find SAML identity of %s in %s: %w", p.Email, c.org, err)
	}
	switch {
	case !saml:
		plan.Notes = append(plan.Notes, fmt.Sprintf("organization %s does not use SAML single sign-on, so a login cannot be found from the email; set the person's github handle to find their membership (only invitations sent to %s were looked for)", c.org, p.Email))
	case len(logins) > 1:
		plan.NotFound = true
		plan.Notes = append(plan.Notes, fmt.Sprintf("ambiguous: the SAML identity %s is linked to several GitHub logins (%s); nothing is planned until a human chooses", p.Email, strings.Join(logins, ", ")))
		plan.Manual = append(plan.Manual, connector.Manual{System: System, Detail: fmt.Sprintf("Decide which of the GitHub logins %s belongs to %s and set their github handle, then plan again.", strings.Join(logins, ", "), p.Email)})
		return "", true, nil
	case len(logins) == 1:
		plan.Notes = append(plan.Notes, fmt.Sprintf("GitHub login %s found through the organization's SAML identity for %s", logins[0], p.Email))
		return logins[0], false, nil
	default:
		note := fmt.Sprintf("no GitHub identity found: no SAML identity of organization %s has the nameId or email %s", c.org, p.Email)
		if unlinked > 0 {
			note = fmt.Sprintf("no GitHub identity found: the SAML identity %s in organization %s is not linked to a GitHub login", p.Email, c.org)
		}
		plan.Notes = append(plan.Notes, note+"; invitations sent to the email were still looked for")
	}
	return "", false, nil
}

// planBuilder adds one login's actions, kept items, rotations and notes to a plan.
type planBuilder struct {
	c     *Connector
	plan  *connector.Plan
	login string
}

func (b *planBuilder) add(kind, target, detail string, params map[string]string, after []string, before any) {
	if params == nil {
		params = map[string]string{}
	}
	params["org"] = b.c.org
	if b.login != "" {
		params["login"] = b.login
	}
	b.plan.Actions = append(b.plan.Actions, connector.Action{
		System: System, Kind: kind, Target: target, Detail: detail,
		Params: params, After: after, Before: compact(before),
	})
}

func compact(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(out)
}

func (b *planBuilder) invitation(inv invitation) {
	to := inv.login()
	if to == "" {
		to = inv.email()
	}
	b.add(KindCancelInvitation, strconv.FormatInt(inv.ID, 10),
		fmt.Sprintf("Cancel pending invitation %d of %s to organization %s (role %s)", inv.ID, to, b.c.org, inv.Role),
		map[string]string{"invitee": to, "invitee_login": inv.login()}, nil, inv)
}

// access is what the plan reads about one login, concurrently.
type access struct {
	member    *membership
	outside   bool
	creds     []credential
	credsErr  error
	repos     []repo
	secrets   map[string][]string
	owners    int
	orgSecret []string
}

func (b *planBuilder) account(ctx context.Context) error {
	c, login := b.c, b.login
	var a access
	var mu sync.Mutex
	err := forEach(ctx, 3, func(ctx context.Context, i int) error {
		switch i {
		case 0:
			m, err := c.getMembership(ctx, login)
			mu.Lock()
			a.member = m
			mu.Unlock()
			return wrapf(err, "read membership of %s in %s", login, c.org)
		case 1:
			out, err := c.listOutside(ctx)
			mu.Lock()
			a.outside = isOutside(out, login)
			mu.Unlock()
			return wrapf(err, "list outside collaborators of %s", c.org)
		default:
			creds, err := c.listCredentials(ctx, login)
			if errors.Is(err, errNoSAML) {
				mu.Lock()
				a.credsErr = err
				mu.Unlock()
				return nil
			}
			mu.Lock()
			a.creds = creds
			mu.Unlock()
			return wrapf(err, "list credential authorizations of %s in %s", login, c.org)
		}
	})
	if err != nil {
		return err
	}
	active := a.member != nil && a.member.State == "active"
	if active || a.outside {
		if err := b.readRotation(ctx, &a, active && a.member.Role == "admin"); err != nil {
			return err
		}
	}
	b.describeAccount(a)
	for _, k := range a.creds {
		b.add(KindRevokeCredential, strconv.FormatInt(k.CredentialID, 10),
			fmt.Sprintf("Revoke SAML SSO authorization of %s's %s for organization %s", login, k.describe(), c.org),
			map[string]string{"credential_type": k.CredentialType}, nil, k)
	}
	if a.credsErr != nil {
		b.plan.Notes = append(b.plan.Notes, fmt.Sprintf("organization %s does not use SAML single sign-on (credential authorizations answer 404): there are no SSO authorizations to revoke; %s's personal access tokens and SSH keys lose access to the organization with the membership", c.org, login))
	}
	if a.outside {
		b.add(KindRemoveOutsideCollaborator, login,
			fmt.Sprintf("Remove outside collaborator %s from every repository of %s", login, c.org),
			nil, []string{KindRevokeCredential}, map[string]any{"outside_collaborator": true})
	}
	if active {
		b.member(a)
	}
	b.rotations(a)
	return nil
}

func (b *planBuilder) describeAccount(a access) {
	switch {
	case a.member != nil:
		b.plan.Account = fmt.Sprintf("%s (%s member of %s, role %s)", b.login, a.member.State, b.c.org, a.member.Role)
	case a.outside:
		b.plan.Account = fmt.Sprintf("%s (outside collaborator in %s)", b.login, b.c.org)
	default:
		b.plan.Account = b.login + " (not a member of " + b.c.org + ")"
	}
}

// member plans removal from the organization, unless the login is its only owner: GitHub
// refuses to remove the last owner, so that is kept and left to a human.
func (b *planBuilder) member(a access) {
	if a.member.Role == "admin" && a.owners <= 1 {
		b.plan.Kept = append(b.plan.Kept, connector.Kept{System: System, Target: b.login,
			Detail: fmt.Sprintf("Membership of %s in %s (owner)", b.login, b.c.org),
			Reason: "the only owner of the organization: GitHub refuses to remove the last owner"})
		b.plan.Manual = append(b.plan.Manual, connector.Manual{System: System,
			Detail: fmt.Sprintf("%s is the only owner of GitHub organization %s: make someone else an owner, then remove %s from the organization (plan again to have it done).", b.login, b.c.org, b.login)})
		return
	}
	detail := fmt.Sprintf("Remove %s from organization %s and all its teams", b.login, b.c.org)
	if a.member.Role == "admin" {
		detail += " (an owner)"
	}
	b.add(KindRemoveMember, b.login, detail, map[string]string{"role": a.member.Role},
		[]string{KindRevokeCredential}, a.member)
}

// readRotation lists the repositories where the login is admin and their Actions secret
// names, and the organization's secret names for an owner.
func (b *planBuilder) readRotation(ctx context.Context, a *access, owner bool) error {
	c := b.c
	repos, err := c.adminRepos(ctx, b.login)
	if err != nil {
		return fmt.Errorf("github: %w", err)
	}
	a.repos = repos
	a.secrets = make(map[string][]string, len(repos))
	var mu sync.Mutex
	err = forEach(ctx, len(repos)+2, func(ctx context.Context, i int) error {
		switch {
		case i < len(repos):
			names, err := c.secretNames(ctx, c.repoPath(repos[i].Name, "actions", "secrets"))
			mu.Lock()
			a.secrets[repos[i].Name] = names
			mu.Unlock()
			return wrapf(err, "list Actions secrets of %s/%s", c.org, repos[i].Name)
		case i == len(repos) && owner:
			names, err := c.secretNames(ctx, c.orgPath("actions", "secrets"))
			mu.Lock()
			a.orgSecret = names
			mu.Unlock()
			return wrapf(err, "list organization Actions secrets of %s", c.org)
		case i == len(repos)+1 && owner:
			n, err := c.ownerCount(ctx)
			mu.Lock()
			a.owners = n
			mu.Unlock()
			return wrapf(err, "list owners of %s", c.org)
		}
		return nil
	})
	return err
}

func (b *planBuilder) rotations(a access) {
	for _, r := range a.repos {
		for _, name := range a.secrets[r.Name] {
			b.plan.Rotate = append(b.plan.Rotate, connector.Rotation{System: System,
				Location: fmt.Sprintf("repository %s/%s", b.c.org, r.Name), Name: name,
				Reason: b.login + " is admin on the repository and could read or exfiltrate it through a workflow"})
		}
	}
	for _, name := range a.orgSecret {
		b.plan.Rotate = append(b.plan.Rotate, connector.Rotation{System: System,
			Location: "organization " + b.c.org, Name: name,
			Reason: b.login + " is an organization owner and could use it from any repository's workflows"})
	}
}

func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("github: "+format+": %w", append(args, err)...)
}

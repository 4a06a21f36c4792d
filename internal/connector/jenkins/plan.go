package jenkins

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Plan finds the person's Jenkins user and plans to revoke each of their API tokens and, in
// mode delete, to delete the user once the tokens are verified gone. Jenkins core cannot
// disable an account, so in mode disable the plan lists the ways to block sign-in for a person
// to do. It never changes anything.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	plan := connector.Plan{System: System, Actions: []connector.Action{}}
	m, f, err := c.findUser(ctx, p)
	if err != nil {
		return plan, err
	}
	if f != nil {
		plan.NotFound = true
		plan.Notes = f.notes
		for _, d := range f.manual {
			plan.Manual = append(plan.Manual, connector.Manual{System: System, Detail: d})
		}
		return plan, nil
	}
	u := m.user
	toks, err := c.tokens(ctx, u.ID)
	if err != nil {
		return plan, fmt.Errorf("jenkins: read API tokens of %s: %w", u.ID, err)
	}
	plan.Account = fmt.Sprintf("%s (%s) matched by %s", u.ID, describeUser(u), m.how)
	plan.Notes = append(plan.Notes, m.notes...)
	if m.caution != "" {
		plan.Notes = append(plan.Notes, m.caution)
	}
	params := func(extra ...string) map[string]string {
		out := map[string]string{"user_id": u.ID}
		for i := 0; i+1 < len(extra); i += 2 {
			out[extra[i]] = extra[i+1]
		}
		return out
	}
	for _, t := range toks {
		name := t.Name
		if name == "" {
			name = "unnamed"
		}
		detail := fmt.Sprintf("Revoke API token %q (%s) of Jenkins user %s", name, t.UUID, u.ID)
		if t.Legacy {
			detail += " (a legacy token)"
		}
		plan.Actions = append(plan.Actions, connector.Action{
			System: System, Kind: KindRevokeToken, Target: t.UUID, Detail: detail,
			Params: params("token_name", t.Name), Before: compact(t),
		})
	}
	if len(toks) == 0 {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s has no API tokens.", u.ID))
	}
	switch c.mode {
	case ModeDelete:
		plan.Actions = append(plan.Actions, connector.Action{
			System: System, Kind: KindDeleteUser, Target: u.ID,
			Detail: fmt.Sprintf("Delete Jenkins user %s (%s) and everything stored with it", u.ID, describeUser(u)),
			Params: params(),
			// The tokens are revoked and verified first, so they are gone even if the
			// deletion is refused (a token of the leaver's own, say).
			After:  []string{KindRevokeToken},
			Before: compact(u),
		})
		plan.Notes = append(plan.Notes, "Deleting a Jenkins user removes its record (API tokens, settings). If Jenkins signs people in through LDAP, Active Directory or SSO, the record is created again at their next sign-in: also disable them in that directory.")
	default:
		plan.Manual = append(plan.Manual, connector.Manual{System: System, Detail: fmt.Sprintf(
			"Block sign-in for Jenkins user %s: Jenkins core has no way to disable an account. Either disable them in the directory Jenkins signs people in through (LDAP, Active Directory, SSO), or remove their permissions in the authorization strategy (e.g. matrix-based security), or run offboard with jenkins mode \"delete\" for users of Jenkins' own user database.", u.ID)})
		plan.Kept = append(plan.Kept, connector.Kept{System: System, Target: u.ID,
			Detail: fmt.Sprintf("Jenkins user %s", u.ID),
			Reason: "mode is \"disable\": the account is kept, since Jenkins core cannot disable it and deletion was not chosen; its API tokens are revoked."})
	}
	plan.Manual = append(plan.Manual, connector.Manual{System: System, Detail: fmt.Sprintf(
		"End %s's open Jenkins web sessions: on their user page choose Security, then \"Invalidate session\". Jenkins offers no way to read sessions back, so offboard does not claim to end them.", u.ID)})
	connector.SortActions(plan.Actions, kindOrder)
	return plan, nil
}

func describeUser(u jenkinsUser) string {
	parts := []string{}
	if u.FullName != "" && u.FullName != u.ID {
		parts = append(parts, u.FullName)
	}
	if e := u.email(); e != "" {
		parts = append(parts, e)
	} else {
		parts = append(parts, "no mail address")
	}
	return strings.Join(parts, ", ")
}

// compact renders what the plan's read showed as JSON for Action.Before.
func compact(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(out)
}

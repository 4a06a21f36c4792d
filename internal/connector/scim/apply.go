package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Apply deactivates or deletes the user. It is idempotent: setting active to false again
// changes nothing, and a user that is already gone (404) is success for both kinds.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	if err := c.ownAction(a); err != nil {
		return err
	}
	var err error
	switch a.Kind {
	case KindDeactivate:
		err = c.api.Deactivate(ctx, a.Target)
	case KindDelete:
		err = c.api.Delete(ctx, a.Target)
	}
	switch {
	case err == nil, errors.Is(err, connector.ErrNotFound):
		return nil
	case connector.StatusOf(err) == http.StatusForbidden:
		return connector.Permanent(fmt.Errorf("scim %s: %s: refused; the SCIM token needs permission to update (and, for delete, to delete) users: %w", c.name, describe(a), err))
	}
	return fmt.Errorf("scim %s: %s: %w", c.name, describe(a), err)
}

// ownAction refuses actions this connector did not plan.
func (c *Connector) ownAction(a connector.Action) error {
	if a.Target == "" {
		return connector.Permanent(fmt.Errorf("scim %s: action %s has no target user ID", c.name, a.Key()))
	}
	if a.Kind != KindDeactivate && a.Kind != KindDelete {
		return connector.Permanent(fmt.Errorf("scim %s: unknown action kind %q (action %s)", c.name, a.Kind, a.Key()))
	}
	return nil
}

func describe(a connector.Action) string {
	who := a.Target
	if n := a.Param("user_name"); n != "" {
		who = n + " (" + a.Target + ")"
	}
	if a.Kind == KindDelete {
		return "delete user " + who
	}
	return "deactivate user " + who
}

// Verify reads the user back: a deactivation is in place when the user reads inactive or no
// longer exists; a deletion when the read answers 404.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	if err := c.ownAction(a); err != nil {
		return connector.Evidence{}, err
	}
	u, err := c.api.Get(ctx, a.Target)
	if errors.Is(err, connector.ErrNotFound) {
		read, _ := json.Marshal(map[string]any{"id": a.Target, "exists": false})
		return c.evidence(true, fmt.Sprintf("%s user %s no longer exists (GET answered 404)", c.name, a.Target), read), nil
	}
	if err != nil {
		return connector.Evidence{}, fmt.Errorf("scim %s: verify %s: %w", c.name, describe(a), err)
	}
	if a.Kind == KindDelete {
		return c.evidence(false, fmt.Sprintf("%s user %s (%s) still exists (%s)", c.name, u.Name(), u.ID, u.ActiveText()), u.Raw), nil
	}
	if u.Active != nil && !*u.Active {
		return c.evidence(true, fmt.Sprintf("%s user %s (%s) is inactive (active: false)", c.name, u.Name(), u.ID), u.Raw), nil
	}
	return c.evidence(false, fmt.Sprintf("%s user %s (%s) is not inactive (%s)", c.name, u.Name(), u.ID, u.ActiveText()), u.Raw), nil
}

func (c *Connector) evidence(ok bool, observed string, read json.RawMessage) connector.Evidence {
	return connector.Evidence{Verified: ok, Observed: observed, Read: read, CheckedAt: c.now().UTC()}
}

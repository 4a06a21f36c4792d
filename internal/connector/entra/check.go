package entra

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Check signs in and makes the reads a plan makes, against the first user of the directory,
// without changing anything. Refused credentials are a permanent error naming what to fix, and
// every missing read permission is named at once. Write permissions cannot be tested without
// writing; a missing one is reported by the step that needs it.
func (c *Connector) Check(ctx context.Context) error {
	if _, _, err := c.tokens.get(ctx); err != nil {
		return err
	}
	var users struct {
		Value []graphUser `json:"value"`
	}
	err := c.getJSON(ctx, c.graph, "/users", url.Values{"$top": {"1"}, "$select": {"id,userPrincipalName"}}, &users)
	if forbidden(err) {
		return connector.Permanent(fmt.Errorf("%s: the app may not read users; grant the User.Read.All application permission with admin consent: %w", c.name, err))
	}
	if err != nil {
		return fmt.Errorf("%s: check: list users: %w", c.name, err)
	}
	if len(users.Value) == 0 {
		return nil
	}
	uid := users.Value[0].ID
	var missing []string
	var failures []error
	probe := func(perm, path string, query url.Values) {
		var out map[string]any
		err := c.getJSON(ctx, c.graph, path, query, &out)
		switch {
		case forbidden(err):
			missing = append(missing, perm)
		case err != nil && !errors.Is(err, connector.ErrNotFound):
			failures = append(failures, err)
		}
	}
	probe("GroupMember.Read.All", userPath(uid, "memberOf"), url.Values{"$top": {"1"}, "$select": {"id"}})
	probe("UserAuthenticationMethod.Read.All", userPath(uid, "authentication", "methods"), nil)
	if len(missing) > 0 {
		return connector.Permanent(fmt.Errorf("%s: the app lacks the application permission(s) %s; grant them with admin consent (see docs/connectors/entra.md)", c.name, strings.Join(missing, ", ")))
	}
	if len(failures) > 0 {
		return fmt.Errorf("%s: check: %w", c.name, errors.Join(failures...))
	}
	return nil
}

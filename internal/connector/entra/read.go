package entra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/offboard-dev/offboard/internal/connector"
)

// The parts of Graph's objects the connector reads (CSDL types user, group, directoryRole,
// authenticationMethod and its subtypes, licenseAssignmentState).

type graphUser struct {
	ID                      string         `json:"id"`
	UserPrincipalName       string         `json:"userPrincipalName"`
	Mail                    *string        `json:"mail"`
	DisplayName             string         `json:"displayName"`
	AccountEnabled          *bool          `json:"accountEnabled"`
	OnPremisesSyncEnabled   *bool          `json:"onPremisesSyncEnabled"`
	SessionsValidFrom       *string        `json:"signInSessionsValidFromDateTime"`
	LicenseAssignmentStates []licenseState `json:"licenseAssignmentStates"`
}

// enabled reports accountEnabled; Graph omits it only when not selected, so unknown counts
// as enabled (the safe reading: disabling is then planned and verified).
func (u graphUser) enabled() bool { return u.AccountEnabled == nil || *u.AccountEnabled }

// synced reports a user mastered in on-premises Active Directory, whose accountEnabled Graph
// refuses to change (directory sync would set it back anyway).
func (u graphUser) synced() bool { return u.OnPremisesSyncEnabled != nil && *u.OnPremisesSyncEnabled }

func (u graphUser) validFrom() string {
	if u.SessionsValidFrom == nil {
		return ""
	}
	return *u.SessionsValidFrom
}

type licenseState struct {
	SkuID           string  `json:"skuId"`
	AssignedByGroup *string `json:"assignedByGroup"`
	State           string  `json:"state,omitempty"`
	Error           string  `json:"error,omitempty"`
}

func (l licenseState) direct() bool { return l.AssignedByGroup == nil || *l.AssignedByGroup == "" }

// userSelect is every user property a plan or a verification reads.
const userSelect = "id,userPrincipalName,mail,displayName,accountEnabled,onPremisesSyncEnabled,signInSessionsValidFromDateTime,licenseAssignmentStates"

type directoryObject struct {
	ODataType                   string   `json:"@odata.type"`
	ID                          string   `json:"id"`
	DisplayName                 string   `json:"displayName"`
	GroupTypes                  []string `json:"groupTypes,omitempty"`
	MailEnabled                 *bool    `json:"mailEnabled,omitempty"`
	SecurityEnabled             *bool    `json:"securityEnabled,omitempty"`
	OnPremisesSyncEnabled       *bool    `json:"onPremisesSyncEnabled,omitempty"`
	IsAssignableToRole          *bool    `json:"isAssignableToRole,omitempty"`
	ResourceProvisioningOptions []string `json:"resourceProvisioningOptions,omitempty"`
}

const (
	odataGroup = "#microsoft.graph.group"
	odataRole  = "#microsoft.graph.directoryRole"
)

func isTrue(b *bool) bool { return b != nil && *b }

// memberOfQuery selects what classifying a membership needs; 999 is Graph's largest page.
func memberOfQuery() url.Values {
	return url.Values{
		"$select": {"id,displayName,groupTypes,mailEnabled,securityEnabled,onPremisesSyncEnabled,isAssignableToRole,resourceProvisioningOptions"},
		"$top":    {"999"},
	}
}

type authMethod struct {
	ODataType    string `json:"@odata.type"`
	ID           string `json:"id"`
	PhoneNumber  string `json:"phoneNumber,omitempty"`
	PhoneType    string `json:"phoneType,omitempty"`
	EmailAddress string `json:"emailAddress,omitempty"`
	DisplayName  string `json:"displayName,omitempty"`
}

// methodType is the method's type without namespace and suffix, e.g. "phone" (and
// "external" for externalAuthenticationMethod).
func (m authMethod) methodType() string {
	t := strings.TrimPrefix(m.ODataType, "#microsoft.graph.")
	t, _ = strings.CutSuffix(t, "AuthenticationMethod")
	return t
}

// collections maps a method type to the navigation collection its DELETE goes through
// (authentication's navigation properties, apis.md §7).
var collections = map[string]string{
	"email":                   "emailMethods",
	"fido2":                   "fido2Methods",
	"microsoftAuthenticator":  "microsoftAuthenticatorMethods",
	"phone":                   "phoneMethods",
	"softwareOath":            "softwareOathMethods",
	"temporaryAccessPass":     "temporaryAccessPassMethods",
	"windowsHelloForBusiness": "windowsHelloForBusinessMethods",
	"platformCredential":      "platformCredentialMethods",
	"external":                "externalAuthenticationMethods",
}

func (m authMethod) describe() string {
	t := m.methodType()
	switch {
	case m.PhoneNumber != "":
		return fmt.Sprintf("%s %s %s", m.PhoneType, t, m.PhoneNumber)
	case m.EmailAddress != "":
		return fmt.Sprintf("%s %s", t, m.EmailAddress)
	case m.DisplayName != "":
		return fmt.Sprintf("%s %q", t, m.DisplayName)
	}
	return t
}

// isDefault reports whether m is of the kind the user's preferred second factor names
// (userDefaultAuthenticationMethodType).
func (m authMethod) isDefault(preferred string) bool {
	switch preferred {
	case "push":
		return m.methodType() == "microsoftAuthenticator"
	case "oath":
		return m.methodType() == "softwareOath"
	case "sms", "voiceMobile":
		return m.methodType() == "phone" && m.PhoneType == "mobile"
	case "voiceAlternateMobile":
		return m.methodType() == "phone" && m.PhoneType == "alternateMobile"
	case "voiceOffice":
		return m.methodType() == "phone" && m.PhoneType == "office"
	}
	return false
}

// lookup is the outcome of finding the person's account.
type lookup struct {
	user    *graphUser
	matches []graphUser // several accounts matched the email
	tried   []string
	notes   []string
}

// findUser looks the person up by their handle (object ID or UPN), then by email against
// userPrincipalName and mail.
func (c *Connector) findUser(ctx context.Context, p connector.Person) (lookup, error) {
	var l lookup
	handle, email := strings.TrimSpace(p.Handle(c.name)), strings.TrimSpace(p.Email)
	if handle == "" && email == "" {
		return l, connector.Permanent(fmt.Errorf("%s: the person has no %s handle and no email to look their account up by", c.name, c.name))
	}
	if handle != "" {
		l.tried = append(l.tried, "object ID or userPrincipalName "+handle)
		u, err := c.getUser(ctx, handle)
		switch {
		case err == nil:
			l.user = &u
			return l, nil
		case !errors.Is(err, connector.ErrNotFound):
			return l, fmt.Errorf("%s: look up user %s: %w", c.name, handle, c.needs(err, "User.Read.All"))
		}
		l.notes = append(l.notes, fmt.Sprintf("The %s handle %q names no user; looked up by email instead.", c.name, handle))
	}
	if email == "" {
		return l, nil
	}
	l.tried = append(l.tried, "userPrincipalName or mail "+email)
	lit := "'" + strings.ReplaceAll(email, "'", "''") + "'"
	users, err := list[graphUser](ctx, c, c.graph, "/users", url.Values{
		"$filter": {"userPrincipalName eq " + lit + " or mail eq " + lit},
		"$select": {userSelect},
	})
	if err != nil {
		return l, fmt.Errorf("%s: look up user by email %s: %w", c.name, email, c.needs(err, "User.Read.All"))
	}
	switch len(users) {
	case 0:
	case 1:
		l.user = &users[0]
	default:
		slices.SortFunc(users, func(a, b graphUser) int { return strings.Compare(a.ID, b.ID) })
		l.matches = users
	}
	return l, nil
}

func (c *Connector) getUser(ctx context.Context, idOrUPN string) (graphUser, error) {
	var u graphUser
	err := c.getJSON(ctx, c.graph, userPath(idOrUPN), url.Values{"$select": {userSelect}}, &u)
	return u, err
}

// access is everything a plan needs beyond the user object, read concurrently.
type access struct {
	memberOf []directoryObject
	methods  []authMethod
	// preferred is the user's default second factor; preferredErr says why it is unknown.
	preferred    string
	preferredErr error
}

func (c *Connector) readAccess(ctx context.Context, uid string) (access, error) {
	var a access
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		a.memberOf, err = list[directoryObject](gctx, c, c.graph, userPath(uid, "memberOf"), memberOfQuery())
		return c.wrap(c.needs(err, "GroupMember.Read.All"), "list memberships of %s", uid)
	})
	g.Go(func() (err error) {
		a.methods, err = list[authMethod](gctx, c, c.graph, userPath(uid, "authentication", "methods"), nil)
		return c.wrap(c.needs(err, "UserAuthenticationMethod.Read.All"), "list authentication methods of %s", uid)
	})
	g.Go(func() error {
		a.preferred, a.preferredErr = c.preferredMethod(gctx, uid)
		return nil
	})
	if err := g.Wait(); err != nil {
		return a, err
	}
	// An outage of the beta read fails the plan like any other read; a refusal or an
	// absent endpoint only makes the default method unknown.
	if st := connector.StatusOf(a.preferredErr); a.preferredErr != nil && !errors.Is(a.preferredErr, errNoBeta) && (st >= 500 || st == 0) {
		return a, c.wrap(a.preferredErr, "read sign-in preferences of %s", uid)
	}
	return a, nil
}

// errNoBeta is the reason the default method is unknown when no beta URL could be derived.
var errNoBeta = errors.New("no Graph beta URL configured")

// preferredMethod reads the user's default second factor from the beta signInPreferences
// resource, the only place Graph exposes it.
func (c *Connector) preferredMethod(ctx context.Context, uid string) (string, error) {
	if c.beta == nil {
		return "", errNoBeta
	}
	var prefs struct {
		Preferred *string `json:"userPreferredMethodForSecondaryAuthentication"`
	}
	if err := c.getJSON(ctx, c.beta, userPath(uid, "authentication", "signInPreferences"), nil, &prefs); err != nil {
		return "", err
	}
	if prefs.Preferred == nil {
		return "", nil
	}
	return *prefs.Preferred, nil
}

func (c *Connector) wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: "+format+": %w", append([]any{c.name}, append(args, err)...)...)
}

// parseTime reads a Graph DateTimeOffset; the zero time when absent or malformed.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// needs turns a 403 from a read into a permanent error naming the application permission
// the read requires; other errors pass through unchanged.
func (c *Connector) needs(err error, permission string) error {
	if !forbidden(err) {
		return err
	}
	return connector.Permanent(fmt.Errorf("the app registration needs the %s application permission (with admin consent): %w", permission, err))
}

// forbidden reports a 403 from Graph.
func forbidden(err error) bool { return connector.StatusOf(err) == http.StatusForbidden }

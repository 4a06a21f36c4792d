package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// systemName is what a configured instance may be called: it appears in plans, tickets,
// audit records, metrics labels and Jira labels, so it is kept plain.
var systemName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// validateConnectors checks every connector section.
func (d *decoder) validateConnectors(c *Connectors) {
	if o := c.Okta; o != nil {
		d.checkURL("connectors.okta.base_url", o.BaseURL)
		d.requireSecret("connectors.okta.token", o.Token)
		if o.Concurrency < 0 || o.Concurrency > oktaMaxConcurrency {
			d.invalid("connectors.okta.concurrency", "must be between 1 and %d (Okta's limit per org), or omitted", oktaMaxConcurrency)
		}
	}
	if g := c.GitHub; g != nil {
		d.checkOptionalURL("connectors.github.base_url", g.BaseURL)
		d.require("connectors.github.org", g.Org, "the organization's login, e.g. acme")
		d.requireSecret("connectors.github.token", g.Token)
	}
	if a := c.AWS; a != nil {
		d.checkOptionalURL("connectors.aws.endpoint", a.Endpoint)
		if (a.AccessKeyID == "") != a.SecretAccessKey.IsZero() {
			d.invalid("connectors.aws.access_key_id", "access_key_id and secret_access_key go together: set both, or neither to use the SDK's default credential chain")
		}
		d.oneOf("connectors.aws.user_name", a.UserName, "email", "email_local", "handle")
	}
	if h := c.DockerHub; h != nil {
		d.checkOptionalURL("connectors.dockerhub.base_url", h.BaseURL)
		d.require("connectors.dockerhub.org", h.Org, "the organization's name")
		d.requireSecret("connectors.dockerhub.token", h.Token)
	}
	if j := c.Jenkins; j != nil {
		d.checkURL("connectors.jenkins.base_url", j.BaseURL)
		d.require("connectors.jenkins.username", j.Username, "the administrator the API token belongs to")
		d.requireSecret("connectors.jenkins.api_token", j.APIToken)
		d.oneOf("connectors.jenkins.mode", j.Mode, "disable", "delete")
	}
	if g := c.Google; g != nil {
		d.requireSecret("connectors.google.credentials_json", g.CredentialsJSON)
		d.checkEmail("connectors.google.admin_email", g.AdminEmail)
		d.checkOptionalURL("connectors.google.base_url", g.BaseURL)
		d.checkOptionalURL("connectors.google.token_url", g.TokenURL)
		d.oneOf("connectors.google.transfer", g.Transfer, "manager", "none")
	}
	if e := c.Entra; e != nil {
		d.require("connectors.entra.tenant_id", e.TenantID, "the directory (tenant) ID")
		d.require("connectors.entra.client_id", e.ClientID, "the application (client) ID")
		d.requireSecret("connectors.entra.client_secret", e.ClientSecret)
		d.checkOptionalURL("connectors.entra.base_url", e.BaseURL)
		d.checkOptionalURL("connectors.entra.token_url", e.TokenURL)
	}
	if s := c.Slack; s != nil {
		d.checkOptionalURL("connectors.slack.base_url", s.BaseURL)
		d.checkOptionalURL("connectors.slack.scim_url", s.SCIMURL)
		d.requireSecret("connectors.slack.token", s.Token)
	}
	if l := c.LDAP; l != nil {
		d.validateLDAP(l)
	}

	names := map[string]string{} // instance name → path of its first use
	reserved := sectionNames(reflect.TypeFor[Connectors]())
	named := func(path, name string) {
		switch {
		case name == "":
			d.invalid(path, "required (the system's name in plans and tickets, e.g. zoom)")
		case !systemName.MatchString(name):
			d.invalid(path, "%s must be lower-case letters, digits and dashes, starting with a letter", quote(name))
		case slices.Contains(reserved, name):
			d.invalid(path, "%s is the name of a built-in system; choose another", quote(name))
		case names[name] != "":
			d.invalid(path, "%s is already the name of %s", quote(name), names[name])
		default:
			names[name] = path
		}
	}
	for i, a := range c.SCIM {
		p := fmt.Sprintf("connectors.scim[%d]", i)
		named(p+".name", a.Name)
		d.checkURL(p+".base_url", a.BaseURL)
		d.requireSecret(p+".token", a.Token)
		if a.UserFilter != "" && !strings.Contains(a.UserFilter, "{") {
			d.invalid(p+".user_filter", "uses no placeholder ({email}, {worker_id} or {handle}), so it would match the same users for everyone")
		}
		d.oneOf(p+".deprovision", a.Deprovision, "deactivate", "delete")
	}
	for i, w := range c.Webhook {
		p := fmt.Sprintf("connectors.webhook[%d]", i)
		named(p+".name", w.Name)
		d.checkURL(p+".url", w.URL)
		d.requireSecret(p+".secret", w.Secret)
		d.checkChosenSecret(p+".secret", w.Secret)
		if w.Timeout < 0 {
			d.invalid(p+".timeout", "must be positive")
		}
	}
	for _, db := range []struct {
		key  string
		list []DatabaseRole
	}{{"postgres", c.Postgres}, {"mysql", c.MySQL}} {
		for i, r := range db.list {
			p := fmt.Sprintf("connectors.%s[%d]", db.key, i)
			named(p+".name", r.Name)
			d.requireSecret(p+".dsn", r.DSN)
			d.oneOf(p+".role", r.Role, "email_local", "email", "handle")
		}
	}
}

func (d *decoder) validateLDAP(l *LDAP) {
	const p = "connectors.ldap."
	switch {
	case l.URL == "":
		d.invalid(p+"url", "required (ldaps://host:636 or ldap://host:389)")
	case !strings.HasPrefix(l.URL, "ldap://") && !strings.HasPrefix(l.URL, "ldaps://"):
		d.invalid(p+"url", "must start with ldaps:// or ldap://")
	case strings.HasPrefix(l.URL, "ldaps://") && l.StartTLS:
		d.invalid(p+"start_tls", "is for ldap:// URLs; ldaps:// is already encrypted")
	}
	d.require(p+"bind_dn", l.BindDN, "the DN offboard binds as")
	d.requireSecret(p+"bind_password", l.BindPassword)
	d.require(p+"base_dn", l.BaseDN, "where people are searched, e.g. dc=acme,dc=com")
	d.oneOf(p+"flavor", l.Flavor, "openldap", "ad")
	if l.Flavor == "ad" && (l.DisableAttribute != "" || l.DisabledOU != "") {
		d.invalid(p+"flavor", "Active Directory accounts are disabled through userAccountControl; remove disable_attribute and disabled_ou")
	}
	if (l.DisableAttribute == "") != (l.DisableValue == "") {
		d.invalid(p+"disable_attribute", "disable_attribute and disable_value go together")
	}
	if l.DisableAttribute != "" && l.DisabledOU != "" {
		d.invalid(p+"disabled_ou", "choose one way to disable: disable_attribute or disabled_ou")
	}
}

// require reports an empty setting, saying what it should hold.
func (d *decoder) require(path, v, what string) {
	if strings.TrimSpace(v) == "" {
		d.invalid(path, "required (%s)", what)
	}
}

// oneOf reports a setting that is neither empty (the default) nor one of the choices.
func (d *decoder) oneOf(path, v string, choices ...string) {
	if v != "" && !slices.Contains(choices, v) {
		d.invalid(path, "%s is not one of %s", quote(v), strings.Join(choices, ", "))
	}
}

// checkOptionalURL checks a URL that has a default when omitted.
func (d *decoder) checkOptionalURL(path, s string) {
	if s != "" {
		d.checkURL(path, s)
	}
}

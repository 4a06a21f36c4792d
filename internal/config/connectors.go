package config

import (
	"time"

	"github.com/offboard-dev/offboard/internal/secret"
)

// Connectors configures the systems access is removed from. At least one is required. The
// sections that are lists (scim, webhook, postgres, mysql) configure several instances, each
// its own system in plans, tickets and audit records under the name it is given.
type Connectors struct {
	Okta      *Okta          `yaml:"okta"`
	GitHub    *GitHub        `yaml:"github"`
	AWS       *AWS           `yaml:"aws"`
	DockerHub *DockerHub     `yaml:"dockerhub"`
	Jenkins   *Jenkins       `yaml:"jenkins"`
	SCIM      []SCIMApp      `yaml:"scim"`
	Google    *Google        `yaml:"google"`
	Entra     *Entra         `yaml:"entra"`
	Slack     *Slack         `yaml:"slack"`
	Webhook   []WebhookTool  `yaml:"webhook"`
	LDAP      *LDAP          `yaml:"ldap"`
	Postgres  []DatabaseRole `yaml:"postgres"`
	MySQL     []DatabaseRole `yaml:"mysql"`
}

// Okta configures the Okta connector.
type Okta struct {
	// BaseURL is the org's URL, e.g. https://acme.okta.com.
	BaseURL string `yaml:"base_url"`
	// Token is an API token, sent as "Authorization: SSWS <token>".
	Token secret.Value `yaml:"token"`
	// Concurrency caps requests in flight; 0 leaves it to the connector. Okta allows 75
	// concurrent requests per org, shared with every other integration.
	Concurrency int `yaml:"concurrency"`
}

// GitHub configures the GitHub organization connector.
type GitHub struct {
	// BaseURL defaults to https://api.github.com; GitHub Enterprise Server is
	// https://HOST/api/v3.
	BaseURL string `yaml:"base_url"`
	Org     string `yaml:"org"`
	// Token needs admin:org and repo (read) scopes; see docs/connectors/github.md.
	Token secret.Value `yaml:"token"`
}

// AWS configures the AWS IAM connector for one account.
type AWS struct {
	// Region defaults to us-east-1 (IAM is global; the region only picks the endpoint).
	Region string `yaml:"region"`
	// AccessKeyID and SecretAccessKey are static credentials; when both are omitted the SDK's
	// default chain is used (environment, shared config, instance or task role).
	AccessKeyID     string       `yaml:"access_key_id"`
	SecretAccessKey secret.Value `yaml:"secret_access_key"`
	SessionToken    secret.Value `yaml:"session_token"`
	// Endpoint overrides the IAM endpoint (a simulator, a VPC endpoint).
	Endpoint string `yaml:"endpoint"`
	// MatchTag names the IAM user tag holding the person's email, e.g. "email".
	MatchTag string `yaml:"match_tag"`
	// UserName says how a user name is derived when no tag matches: email_local (the
	// default), email, or handle (only the HR record's aws handle is trusted).
	UserName string `yaml:"user_name"`
	// DeleteUser deletes the user after everything else is removed; by default the user is
	// kept, tagged offboarded-at, so it can be inspected and restored.
	DeleteUser bool `yaml:"delete_user"`
}

// DockerHub configures the Docker Hub organization connector.
type DockerHub struct {
	// BaseURL defaults to https://hub.docker.com.
	BaseURL string `yaml:"base_url"`
	Org     string `yaml:"org"`
	// Username is the name the organization access token is presented with; it defaults
	// to Org.
	Username string `yaml:"username"`
	// Token is an organization access token.
	Token secret.Value `yaml:"token"`
}

// Jenkins configures the Jenkins connector.
type Jenkins struct {
	BaseURL  string       `yaml:"base_url"`
	Username string       `yaml:"username"`
	APIToken secret.Value `yaml:"api_token"`
	// Mode is what happens to the account after its API tokens are revoked: disable (the
	// default) or delete.
	Mode string `yaml:"mode"`
}

// SCIMApp configures one application reached through SCIM 2.0.
type SCIMApp struct {
	// Name is the system's name in plans, tickets and audit records, e.g. zoom.
	Name    string       `yaml:"name"`
	BaseURL string       `yaml:"base_url"`
	Token   secret.Value `yaml:"token"`
	// UserFilter finds the person; {email}, {worker_id} and {handle} are replaced. Default:
	// userName eq "{email}".
	UserFilter string `yaml:"user_filter"`
	// Deprovision is deactivate (PATCH active=false, the default) or delete.
	Deprovision string `yaml:"deprovision"`
}

// Google configures the Google Workspace connector.
type Google struct {
	// CredentialsJSON is the service account's key file content (domain-wide delegation).
	CredentialsJSON secret.Value `yaml:"credentials_json"`
	// AdminEmail is the administrator the service account acts as.
	AdminEmail string `yaml:"admin_email"`
	// Customer defaults to my_customer.
	Customer string `yaml:"customer"`
	// BaseURL defaults to https://admin.googleapis.com; TokenURL to Google's token endpoint.
	BaseURL  string `yaml:"base_url"`
	TokenURL string `yaml:"token_url"`
	// Transfer is where Drive and Calendar data go before suspension: manager (the default)
	// or none.
	Transfer string `yaml:"transfer"`
}

// Entra configures the Microsoft Entra ID (and Teams) connector.
type Entra struct {
	TenantID     string       `yaml:"tenant_id"`
	ClientID     string       `yaml:"client_id"`
	ClientSecret secret.Value `yaml:"client_secret"`
	// BaseURL defaults to https://graph.microsoft.com/v1.0; TokenURL to the tenant's token
	// endpoint on login.microsoftonline.com.
	BaseURL  string `yaml:"base_url"`
	TokenURL string `yaml:"token_url"`
}

// Slack configures the Slack connector.
type Slack struct {
	// BaseURL defaults to https://slack.com/api; SCIMURL to https://api.slack.com/scim/v2.
	BaseURL string `yaml:"base_url"`
	SCIMURL string `yaml:"scim_url"`
	// Token is an org-level admin user token; see docs/connectors/slack.md for scopes.
	Token secret.Value `yaml:"token"`
	// SCIMToken is needed only when SCIM access sits in another app than Token's; it
	// defaults to Token.
	SCIMToken secret.Value `yaml:"scim_token"`
	// EnterpriseGrid enables the admin.* methods (session reset) that only Grid has.
	EnterpriseGrid bool `yaml:"enterprise_grid"`
}

// WebhookTool configures one internal tool reached through offboard's webhook protocol.
type WebhookTool struct {
	// Name is the system's name in plans, tickets and audit records.
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Secret signs every request (the HR webhook's scheme); at least 16 characters.
	Secret secret.Value `yaml:"secret"`
	// Timeout bounds one request; default 30s.
	Timeout time.Duration `yaml:"timeout"`
}

// LDAP configures the LDAP or Active Directory connector.
type LDAP struct {
	// URL is ldap://host:389 or ldaps://host:636.
	URL      string `yaml:"url"`
	StartTLS bool   `yaml:"start_tls"`
	// CAFile is a PEM bundle to trust for LDAPS and StartTLS, beside the system's roots.
	CAFile       string       `yaml:"ca_file"`
	BindDN       string       `yaml:"bind_dn"`
	BindPassword secret.Value `yaml:"bind_password"`
	BaseDN       string       `yaml:"base_dn"`
	// Flavor is openldap (the default) or ad.
	Flavor string `yaml:"flavor"`
	// UserFilter finds the person; {email} and {uid} are replaced (escaped). The default
	// depends on the flavor.
	UserFilter  string `yaml:"user_filter"`
	GroupBaseDN string `yaml:"group_base_dn"`
	// How an OpenLDAP account is disabled: set DisableAttribute to DisableValue (e.g.
	// pwdAccountLockedTime: 000001010000Z with the ppolicy overlay), or move the entry to
	// DisabledOU. Active Directory always sets ACCOUNTDISABLE in userAccountControl.
	DisableAttribute string `yaml:"disable_attribute"`
	DisableValue     string `yaml:"disable_value"`
	DisabledOU       string `yaml:"disabled_ou"`
}

// DatabaseRole configures one database server whose login roles are locked.
type DatabaseRole struct {
	// Name is the system's name in plans, tickets and audit records, e.g. payments-db.
	Name string `yaml:"name"`
	// DSN is the connection string of an account allowed to alter roles and end sessions.
	DSN secret.Value `yaml:"dsn"`
	// Role says how the person's role name is derived: email_local (the default), email,
	// or handle (the HR record's handle for this system).
	Role string `yaml:"role"`
}

package app

import (
	"net/http"

	"github.com/offboard-dev/offboard/internal/config"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/aws"
	"github.com/offboard-dev/offboard/internal/connector/dockerhub"
	"github.com/offboard-dev/offboard/internal/connector/entra"
	"github.com/offboard-dev/offboard/internal/connector/github"
	"github.com/offboard-dev/offboard/internal/connector/google"
	"github.com/offboard-dev/offboard/internal/connector/jenkins"
	"github.com/offboard-dev/offboard/internal/connector/ldap"
	"github.com/offboard-dev/offboard/internal/connector/mysql"
	"github.com/offboard-dev/offboard/internal/connector/okta"
	"github.com/offboard-dev/offboard/internal/connector/postgres"
	"github.com/offboard-dev/offboard/internal/connector/scim"
	"github.com/offboard-dev/offboard/internal/connector/slack"
	"github.com/offboard-dev/offboard/internal/connector/webhook"
)

// System is one supported external system. Adding a system is its connector folder (with its
// simulator beside it) plus one entry here; TestEverySystemHasDocsAndConformance fails when the
// docs page or the conformance run is missing.
type System struct {
	// Name is the system's name in plans, tickets and audit records.
	Name string
	// Package is the connector's folder, relative to the repository root.
	Package string
	// Doc is the operator page: permissions, actions, limits.
	Doc string
	// RealServer marks systems whose conformance runs against a real server (a directory, a
	// database) started by the tests, instead of a simulator beside the connector.
	RealServer bool
	// Build returns the connectors the configuration enables: none, one, or one per
	// configured instance for systems such as SCIM apps. An error is a configuration that
	// validated but cannot be used (a malformed key file, say).
	Build func(cfg *config.Config, hc *http.Client) ([]connector.Connector, error)
}

// Systems is THE list of supported systems, in the order plans show them.
var Systems = []System{
	{
		Name:    "okta",
		Package: "internal/connector/okta",
		Doc:     "docs/connectors/okta.md",
		Build: func(cfg *config.Config, hc *http.Client) ([]connector.Connector, error) {
			o := cfg.Connectors.Okta
			if o == nil {
				return nil, nil
			}
			return one(okta.New(okta.Config{BaseURL: o.BaseURL, Token: o.Token.Reveal(), HTTP: hc, Concurrency: o.Concurrency}), nil)
		},
	},
	{
		Name:    "github",
		Package: "internal/connector/github",
		Doc:     "docs/connectors/github.md",
		Build: func(cfg *config.Config, hc *http.Client) ([]connector.Connector, error) {
			g := cfg.Connectors.GitHub
			if g == nil {
				return nil, nil
			}
			return one(github.New(github.Config{BaseURL: g.BaseURL, Org: g.Org, Token: g.Token.Reveal(), HTTP: hc}))
		},
	},
	{
		Name:    "aws",
		Package: "internal/connector/aws",
		Doc:     "docs/connectors/aws.md",
		Build: func(cfg *config.Config, hc *http.Client) ([]connector.Connector, error) {
			a := cfg.Connectors.AWS
			if a == nil {
				return nil, nil
			}
			return one(aws.New(aws.Config{Region: a.Region, AccessKeyID: a.AccessKeyID, SecretAccessKey: a.SecretAccessKey.Reveal(),
				SessionToken: a.SessionToken.Reveal(), Endpoint: a.Endpoint, MatchTag: a.MatchTag, UserName: a.UserName,
				DeleteUser: a.DeleteUser, HTTP: hc}))
		},
	},
	{
		Name:    "dockerhub",
		Package: "internal/connector/dockerhub",
		Doc:     "docs/connectors/dockerhub.md",
		Build: func(cfg *config.Config, hc *http.Client) ([]connector.Connector, error) {
			d := cfg.Connectors.DockerHub
			if d == nil {
				return nil, nil
			}
			return one(dockerhub.New(dockerhub.Config{BaseURL: d.BaseURL, Org: d.Org, Username: d.Username, Token: d.Token.Reveal(), HTTP: hc}))
		},
	},
	{
		Name:    "jenkins",
		Package: "internal/connector/jenkins",
		Doc:     "docs/connectors/jenkins.md",
		Build: func(cfg *config.Config, hc *http.Client) ([]connector.Connector, error) {
			j := cfg.Connectors.Jenkins
			if j == nil {
				return nil, nil
			}
			return one(jenkins.New(jenkins.Config{BaseURL: j.BaseURL, Username: j.Username, APIToken: j.APIToken.Reveal(), Mode: j.Mode, HTTP: hc}))
		},
	},
	{
		Name:    "scim",
		Package: "internal/connector/scim",
		Doc:     "docs/connectors/scim.md",
		Build: func(cfg *config.Config, hc *http.Client) ([]connector.Connector, error) {
			var out []connector.Connector
			for _, a := range cfg.Connectors.SCIM {
				c, err := scim.New(scim.Config{Name: a.Name, BaseURL: a.BaseURL, Token: a.Token.Reveal(), UserFilter: a.UserFilter, Deprovision: a.Deprovision, HTTP: hc})
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
			return out, nil
		},
	},
	{
		Name:    "google",
		Package: "internal/connector/google",
		Doc:     "docs/connectors/google.md",
		Build: func(cfg *config.Config, hc *http.Client) ([]connector.Connector, error) {
			g := cfg.Connectors.Google
			if g == nil {
				return nil, nil
			}
			return one(google.New(google.Config{CredentialsJSON: g.CredentialsJSON.Reveal(), AdminEmail: g.AdminEmail, Customer: g.Customer,
				BaseURL: g.BaseURL, TokenURL: g.TokenURL, TransferTo: g.Transfer, HTTP: hc}))
		},
	},
	{
		Name:    "entra",
		Package: "internal/connector/entra",
		Doc:     "docs/connectors/entra.md",
		Build: func(cfg *config.Config, hc *http.Client) ([]connector.Connector, error) {
			e := cfg.Connectors.Entra
			if e == nil {
				return nil, nil
			}
			return one(entra.New(entra.Config{TenantID: e.TenantID, ClientID: e.ClientID, ClientSecret: e.ClientSecret.Reveal(), BaseURL: e.BaseURL, TokenURL: e.TokenURL, HTTP: hc}))
		},
	},
	{
		Name:    "slack",
		Package: "internal/connector/slack",
		Doc:     "docs/connectors/slack.md",
		Build: func(cfg *config.Config, hc *http.Client) ([]connector.Connector, error) {
			s := cfg.Connectors.Slack
			if s == nil {
				return nil, nil
			}
			return one(slack.New(slack.Config{BaseURL: s.BaseURL, SCIMURL: s.SCIMURL, Token: s.Token.Reveal(), SCIMToken: s.SCIMToken.Reveal(), EnterpriseGrid: s.EnterpriseGrid, HTTP: hc}), nil)
		},
	},
	{
		Name:    "webhook",
		Package: "internal/connector/webhook",
		Doc:     "docs/connectors/webhook.md",
		Build: func(cfg *config.Config, hc *http.Client) ([]connector.Connector, error) {
			var out []connector.Connector
			for _, w := range cfg.Connectors.Webhook {
				c, err := webhook.New(webhook.Config{Name: w.Name, URL: w.URL, Secret: w.Secret.Reveal(), Timeout: w.Timeout, HTTP: hc})
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
			return out, nil
		},
	},
	{
		Name:       "ldap",
		Package:    "internal/connector/ldap",
		Doc:        "docs/connectors/ldap.md",
		RealServer: true,
		Build: func(cfg *config.Config, _ *http.Client) ([]connector.Connector, error) {
			l := cfg.Connectors.LDAP
			if l == nil {
				return nil, nil
			}
			return one(ldap.New(ldap.Config{URL: l.URL, StartTLS: l.StartTLS, CAFile: l.CAFile, BindDN: l.BindDN, BindPassword: l.BindPassword.Reveal(),
				BaseDN: l.BaseDN, GroupBaseDN: l.GroupBaseDN, Flavor: l.Flavor, UserFilter: l.UserFilter,
				Disable: ldap.Disable{Attribute: l.DisableAttribute, Value: l.DisableValue, DisabledOU: l.DisabledOU}}))
		},
	},
	{
		Name:       "postgres",
		Package:    "internal/connector/postgres",
		Doc:        "docs/connectors/postgres.md",
		RealServer: true,
		Build: func(cfg *config.Config, _ *http.Client) ([]connector.Connector, error) {
			var out []connector.Connector
			for _, db := range cfg.Connectors.Postgres {
				c, err := postgres.New(postgres.Config{Name: db.Name, DSN: db.DSN.Reveal(), RoleFrom: db.Role})
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
			return out, nil
		},
	},
	{
		Name:       "mysql",
		Package:    "internal/connector/mysql",
		Doc:        "docs/connectors/mysql.md",
		RealServer: true,
		Build: func(cfg *config.Config, _ *http.Client) ([]connector.Connector, error) {
			var out []connector.Connector
			for _, db := range cfg.Connectors.MySQL {
				c, err := mysql.New(mysql.Config{Name: db.Name, DSN: db.DSN.Reveal(), UserFrom: db.Role})
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
			return out, nil
		},
	},
}

// one wraps a single connector, or its construction error, as Build's result.
func one[C connector.Connector](c C, err error) ([]connector.Connector, error) {
	if err != nil {
		return nil, err
	}
	return []connector.Connector{c}, nil
}

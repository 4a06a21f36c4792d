package app

import (
	"net/http"

	"github.com/offboard-dev/offboard/internal/config"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/okta"
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
	// Build returns the connector when the configuration enables it (nil otherwise).
	Build func(cfg *config.Config, hc *http.Client) connector.Connector
}

// Systems is THE list of supported systems, in the order plans show them.
var Systems = []System{
	{
		Name:    "okta",
		Package: "internal/connector/okta",
		Doc:     "docs/connectors/okta.md",
		Build: func(cfg *config.Config, hc *http.Client) connector.Connector {
			o := cfg.Connectors.Okta
			if o == nil {
				return nil
			}
			return okta.New(okta.Config{BaseURL: o.BaseURL, Token: o.Token.Reveal(), HTTP: hc, Concurrency: o.Concurrency})
		},
	},
}

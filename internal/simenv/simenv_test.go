package simenv

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/offboard-dev/offboard/internal/config"
)

// TestTheDemoLeaverHoldsSomethingEverywhere protects the demo and the end-to-end tests: they
// prove offboarding by every simulator's holdings going empty, which proves nothing if the
// leaver held nothing in a system to begin with.
func TestTheDemoLeaverHoldsSomethingEverywhere(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	held := e.Holdings(DemoLeaver)
	for _, system := range e.Systems() {
		if len(held[system]) == 0 {
			t.Errorf("the demo leaver holds nothing in %s", system)
		}
	}
}

// TestInfoConfigurationIsValid protects `offboard sim`: the configuration it prints parses
// and names every simulated system.
func TestInfoConfigurationIsValid(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	info := e.Info(srv.URL)
	cfg, err := config.Parse([]byte(info.Config), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("the printed configuration does not parse: %v", err)
	}
	if len(cfg.Connectors.SCIM) != len(scimApps) || cfg.Connectors.Google == nil || cfg.Connectors.Entra == nil || cfg.Connectors.Slack == nil || len(cfg.Connectors.Webhook) != 1 {
		t.Errorf("configuration lacks systems: %+v", cfg.Connectors)
	}
	for _, system := range e.Systems() {
		if info.BaseURLs[system] == "" {
			t.Errorf("no base URL for %s", system)
			continue
		}
		// Every simulator answers under its prefix: 501 or a vendor error, never the
		// shared mux's 404 for an unmounted path.
		resp, err := http.Get(info.BaseURLs[system] + "/offboard-probe")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound && resp.Header.Get("Content-Type") == "text/plain; charset=utf-8" {
			t.Errorf("%s is not mounted at %s", system, info.BaseURLs[system])
		}
	}
}

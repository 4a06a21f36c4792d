package scim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/scim/scimsim"
)

func TestApplyDeactivatesAndVerifyReadsItBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{}, Config{})
	ctx := t.Context()
	p, err := e.conn.Plan(ctx, dana)
	must(t, err)
	a := p.Actions[0]
	must(t, e.conn.Apply(ctx, a))
	ev, err := e.conn.Verify(ctx, a)
	must(t, err)
	if !ev.Verified || !strings.Contains(ev.Observed, "inactive") || !strings.Contains(string(ev.Read), `"active":false`) {
		t.Fatalf("evidence = %+v (read %s)", ev, ev.Read)
	}
	if h := e.sim.Holdings(danaEmail); len(h) != 0 {
		t.Errorf("still held after deactivation: %v", h)
	}
	// The patch went out as a SCIM PatchOp.
	if n := e.sim.Recorder.Count("PATCH", "/Users/"+danaID, ""); n != 1 {
		t.Errorf("%d PATCH calls, want 1", n)
	}
}

func TestApplyToAUserWhoIsGoneSucceeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{}, Config{Deprovision: ModeDelete})
	ctx := t.Context()
	p, err := e.conn.Plan(ctx, dana)
	must(t, err)
	del := p.Actions[0]
	must(t, e.conn.Apply(ctx, del))
	must(t, e.conn.Apply(ctx, del))
	deact := connector.Action{System: "zoom", Kind: KindDeactivate, Target: danaID}
	must(t, e.conn.Apply(ctx, deact))
	for _, a := range []connector.Action{del, deact} {
		ev, err := e.conn.Verify(ctx, a)
		must(t, err)
		if !ev.Verified || !strings.Contains(ev.Observed, "no longer exists") {
			t.Errorf("%s: evidence %+v", a.Kind, ev)
		}
	}
}

func TestVerifyDeleteFailsWhileTheUserExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{}, Config{Deprovision: ModeDelete})
	ev, err := e.conn.Verify(t.Context(), connector.Action{System: "zoom", Kind: KindDelete, Target: danaID})
	must(t, err)
	if ev.Verified {
		t.Fatalf("a present user verified as deleted: %+v", ev)
	}
}

// scimStub answers every request with one status and SCIM error body, or with a user.
func scimStub(t *testing.T, status int, body string) *Connector {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return mustNew(t, Config{Name: "stub", BaseURL: ts.URL, Token: secretToken})
}

func TestApplyClassifiesRefusals(t *testing.T) {
	t.Parallel()
	a := connector.Action{System: "stub", Kind: KindDeactivate, Target: "u1", Params: map[string]string{"user_name": "dana"}}
	for _, tc := range []struct {
		name      string
		status    int
		permanent bool
		mention   string
	}{
		{"forbidden names the permission", 403, true, "permission to update"},
		{"unauthorized", 401, true, "HTTP 401"},
		{"conflict", 409, true, "HTTP 409"},
		{"server error is retryable", 503, false, "HTTP 503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := scimStub(t, tc.status, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"`+http.StatusText(tc.status)+`","detail":"stub says no"}`)
			err := c.Apply(t.Context(), a)
			if err == nil || connector.IsPermanent(err) != tc.permanent || !strings.Contains(err.Error(), tc.mention) || !strings.Contains(err.Error(), "stub says no") {
				t.Fatalf("err = %v (permanent %v), want permanent=%v mentioning %q", err, connector.IsPermanent(err), tc.permanent, tc.mention)
			}
			if strings.Contains(err.Error(), secretToken) {
				t.Error("the token leaked into the error")
			}
		})
	}
}

func TestVerifyWithoutActiveAttributeIsNotVerified(t *testing.T) {
	t.Parallel()
	c := scimStub(t, 200, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"dana"}`)
	ev, err := c.Verify(t.Context(), connector.Action{System: "stub", Kind: KindDeactivate, Target: "u1"})
	must(t, err)
	if ev.Verified || !strings.Contains(ev.Observed, "active not reported") {
		t.Fatalf("evidence = %+v", ev)
	}
}

func TestActionsThisConnectorDidNotPlanArePermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{}, Config{})
	for _, a := range []connector.Action{
		{System: "zoom", Kind: "remove_group", Target: danaID},
		{System: "zoom", Kind: KindDeactivate},
	} {
		if err := e.conn.Apply(t.Context(), a); !connector.IsPermanent(err) {
			t.Errorf("Apply(%+v) = %v, want permanent", a, err)
		}
		if _, err := e.conn.Verify(t.Context(), a); !connector.IsPermanent(err) {
			t.Errorf("Verify(%+v) = %v, want permanent", a, err)
		}
	}
}

func TestCheckReadsOnlyAndRejectsABadToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scimsim.Options{}, Config{})
	must(t, e.conn.Check(t.Context()))
	err := e.with(t, Config{Token: wrongToken}).Check(t.Context())
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "token was refused") {
		t.Fatalf("bad token: %v", err)
	}
	for _, c := range e.sim.Recorder.Calls() {
		if c.Method != http.MethodGet {
			t.Errorf("Check sent %s %s", c.Method, c.Path)
		}
	}
}

func TestSeveralNamedAppsRunSideBySide(t *testing.T) {
	t.Parallel()
	zoom := newEnv(t, scimsim.Options{Name: "zoom"}, Config{})
	figma := newEnv(t, scimsim.Options{Name: "figma"}, Config{})
	ctx := t.Context()
	zp, err := zoom.conn.Plan(ctx, dana)
	must(t, err)
	fp, err := figma.conn.Plan(ctx, dana)
	must(t, err)
	if zp.System != "zoom" || fp.System != "figma" || zp.Actions[0].System != "zoom" || fp.Actions[0].System != "figma" {
		t.Fatalf("systems: %s/%s", zp.System, fp.System)
	}
	must(t, zoom.conn.Apply(ctx, zp.Actions[0]))
	if len(zoom.sim.Holdings(danaEmail)) != 0 || len(figma.sim.Holdings(danaEmail)) == 0 {
		t.Errorf("offboarding from zoom touched figma: zoom %v, figma %v", zoom.sim.Holdings(danaEmail), figma.sim.Holdings(danaEmail))
	}
}

package slack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/slack/slacksim"
)

func TestPlanOnGridResetsSessionsBeforeDeactivating(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{EnterpriseGrid: true})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	if len(p.Actions) != 2 || p.Actions[0].Kind != KindResetSessions || p.Actions[1].Kind != KindDeactivate {
		t.Fatalf("actions = %+v", p.Actions)
	}
	reset, deact := p.Actions[0], p.Actions[1]
	if len(reset.After) != 0 || len(deact.After) != 1 || deact.After[0] != KindResetSessions {
		t.Errorf("dependencies: reset after %v, deactivate after %v", reset.After, deact.After)
	}
	var before struct {
		Sessions []session `json:"active_sessions"`
	}
	must(t, json.Unmarshal([]byte(reset.Before), &before))
	if len(before.Sessions) != 3 {
		t.Errorf("Before lists %d sessions, want 3: %s", len(before.Sessions), reset.Before)
	}
	if reset.Param("teams") != "T0HOME,T0SALES" || !strings.Contains(p.Account, "T0HOME,T0SALES") {
		t.Errorf("teams param %q, account %q", reset.Param("teams"), p.Account)
	}
}

func TestPlanOffGridSaysSessionResetNeedsGrid(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	if len(p.Actions) != 1 || p.Actions[0].Kind != KindDeactivate || len(p.Actions[0].After) != 1 {
		t.Fatalf("actions = %+v", p.Actions)
	}
	if !strings.Contains(strings.Join(p.Notes, " "), "only on Enterprise Grid") {
		t.Errorf("notes = %q", p.Notes)
	}
	if n := e.sim.Recorder.Count("", "/api/admin.", ""); n != 0 {
		t.Errorf("%d admin.* calls off Grid", n)
	}
}

func TestPlanWithoutSCIMOffGridIsManual(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{NoSCIM: true})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	if len(p.Actions) != 0 || len(p.Manual) != 1 || !strings.Contains(p.Manual[0].Detail, "Business+") {
		t.Fatalf("plan = %+v", p)
	}
	// On Grid SCIM is always available, so a refusal is the token's fault: stop and ask.
	g := newEnv(t, slacksim.Options{NoSCIM: true, EnterpriseGrid: true})
	_, err = g.conn.Plan(t.Context(), jane)
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "admin scope") {
		t.Fatalf("grid without SCIM: %v", err)
	}
}

func TestPlanByHandleUsesTheUserID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{EnterpriseGrid: true})
	p, err := e.conn.Plan(t.Context(), connector.Person{Email: "someone.else@acme.example", Handles: map[string]string{"slack": janeID}})
	must(t, err)
	if len(p.Actions) != 2 || p.Actions[0].Target != janeID {
		t.Fatalf("plan = %+v", p)
	}
	if !strings.Contains(strings.Join(p.Notes, " "), "not to the person's email") {
		t.Errorf("a handle whose email differs from the person's must be pointed out: %q", p.Notes)
	}
	if e.sim.Recorder.Count("", "/api/users.lookupByEmail", "") != 0 || e.sim.Recorder.Count("", "/api/users.info", "") != 1 {
		t.Error("a handle must be looked up with users.info, not by email")
	}
	p, err = e.conn.Plan(t.Context(), connector.Person{Handles: map[string]string{"slack": "U0NOBODY"}})
	must(t, err)
	if !p.NotFound || !strings.Contains(p.Notes[0], "U0NOBODY") {
		t.Errorf("unknown handle: %+v", p)
	}
}

func TestPlanPrimaryOwnerIsForAHuman(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{EnterpriseGrid: true})
	p, err := e.conn.Plan(t.Context(), connector.Person{Email: "owner@acme.example"})
	must(t, err)
	if len(p.Actions) != 0 || len(p.Manual) != 1 || !strings.Contains(p.Manual[0].Detail, "Primary Ownership") {
		t.Fatalf("plan = %+v", p)
	}
}

func TestPlanAlreadyDeactivatedPlansNothing(t *testing.T) {
	t.Parallel()
	for _, grid := range []bool{true, false} {
		e := newEnv(t, slacksim.Options{EnterpriseGrid: grid})
		p, err := e.conn.Plan(t.Context(), connector.Person{Email: "gone@acme.example"})
		must(t, err)
		if p.NotFound || len(p.Actions) != 0 || !strings.Contains(strings.Join(p.Notes, " "), "already deactivated") {
			t.Errorf("grid=%v: plan = %+v", grid, p)
		}
	}
}

func TestPlanMissingScopeNamesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{EnterpriseGrid: true, Scopes: []string{"admin", "users:read", "users:read.email"}})
	_, err := e.conn.Plan(t.Context(), jane)
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "admin.users:read") {
		t.Fatalf("err = %v, want permanent naming admin.users:read", err)
	}
}

func TestPlanWithoutEmailOrHandleIsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slacksim.Options{})
	if _, err := e.conn.Plan(t.Context(), connector.Person{Name: "Anon"}); !connector.IsPermanent(err) {
		t.Fatalf("err = %v", err)
	}
}

package webhook

import (
	"slices"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
)

// TestPlanAgainstExampleTool protects the plan a real tool gives: System stamped on every
// action, dependencies declared (disable waits for keys and roles), a deterministic order,
// and the bystander untouched.
func TestPlanAgainstExampleTool(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pl, err := e.conn.Plan(t.Context(), dana)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, a := range pl.Actions {
		keys = append(keys, a.Kind+" "+a.Target+" after "+strings.Join(a.After, ","))
		if a.System != toolName {
			t.Errorf("%s: System %q, want %q", a.Key(), a.System, toolName)
		}
	}
	want := []string{
		"remove_role u-1:admin after ", "remove_role u-1:billing after ",
		"revoke_api_key k-1 after ", "revoke_api_key k-2 after ",
		"disable_account u-1 after remove_role,revoke_api_key",
	}
	if !slices.Equal(keys, want) {
		t.Errorf("actions:\n got %q\nwant %q", keys, want)
	}
	if pl.Account != "u-1 (dana, active)" || pl.NotFound {
		t.Errorf("account = %q, not found = %v", pl.Account, pl.NotFound)
	}
	if got := e.sim.Holdings(sam.Email); len(got) != 3 {
		t.Errorf("Sam's holdings changed by planning: %q", got)
	}
}

// TestPlanAmbiguousIsNotAGuess protects "an ambiguous match is never a guess": two accounts
// with the leaver's email give a not-found plan with a manual entry naming both.
func TestPlanAmbiguousIsNotAGuess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.sim.AddAccount("dana2", dana.Email, "Dana Again"); err != nil {
		t.Fatal(err)
	}
	pl, err := e.conn.Plan(t.Context(), dana)
	if err != nil {
		t.Fatal(err)
	}
	if !pl.NotFound || len(pl.Actions) != 0 || len(pl.Manual) != 1 || pl.Manual[0].System != toolName ||
		!strings.Contains(pl.Manual[0].Detail, "u-1 (dana)") || !strings.Contains(pl.Manual[0].Detail, "dana2") {
		t.Errorf("plan = %+v; want not found with one manual entry naming both accounts", pl)
	}
}

// TestPlanByHandle protects the handle's precedence: with a handle for this system the tool
// looks the person up by it, so an email shared by two accounts no longer matters.
func TestPlanByHandle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.sim.AddAccount("dana2", dana.Email, "Dana Again"); err != nil {
		t.Fatal(err)
	}
	p := dana
	p.Handles = map[string]string{toolName: "dana2"}
	pl, err := e.conn.Plan(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if pl.NotFound || len(pl.Actions) != 1 || pl.Actions[0].Kind != "disable_account" || pl.Actions[0].Target != "u-3" {
		t.Errorf("plan = %+v; want only disabling dana2 (u-3)", pl)
	}
}

// TestPlanWithoutIdentity protects against asking a tool about nobody: a person with neither
// email nor handle is a finding, and no request is sent.
func TestPlanWithoutIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pl, err := e.conn.Plan(t.Context(), connector.Person{WorkerID: "W9", Name: "No Email"})
	if err != nil || !pl.NotFound || len(pl.Notes) == 0 {
		t.Errorf("Plan = %+v, %v; want a not-found finding with a note", pl, err)
	}
	if n := len(e.sim.Recorder.Calls()); n != 0 {
		t.Errorf("%d request(s) sent", n)
	}
}

// TestPlanKeepsToolExtras protects the parts of a plan besides actions: kept items, manual
// work, secrets to rotate and notes reach the plan with System stamped.
func TestPlanKeepsToolExtras(t *testing.T) {
	t.Parallel()
	cn := newCanned(t, 0, reply(200, `{"version":1,"phase":"plan","account":"u-1","actions":[],
		"kept":[{"target":"k-9","detail":"shared CI key","reason":"owned by the team"}],
		"manual":[{"detail":"transfer the billing contact"}],
		"rotate":[{"location":"vault /ci","name":"DEPLOY_TOKEN","reason":"could read it"}],
		"notes":["line one\nline two"]}`))
	pl, err := cn.conn.Plan(t.Context(), dana)
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Kept) != 1 || pl.Kept[0].System != toolName || pl.Kept[0].Reason != "owned by the team" ||
		len(pl.Manual) != 1 || pl.Manual[0].System != toolName ||
		len(pl.Rotate) != 1 || pl.Rotate[0].System != toolName || pl.Rotate[0].Name != "DEPLOY_TOKEN" ||
		len(pl.Notes) != 1 || pl.Notes[0] != "line one line two" {
		t.Errorf("plan = %+v", pl)
	}
}

// TestCheck protects the credential check: a ready tool passes, a wrong secret is a permanent
// error naming the secret, and problems the tool reports are permanent.
func TestCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.conn.Check(t.Context()); err != nil {
		t.Errorf("Check against the example tool: %v", err)
	}
	err := e.connector(t, wrongSecret).Check(t.Context())
	if err == nil || !connector.IsPermanent(err) || !strings.Contains(err.Error(), "secret") {
		t.Errorf("Check with a wrong secret = %v, want a permanent error about the secret", err)
	}
	cn := newCanned(t, 0, reply(200, `{"version":1,"phase":"check","problems":["cannot reach the accounts database"]}`))
	err = cn.conn.Check(t.Context())
	if err == nil || !connector.IsPermanent(err) || !strings.Contains(err.Error(), "cannot reach the accounts database") {
		t.Errorf("Check = %v, want the tool's problem as a permanent error", err)
	}
}

// TestApplyDrainsHoldings protects the end-to-end promise against the example tool: after
// every planned action is applied and verified, nothing is left for Dana and Sam is untouched.
func TestApplyDrainsHoldings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pl, err := e.conn.Plan(t.Context(), dana)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range pl.Actions { // plan order is dependency order
		if err := e.conn.Apply(t.Context(), a); err != nil {
			t.Fatalf("Apply %s: %v", a.Key(), err)
		}
		ev, err := e.conn.Verify(t.Context(), a)
		if err != nil || !ev.Verified || len(ev.Read) == 0 {
			t.Fatalf("Verify %s = %+v, %v", a.Key(), ev, err)
		}
	}
	if h := e.sim.Holdings(dana.Email); len(h) != 0 {
		t.Errorf("Dana still holds %q", h)
	}
	if h := e.sim.Holdings(sam.Email); len(h) != 3 {
		t.Errorf("Sam's holdings = %q, want his account, role and key", h)
	}
}

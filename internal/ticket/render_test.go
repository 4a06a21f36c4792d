package ticket

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
)

func fixture() (store.Case, []store.Step) {
	at := time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)
	c := store.Case{ID: 42, Person: connector.Person{Name: "Jane Doe", Email: "jane@acme.com", WorkerID: "W1"},
		State: store.CaseRunning, Source: "workday", EventID: "workday:W1:2026-11-22", EffectiveAt: at,
		Plans: []connector.Plan{
			{System: "okta", Account: "00u1 (jane@acme.com, ACTIVE)",
				Kept: []connector.Kept{{System: "okta", Detail: "Everyone", Reason: "built-in group, removed only by deactivation"}}},
			{System: "github", NotFound: true, Notes: []string{"not found in github"}},
		}}
	steps := []store.Step{
		{ID: 1, Seq: 1, State: store.StepVerified, AppliedAt: &at, VerifiedAt: &at,
			Action:   connector.Action{System: "okta", Kind: "revoke_sessions", Target: "00u1", Detail: "Revoke sessions"},
			Evidence: &connector.Evidence{Verified: true, Observed: "no refresh tokens", CheckedAt: at}},
		{ID: 2, Seq: 2, State: store.StepFailed, Attempts: 3, LastError: "okta: HTTP 403 E0000006: no permission",
			Action: connector.Action{System: "okta", Kind: "remove_group", Target: "00g1", Detail: "Remove from group Admins", After: []string{"revoke_sessions"}}},
		{ID: 3, Seq: 3, State: store.StepPending,
			Action: connector.Action{System: "okta", Kind: "deactivate", Target: "00u1", Detail: "Deactivate", After: []string{"remove_group"}}},
	}
	return c, steps
}

func TestOpenNamesThePersonInTheSummary(t *testing.T) {
	t.Parallel()
	c, _ := fixture()
	nt := Open(c)
	if nt.Summary != "Deprovisioning: Jane Doe <jane@acme.com>" {
		t.Fatalf("summary %q", nt.Summary)
	}
	if len(nt.Labels) != 1 || nt.Labels[0] != LabelOffboarding {
		t.Fatalf("labels %v", nt.Labels)
	}
	if !strings.Contains(nt.Description.Text(), "W1") {
		t.Error("description lacks the worker ID")
	}
}

func TestFinalCommentNeverCallsAnUnverifiedStepVerified(t *testing.T) {
	t.Parallel()
	c, steps := fixture()
	doc := FinalComment(c, steps)
	text := doc.Text()
	if !strings.Contains(text, "NOT complete") || strings.Contains(text, "Offboarding complete") {
		t.Fatalf("a partial case reads as complete:\n%s", text)
	}
	var table *Table
	for _, b := range doc.Blocks {
		if b.Table != nil {
			table = b.Table
		}
	}
	if table == nil || len(table.Rows) != 3 {
		t.Fatalf("want a row per step, got %+v", table)
	}
	for _, row := range table.Rows {
		if row[1] != "Revoke sessions" && row[2] == "verified" {
			t.Errorf("row %v claims verification", row)
		}
	}
	for _, want := range []string{"no permission", "waits on a step that did not finish", "Confirm Jane Doe has no github account"} {
		if !strings.Contains(text, want) {
			t.Errorf("final comment lacks %q:\n%s", want, text)
		}
	}
}

func TestFinalCommentForACompletedCase(t *testing.T) {
	t.Parallel()
	at := time.Now()
	c := store.Case{ID: 1, Person: connector.Person{Name: "Bo", Email: "bo@acme.com"}, Plans: []connector.Plan{{System: "okta"}}}
	steps := []store.Step{{ID: 1, Seq: 1, State: store.StepVerified, VerifiedAt: &at, AppliedAt: &at,
		Action: connector.Action{System: "okta", Kind: "deactivate", Detail: "Deactivate"}, Evidence: &connector.Evidence{Verified: true, Observed: "DEPROVISIONED"}}}
	text := FinalComment(c, steps).Text()
	if !strings.Contains(text, "Offboarding complete") || strings.Contains(text, "What a human must do") {
		t.Fatalf("completed case text:\n%s", text)
	}
	if got := NeedsHuman(c, steps); len(got) != 0 {
		t.Fatalf("nothing should need a human: %v", got)
	}
}

func TestSystemCommentSaysWhatFailed(t *testing.T) {
	t.Parallel()
	c, steps := fixture()
	text := SystemComment(c, "okta", steps).Text()
	if !strings.Contains(text, "1 of 3 actions verified") || !strings.Contains(text, "E0000006") {
		t.Fatalf("system comment:\n%s", text)
	}
	if text := SystemComment(c, "github", steps).Text(); !strings.Contains(text, "no account found") {
		t.Fatalf("not-found system comment:\n%s", text)
	}
}

func TestPlanCommentShowsKeptAccessWithItsReason(t *testing.T) {
	t.Parallel()
	c, steps := fixture()
	text := PlanComment(c, steps).Text()
	for _, want := range []string{"Kept: Everyone — built-in group", "Remove from group Admins (after revoke_sessions)", "github: no account found"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan comment lacks %q:\n%s", want, text)
		}
	}
}

func TestEvidenceJSONHoldsEveryStep(t *testing.T) {
	t.Parallel()
	c, steps := fixture()
	b, err := EvidenceJSON(c, steps)
	if err != nil {
		t.Fatal(err)
	}
	var ev Evidence
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Steps) != 3 || ev.Steps[0].ReadBack == nil || ev.Steps[1].LastError == "" || len(ev.Plans) != 2 {
		t.Fatalf("evidence %s", b)
	}
	if EvidenceFilename(c) != "offboard-case-42-evidence.json" {
		t.Fatal(EvidenceFilename(c))
	}
}

package ticket

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
)

var (
	t0   = time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)
	jane = connector.Person{Name: "Jane Doe", Email: "jane@acme.com", WorkerID: "W1", Manager: "boss@acme.com"}
)

func at(min int) *time.Time {
	t := t0.Add(time.Duration(min) * time.Minute)
	return &t
}

// completed is a case whose two Okta actions were both read back.
func completed() (store.Case, []store.Step) {
	c := store.Case{ID: 7, Person: jane, State: store.CaseCompleted, Source: "workday", EventID: "workday:W1",
		EffectiveAt: t0, Plans: []connector.Plan{{System: "okta", Account: "00u1 (jane@acme.com, ACTIVE)",
			Kept: []connector.Kept{{System: "okta", Detail: "Everyone", Reason: "built-in group, ends with deactivation"}}}}}
	steps := []store.Step{
		{ID: 1, Seq: 1, State: store.StepVerified, Attempts: 1, AppliedAt: at(1), VerifiedAt: at(2),
			Action:   connector.Action{System: "okta", Kind: "revoke_sessions", Target: "00u1", Detail: "Revoke sessions"},
			Evidence: &connector.Evidence{Verified: true, Observed: "no sessions", CheckedAt: *at(2)}},
		{ID: 2, Seq: 2, State: store.StepVerified, Attempts: 1, AppliedAt: at(3), VerifiedAt: at(4), DependsOn: []int64{1},
			Action:   connector.Action{System: "okta", Kind: "deactivate", Target: "00u1", Detail: "Deactivate", After: []string{"revoke_sessions"}},
			Evidence: &connector.Evidence{Verified: true, Observed: "status DEPROVISIONED", CheckedAt: *at(4)}},
	}
	return c, steps
}

// partial is a case with a failed step, a step that never started because of it, a manual
// item, a system with no account, and a step marked verified without a verification time.
func partial() (store.Case, []store.Step) {
	c := store.Case{ID: 42, Person: jane, State: store.CasePartial, Source: "workday", EventID: "workday:W1:2026-11-22",
		EffectiveAt: t0, Urgent: true, Reason: "Involuntary",
		Plans: []connector.Plan{
			{System: "okta", Account: "00u1 (jane@acme.com, ACTIVE)",
				Kept:   []connector.Kept{{System: "okta", Detail: "Everyone", Reason: "built-in group, ends with deactivation"}},
				Manual: []connector.Manual{{System: "okta", Detail: "Remove from AD group VPN Users in Active Directory"}}},
			{System: "github", NotFound: true, Notes: []string{"no member with email jane@acme.com"}},
		}}
	steps := []store.Step{
		{ID: 1, Seq: 1, State: store.StepVerified, Attempts: 1, AppliedAt: at(1), VerifiedAt: at(2),
			Action:   connector.Action{System: "okta", Kind: "revoke_sessions", Target: "00u1", Detail: "Revoke sessions"},
			Evidence: &connector.Evidence{Verified: true, Observed: "no sessions", CheckedAt: *at(2)}},
		{ID: 2, Seq: 2, State: store.StepFailed, Attempts: 3, DependsOn: []int64{1}, LastError: "okta: HTTP 403 E0000006: no permission",
			Action: connector.Action{System: "okta", Kind: "remove_group", Target: "00g1", Detail: "Remove from group Admins", After: []string{"revoke_sessions"}}},
		{ID: 3, Seq: 3, State: store.StepRetrying, Attempts: 6, AppliedAt: at(5), DependsOn: []int64{1}, LastError: "okta: read-back still lists the group",
			Action:   connector.Action{System: "okta", Kind: "remove_group", Target: "00g2", Detail: "Remove from group Payroll", After: []string{"revoke_sessions"}},
			Evidence: &connector.Evidence{Verified: false, Observed: "still a member of Payroll", CheckedAt: *at(6)}},
		{ID: 4, Seq: 4, State: store.StepPending, DependsOn: []int64{2, 3},
			Action: connector.Action{System: "okta", Kind: "deactivate", Target: "00u1", Detail: "Deactivate", After: []string{"remove_group"}}},
		// Marked verified but without the time of the read that proved it: not verified.
		{ID: 5, Seq: 5, State: store.StepVerified, Attempts: 1, AppliedAt: at(7),
			Action: connector.Action{System: "okta", Kind: "remove_role", Target: "ra1", Detail: "Remove admin role SUPER_ADMIN"}},
	}
	return c, steps
}

func TestOpenSaysWhoWhenWhyAndWhence(t *testing.T) {
	t.Parallel()
	c, _ := partial()
	c.EffectiveAt = time.Date(2026, 11, 22, 13, 0, 0, 0, time.FixedZone("EST", -5*3600))
	nt := Open(c)
	if nt.Summary != "Deprovisioning: Jane Doe <jane@acme.com>" {
		t.Fatalf("summary %q", nt.Summary)
	}
	if len(nt.Labels) != 1 || nt.Labels[0] != LabelOffboarding || nt.Ref != "offboard-case-42" {
		t.Fatalf("labels %v ref %q", nt.Labels, nt.Ref)
	}
	text := nt.Description.Text()
	for _, want := range []string{"Worker ID: W1", "Email: jane@acme.com", "Manager: boss@acme.com", "Effective: 2026-11-22T18:00:00Z",
		"Reason: Involuntary", "Source: workday (event workday:W1:2026-11-22)", "Urgent: yes", "Offboard case: 42"} {
		if !strings.Contains(text, want) {
			t.Errorf("description lacks %q:\n%s", want, text)
		}
	}
	c.Urgent = false
	if text := Open(c).Description.Text(); !strings.Contains(text, "Urgent: no") {
		t.Errorf("a routine case does not say it is not urgent:\n%s", text)
	}
}

func TestSummaryWithoutNameOrEmail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    connector.Person
		want string
	}{
		{connector.Person{Name: "Bo", Email: "bo@acme.com"}, "Deprovisioning: Bo <bo@acme.com>"},
		{connector.Person{WorkerID: "W9", Email: "w9@acme.com"}, "Deprovisioning: worker W9 <w9@acme.com>"},
		{connector.Person{Name: "Bo"}, "Deprovisioning: Bo"},
	} {
		if got := Summary(tc.p); got != tc.want {
			t.Errorf("Summary(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestCompletedCase(t *testing.T) {
	t.Parallel()
	c, steps := completed()
	final := FinalComment(c, steps)
	text := final.Text()
	if !strings.Contains(text, "Offboarding complete") || strings.Contains(text, "NOT complete") || strings.Contains(text, "What a human must do") {
		t.Fatalf("completed case:\n%s", text)
	}
	if !strings.Contains(text, "Kept on purpose") || !strings.Contains(text, "Everyone (built-in group") {
		t.Errorf("final comment does not show what was kept:\n%s", text)
	}
	table := tableOf(t, final)
	for _, row := range table.Rows {
		if row[2] != "verified" || row[4] == "—" {
			t.Errorf("row %v of a verified step", row)
		}
	}
	if got := NeedsHuman(c, steps); len(got) != 0 {
		t.Fatalf("nothing should need a human: %v", got)
	}
	sys := SystemComment(c, "okta", steps).Text()
	if !strings.Contains(sys, "okta: all 2 actions verified") || !strings.Contains(sys, "Deactivate: status DEPROVISIONED") {
		t.Fatalf("system comment:\n%s", sys)
	}
	ev := decodeEvidence(t, c, steps)
	if !ev.Complete || ev.Verified != 2 || ev.Actions != 2 || len(ev.NeedsHuman) != 0 {
		t.Fatalf("evidence of a completed case: %+v", ev)
	}
}

func TestPartialCase(t *testing.T) {
	t.Parallel()
	c, steps := partial()
	text := FinalComment(c, steps).Text()
	if !strings.Contains(text, "Offboarding NOT complete") || !strings.Contains(text, "1 of 5 actions verified") || strings.Contains(text, "Offboarding complete") {
		t.Fatalf("a partial case reads as complete:\n%s", text)
	}
	human := text[strings.Index(text, "What a human must do"):]
	for _, want := range []string{
		"okta: Remove from group Admins — failed after 3 attempts: okta: HTTP 403 E0000006: no permission",
		"okta: Remove from group Payroll — still failing; offboard keeps retrying (6 attempts so far): okta: read-back still lists the group",
		"okta: Deactivate — not started: waits on Remove from group Admins; Remove from group Payroll",
		"okta: Remove admin role SUPER_ADMIN — marked done without a recorded read-back time",
		"okta: Remove from AD group VPN Users in Active Directory",
		"## No account found",
		"- github: no member with email jane@acme.com",
	} {
		if !strings.Contains(human, want) {
			t.Errorf("what a human must do lacks %q:\n%s", want, human)
		}
	}
	// No GitHub account is a finding, shown, but not work for a person: the person was found
	// in Okta, so the identity is right.
	if n := len(NeedsHuman(c, steps)); n != 5 {
		t.Errorf("NeedsHuman lists %d items, want 5 (4 steps, 1 manual)", n)
	}

	sys := SystemComment(c, "okta", steps).Text()
	for _, want := range []string{"okta: 2 of 5 actions failed. 1 verified.", "E0000006", "For a human: Remove from AD group"} {
		if !strings.Contains(sys, want) {
			t.Errorf("system comment lacks %q:\n%s", want, sys)
		}
	}
	if sys := SystemComment(c, "github", steps).Text(); !strings.Contains(sys, "github: no account found for Jane Doe") {
		t.Errorf("not-found system comment:\n%s", sys)
	}
	ev := decodeEvidence(t, c, steps)
	if ev.Complete || ev.Verified != 1 || len(ev.NeedsHuman) != 5 {
		t.Fatalf("evidence of a partial case: complete=%v verified=%d needs=%v", ev.Complete, ev.Verified, ev.NeedsHuman)
	}
}

// TestNothingUnverifiedIsCalledVerified renders everything a partial case produces and checks
// every line that names an unverified step: no "verified" claim, no verification time.
func TestNothingUnverifiedIsCalledVerified(t *testing.T) {
	t.Parallel()
	c, steps := partial()
	docs := map[string]Doc{
		"plan": PlanComment(c, steps), "final": FinalComment(c, steps),
		"okta": SystemComment(c, "okta", steps), "github": SystemComment(c, "github", steps),
		"needs": {Blocks: []Block{{Bullets: NeedsHuman(c, steps)}}},
	}
	negated := regexp.MustCompile(`(?i)\b(not|un)\s*verified`)
	claim := regexp.MustCompile(`(?i)verified|✓`)
	checked := 0
	for name, d := range docs {
		for _, line := range strings.Split(d.Text(), "\n") {
			for _, s := range steps {
				if isVerified(s) || !strings.Contains(line, s.Action.Detail) {
					continue
				}
				checked++
				if claim.MatchString(negated.ReplaceAllString(line, "")) {
					t.Errorf("%s: a line about unverified step %q claims verification: %s", name, s.Action.Detail, line)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d lines named an unverified step; the check did not run", checked)
	}
	for _, row := range tableOf(t, docs["final"]).Rows {
		if row[1] != "Revoke sessions" && (row[2] == "verified" || row[4] != "—") {
			t.Errorf("row %v claims verification", row)
		}
	}
	ev := decodeEvidence(t, c, steps)
	for _, s := range ev.Steps {
		if s.Verified != (s.ID == 1) {
			t.Errorf("evidence step %d verified=%v", s.ID, s.Verified)
		}
	}
}

func TestPlanCommentShowsOrderDependenciesKeptAndFindings(t *testing.T) {
	t.Parallel()
	c, steps := partial()
	text := PlanComment(c, steps).Text()
	for _, want := range []string{
		"5 actions in 2 systems",
		"## okta: 00u1 (jane@acme.com, ACTIVE)",
		"- 1. Revoke sessions\n",
		"- 2. Remove from group Admins (after Revoke sessions)",
		"- 4. Deactivate (after all 2 remove_group actions)",
		"Kept: Everyone (built-in group, ends with deactivation)",
		"For a human: Remove from AD group VPN Users",
		"## github: no account found",
		"No github account was found for Jane Doe, so nothing will be removed there",
		"Note: no member with email jane@acme.com",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan comment lacks %q:\n%s", want, text)
		}
	}
}

func TestACaseWithNothingCheckedIsNotComplete(t *testing.T) {
	t.Parallel()
	c := store.Case{ID: 3, Person: jane, State: store.CasePartial}
	text := FinalComment(c, nil).Text()
	if !strings.Contains(text, "NOT complete") || !strings.Contains(text, "No system was checked") {
		t.Fatalf("empty case:\n%s", text)
	}
	c.State = store.CaseScheduled
	if got := NeedsHuman(c, nil); len(got) != 0 {
		t.Fatalf("a case not yet planned needs nothing from a human yet: %v", got)
	}
}

func TestEvidenceJSONHoldsEveryStep(t *testing.T) {
	t.Parallel()
	c, steps := partial()
	b, err := EvidenceJSON(c, steps)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := EvidenceJSON(c, steps)
	if !bytes.Equal(b, again) {
		t.Fatal("rendering the same case twice gave different evidence")
	}
	if !bytes.Contains(b, []byte("\n  \"format\": \"offboard-evidence/1\"")) {
		t.Fatalf("evidence is not indented JSON:\n%s", b)
	}
	ev := decodeEvidence(t, c, steps)
	if len(ev.Steps) != 5 || len(ev.Plans) != 2 || ev.Case.Plans != nil || ev.Person.Email != "jane@acme.com" {
		t.Fatalf("evidence %s", b)
	}
	s2, s3 := ev.Steps[1], ev.Steps[2]
	if s2.Action.Kind != "remove_group" || s2.State != store.StepFailed || s2.Attempts != 3 || s2.LastError == "" || len(s2.Action.After) != 1 {
		t.Errorf("failed step in evidence: %+v", s2)
	}
	if s3.Evidence == nil || s3.Evidence.Observed != "still a member of Payroll" || s3.AppliedAt == nil {
		t.Errorf("retrying step in evidence: %+v", s3)
	}
	if ev.AsOf == nil || !ev.AsOf.Equal(*at(7)) {
		t.Errorf("as_of %v, want the newest recorded time %v", ev.AsOf, at(7))
	}
	if EvidenceFilename(c) != "offboard-case-42-evidence.json" {
		t.Fatal(EvidenceFilename(c))
	}
}

func tableOf(t *testing.T, d Doc) *Table {
	t.Helper()
	for _, b := range d.Blocks {
		if b.Table != nil {
			if len(b.Table.Header) != 6 {
				t.Fatalf("table header %v", b.Table.Header)
			}
			return b.Table
		}
	}
	t.Fatalf("no table in:\n%s", d.Text())
	return nil
}

func decodeEvidence(t *testing.T, c store.Case, steps []store.Step) Evidence {
	t.Helper()
	b, err := EvidenceJSON(c, steps)
	if err != nil {
		t.Fatal(err)
	}
	var ev Evidence
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestRotationTasksAreListedWithoutHoldingTheCaseOpen protects the developer-credential
// promise: secrets the leaver could read are on the ticket for their owners, by name only,
// and a case whose access is all verified still reads as complete.
func TestRotationTasksAreListedWithoutHoldingTheCaseOpen(t *testing.T) {
	t.Parallel()
	c, steps := completed()
	c.Plans = append(c.Plans, connector.Plan{System: "github", Account: "jane-dev (member of acme)", Rotate: []connector.Rotation{
		{System: "github", Location: "repository acme/payments", Name: "AWS_SECRET_ACCESS_KEY", Reason: "admin on the repository"},
	}})
	plan := PlanComment(c, steps).Text()
	if !strings.Contains(plan, "Secret to rotate: github: AWS_SECRET_ACCESS_KEY in repository acme/payments (admin on the repository)") {
		t.Errorf("plan comment lacks the rotation task:\n%s", plan)
	}
	final := FinalComment(c, steps).Text()
	for _, want := range []string{"Offboarding complete", "## Secrets to rotate", "- github: AWS_SECRET_ACCESS_KEY in repository acme/payments"} {
		if !strings.Contains(final, want) {
			t.Errorf("final comment lacks %q:\n%s", want, final)
		}
	}
	if needs := NeedsHuman(c, steps); len(needs) != 0 {
		t.Errorf("rotation tasks held the case open: %q", needs)
	}
}

// TestFoundNowhereNeedsAPerson protects against offboarding the wrong identity quietly: a
// person no system knows is not called complete, and each system is named for a person to
// confirm.
func TestFoundNowhereNeedsAPerson(t *testing.T) {
	t.Parallel()
	c := store.Case{ID: 9, Person: jane, State: store.CasePartial, Plans: []connector.Plan{
		{System: "okta", NotFound: true, Notes: []string{"no user with login jane@acme.com"}},
		{System: "github", NotFound: true, Notes: []string{"no GitHub identity found"}},
	}}
	needs := NeedsHuman(c, nil)
	if len(needs) != 2 || !strings.Contains(needs[0], "Confirm Jane Doe has no okta account") || !strings.Contains(needs[1], "no github account") {
		t.Errorf("NeedsHuman = %q", needs)
	}
	if text := FinalComment(c, nil).Text(); !strings.Contains(text, "Offboarding NOT complete") {
		t.Errorf("a person found nowhere reads as offboarded:\n%s", text)
	}
}

package aws

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/aws/awssim"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
)

// TestOffboardingLeavesNothing protects the whole point: after the plan is applied Jane holds
// nothing in the simulator, her live sessions are dead, the user is kept and marked, and Bob
// is untouched.
func TestOffboardingLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	bobBefore := e.sim.Holdings("bob")
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	connectortest.ApplyInOrder(t.Context(), t, e.conn, p.Actions)
	if h := e.sim.Holdings(janeUser); len(h) != 0 {
		t.Errorf("jane still holds %q", h)
	}
	for id, valid := range e.sim.Sessions(janeUser) {
		if valid {
			t.Errorf("session %s is still valid", id)
		}
	}
	if !e.sim.Exists(janeUser) {
		t.Error("the user was deleted although delete_user is off")
	}
	tags := e.sim.TagsOf(janeUser)
	i := slices.IndexFunc(tags, func(tg awssim.Tag) bool { return tg.Key == OffboardedTag })
	if i < 0 {
		t.Fatalf("no %s tag: %v", OffboardedTag, tags)
	}
	mark, _ := time.Parse(time.RFC3339, tags[i].Value)
	if cut := denyCutoff(e.sim.InlinePolicy(janeUser, DenyPolicyName)); cut.Before(mark) {
		t.Errorf("deny cutoff %s is before the mark %s", cut, mark)
	}
	if got := e.sim.Holdings("bob"); !slices.Equal(got, bobBefore) {
		t.Errorf("bob's access changed: %q → %q", bobBefore, got)
	}
	again, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	if len(again.Actions) != 0 {
		t.Errorf("a plan after offboarding has %d actions", len(again.Actions))
	}
}

// TestDeleteUserRemovesEverything protects the opt-in deletion: DeleteUser succeeds only once
// everything is gone (the simulator refuses with DeleteConflict otherwise), and the virtual
// MFA device is deleted with it rather than left unassigned.
func TestDeleteUserRemovesEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{DeleteUser: true})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	connectortest.ApplyInOrder(t.Context(), t, e.conn, p.Actions)
	if e.sim.Exists(janeUser) {
		t.Fatal("the user still exists")
	}
	// Re-applying every action on the deleted user succeeds and verifies.
	for _, a := range p.Actions {
		must(t, e.conn.Apply(t.Context(), a))
		ev, err := e.conn.Verify(t.Context(), a)
		must(t, err)
		if !ev.Verified {
			t.Errorf("%s on a deleted user not verified: %s", a.Key(), ev.Observed)
		}
	}
	// The serial was freed: it can be assigned to someone else.
	if _, err := e.sim.AddMFADevice("bob", awssim.MFADevice{Serial: "arn:aws:iam::123456789012:mfa/jdoe", Virtual: true}); err != nil {
		t.Errorf("virtual MFA device was not deleted: %v", err)
	}
}

// TestDeleteUserConflictKeepsTheDeny protects the user from being left without its deny
// policy when IAM refuses the deletion: the error is retryable and the deny is put back.
func TestDeleteUserConflictKeepsTheDeny(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{DeleteUser: true})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	var rest []connector.Action
	for _, a := range p.Actions {
		if a.Kind != KindDeleteUser {
			rest = append(rest, a)
		}
	}
	connectortest.ApplyInOrder(t.Context(), t, e.conn, rest)
	must(t, e.sim.AddAccessKey(janeUser, awssim.AccessKey{ID: "AKIAJANENEWKEY000003"})) // created meanwhile
	err = e.conn.Apply(t.Context(), action(t, p, KindDeleteUser, janeUser))
	if err == nil || connector.IsPermanent(err) || !strings.Contains(err.Error(), "DeleteConflict") {
		t.Fatalf("delete with a key left: %v, want a retryable DeleteConflict", err)
	}
	if denyCutoff(e.sim.InlinePolicy(janeUser, DenyPolicyName)).IsZero() {
		t.Error("the deny policy was not put back")
	}
}

// TestApplyOfSomethingAlreadyGoneSucceeds protects idempotency against changes made by
// someone else: IAM's NoSuchEntity on a removal is success.
func TestApplyOfSomethingAlreadyGoneSucceeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	for _, a := range p.Actions {
		switch a.Kind {
		case KindRemoveGroup, KindDeleteAccessKey, KindRemoveMFADevice, KindDeleteLoginProfile, KindDeleteInlinePolicy, KindDetachPolicy:
			for range 2 {
				if err := e.conn.Apply(t.Context(), a); err != nil {
					t.Errorf("%s: %v", a.Key(), err)
				}
			}
		}
	}
}

// TestDenyOverQuotaIsPermanent protects against retrying forever when the user's inline
// policies leave no room for the deny policy: a human is asked, with what to do.
func TestDenyOverQuotaIsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{InlinePolicyQuota: 200}, Config{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	err = e.conn.Apply(t.Context(), action(t, p, KindDenySessions, janeUser))
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "2,048-character quota") {
		t.Fatalf("err = %v, want a permanent error explaining the quota", err)
	}
}

// TestAccessDeniedNamesThePermission protects the operator: a missing permission stops the
// step and says which one to grant.
func TestAccessDeniedNamesThePermission(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	e.sim.Deny("DeleteAccessKey")
	err = e.conn.Apply(t.Context(), action(t, p, KindDeleteAccessKey, janeKey2))
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "iam:DeleteAccessKey") {
		t.Fatalf("err = %v, want permanent naming iam:DeleteAccessKey", err)
	}
}

// TestThrottlingIsWaitedOutThenHandedToTheEngine protects pacing: a few Throttling answers
// are waited out inside the call; a lasting throttle becomes RetryAfter, never a failure.
func TestThrottlingIsWaitedOutThenHandedToTheEngine(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	e.sim.ThrottleAction("ListUsers", 3)
	if _, err := e.conn.Plan(t.Context(), jane); err != nil {
		t.Fatalf("plan through three throttles: %v", err)
	}
	e.sim.ThrottleAction("ListGroupsForUser", 1000)
	_, err := e.conn.Plan(t.Context(), jane)
	d, ok := connector.RetryDelay(err)
	if err == nil || !ok || d <= 0 || connector.IsPermanent(err) {
		t.Fatalf("err = %v (delay %v, %v), want RetryAfter", err, d, ok)
	}
}

// TestServerErrorsAreRetried protects against a blip failing a step: a 500 is retried.
func TestServerErrorsAreRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	e.sim.Faults.FailNext(2, 500)
	if _, err := e.conn.Plan(t.Context(), jane); err != nil {
		t.Fatalf("plan after two 500s: %v", err)
	}
}

// TestRefusedCredentialsArePermanentAndSecretFree protects the credential errors: an unknown
// key, a wrong secret and a missing session token are permanent, and no secret is echoed.
func TestRefusedCredentialsArePermanentAndSecretFree(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	bad := []*Connector{e.connector(t, wrongSecret, Config{})}
	unknown, err := New(Config{Endpoint: e.url, AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: secretKey})
	must(t, err)
	bad = append(bad, unknown)
	withToken, err := New(Config{Endpoint: e.url, AccessKeyID: accessKeyID, SecretAccessKey: secretKey, SessionToken: "tokenSECRETvalue"})
	must(t, err)
	bad = append(bad, withToken)
	for i, c := range bad {
		_, err := c.Plan(t.Context(), jane)
		if !connector.IsPermanent(err) {
			t.Errorf("connector %d: %v is not permanent", i, err)
			continue
		}
		for _, s := range []string{secretKey, wrongSecret, "tokenSECRETvalue"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("connector %d: error leaks a secret: %v", i, err)
			}
		}
	}
}

// TestCheckReportsMissingReadPermissions protects Check: good credentials pass, a missing
// read permission is named, bad credentials are permanent, and nothing is written.
func TestCheckReportsMissingReadPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	must(t, e.conn.Check(t.Context()))
	for _, c := range e.sim.Recorder.Calls() {
		if !awssim.ReadOnly(c) {
			t.Errorf("Check wrote: %s", awssim.ActionOf(c))
		}
	}
	e.sim.Deny("ListMFADevices")
	e.sim.Deny("ListServiceSpecificCredentials")
	err := e.conn.Check(t.Context())
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "iam:ListMFADevices") || !strings.Contains(err.Error(), "iam:ListServiceSpecificCredentials") {
		t.Errorf("err = %v, want permanent naming iam:ListMFADevices and iam:ListServiceSpecificCredentials", err)
	}
	if err := e.connector(t, wrongSecret, Config{}).Check(t.Context()); !connector.IsPermanent(err) {
		t.Errorf("bad credentials: %v", err)
	}
}

// TestVerifyRejectsAForeignDenyPolicy protects "green means verified": a policy that merely
// carries our name but does not deny everything is not evidence that sessions are dead.
func TestVerifyRejectsAForeignDenyPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	must(t, e.sim.PutInlinePolicy(janeUser, DenyPolicyName, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}`))
	ev, err := e.conn.Verify(t.Context(), action(t, p, KindDenySessions, janeUser))
	must(t, err)
	if ev.Verified {
		t.Errorf("verified a foreign policy: %s", ev.Observed)
	}
}

// TestDenyCoversSessionsIssuedJustBefore protects the cutoff against rounding and clock
// skew: a session issued a moment before the deny is applied is dead afterwards.
func TestDenyCoversSessionsIssuedJustBefore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	must(t, e.sim.AddSession(janeUser, awssim.Session{ID: "late", IssuedAt: time.Now().Add(30 * time.Second)}))
	must(t, e.conn.Apply(t.Context(), action(t, p, KindDenySessions, janeUser)))
	for id, valid := range e.sim.Sessions(janeUser) {
		if valid {
			t.Errorf("session %s survived the deny", id)
		}
	}
}

// TestDenyStopsAccessKeysAtOnce protects the window before the keys are deleted: the deny
// policy alone makes requests signed with the leaver's access keys fail, including a key
// created after the plan, while a colleague's key keeps working.
func TestDenyStopsAccessKeysAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	if !e.sim.KeyUsable(janeUser, janeKey1) {
		t.Fatal("the seeded key is not usable before offboarding; the test proves nothing")
	}
	must(t, e.conn.Apply(t.Context(), action(t, p, KindDenySessions, janeUser)))
	if e.sim.KeyUsable(janeUser, janeKey1) {
		t.Error("the leaver's access key still works once the deny policy is in place")
	}
	if !e.sim.KeyUsable("bob", "AKIABOB0000000000001") {
		t.Error("a colleague's key stopped working")
	}
}

// TestCredentialCreatedAfterThePlanKeepsTheCaseOpen protects against a finished-looking case
// while the leaver holds a credential the plan never saw: the final mark is not verified.
func TestCredentialCreatedAfterThePlanKeepsTheCaseOpen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	var mark connector.Action
	var rest []connector.Action
	for _, a := range p.Actions {
		if a.Kind == KindMarkOffboarded {
			mark = a
		} else {
			rest = append(rest, a)
		}
	}
	connectortest.ApplyInOrder(t.Context(), t, e.conn, rest)
	must(t, e.sim.AddAccessKey(janeUser, awssim.AccessKey{ID: "AKIAJANELATE00000003"}))
	must(t, e.conn.Apply(t.Context(), mark))
	ev, err := e.conn.Verify(t.Context(), mark)
	must(t, err)
	if ev.Verified || !strings.Contains(ev.Observed, "AKIAJANELATE00000003") {
		t.Errorf("mark verified with a key created after the plan: %s", ev.Observed)
	}
}

// TestConcurrentPlansShareOneTagScan protects the account from a bulk layoff: plans running
// together read each user's tags once, not once per leaver.
func TestConcurrentPlansShareOneTagScan(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	e.sim.Faults.SetLatency(20 * time.Millisecond)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := e.conn.Plan(context.WithoutCancel(t.Context()), jane); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	for _, c := range e.sim.Recorder.Calls() {
		if awssim.ActionOf(c) == "ListUsers" {
			n++
		}
	}
	if n >= 5 {
		t.Errorf("ListUsers called %d times for 5 concurrent plans", n)
	}
}

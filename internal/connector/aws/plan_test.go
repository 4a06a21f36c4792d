package aws

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/aws/awssim"
)

func kinds(p connector.Plan) map[string]int {
	out := map[string]int{}
	for _, a := range p.Actions {
		out[a.Kind]++
	}
	return out
}

func action(t *testing.T, p connector.Plan, kind, target string) connector.Action {
	t.Helper()
	for _, a := range p.Actions {
		if a.Kind == kind && a.Target == target {
			return a
		}
	}
	t.Fatalf("no %s action for %s in plan %v", kind, target, p.Actions)
	return connector.Action{}
}

// TestPlanListsEveryAccessInSafeOrder protects the plan's content and order: everything Jane
// holds is planned, the deny policy comes first and everything waits on it, keys are
// deactivated before deletion, and the mark comes last.
func TestPlanListsEveryAccessInSafeOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	want := map[string]int{
		KindDenySessions: 1, KindDeleteLoginProfile: 1, KindDeactivateAccessKey: 1, KindDeleteAccessKey: 2,
		KindRemoveMFADevice: 2, KindDeleteSSHKey: 1, KindDeleteSigningCert: 1, KindDeleteServiceCred: 1,
		KindRemoveGroup: 2, KindDetachPolicy: 1, KindDeleteInlinePolicy: 1, KindMarkOffboarded: 1,
	}
	if got := kinds(p); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("kinds = %v, want %v", got, want)
	}
	if p.NotFound || !strings.Contains(p.Account, "arn:aws:iam::123456789012:user/staff/jdoe") || !strings.Contains(p.Account, "tag email=") {
		t.Errorf("account = %q (not found %v)", p.Account, p.NotFound)
	}
	if p.Actions[0].Kind != KindDenySessions || len(p.Actions[0].After) != 0 {
		t.Errorf("first action = %s after %v, want deny_sessions with no dependency", p.Actions[0].Kind, p.Actions[0].After)
	}
	for _, a := range p.Actions[1:] {
		if !slices.Contains(a.After, KindDenySessions) {
			t.Errorf("%s does not wait for the deny policy", a.Key())
		}
	}
	if del := action(t, p, KindDeleteAccessKey, janeKey1); !slices.Contains(del.After, KindDeactivateAccessKey) {
		t.Errorf("deleting a key does not wait for deactivation: %v", del.After)
	}
	if mark := action(t, p, KindMarkOffboarded, janeUser); len(mark.After) != len(removalKinds)+1 {
		t.Errorf("mark waits on %v, want every other kind", mark.After)
	}
	if v := action(t, p, KindRemoveMFADevice, "arn:aws:iam::123456789012:mfa/jdoe"); v.Param("virtual") != "true" {
		t.Errorf("virtual device not flagged: %v", v.Params)
	}
	if k := action(t, p, KindDeactivateAccessKey, janeKey1); !strings.Contains(k.Before, `"last_used_service":"s3"`) {
		t.Errorf("key evidence lacks its last use: %s", k.Before)
	}
	if len(p.Kept) != 1 || p.Kept[0].Target != "arn:aws:iam::123456789012:user/staff/jdoe" {
		t.Errorf("kept = %+v, want the user itself", p.Kept)
	}
}

// TestPlanMatching protects how a person is matched to a user: the handle always wins (name
// or ARN), then the email tag, then the user-name rule; anything doubtful is a finding for a
// human, never a guess.
func TestPlanMatching(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		cfg      Config
		seed     func(*awssim.Server) error
		person   connector.Person
		account  string // user expected, "" for not found
		manual   bool
		noteHint string
	}{
		{name: "handle wins over the tag", person: withHandle(jane, "bob"), account: "user/bob"},
		{name: "handle as an ARN", person: withHandle(jane, "arn:aws:iam::123456789012:user/staff/jdoe"), account: "user/staff/jdoe"},
		{name: "unknown handle is not found, with no fallback", person: withHandle(jane, "ghost"), noteHint: `no IAM user named "ghost"`},
		{name: "tag matches case-insensitively", person: connector.Person{Email: "Jane.Doe@ACME.example"}, account: "user/staff/jdoe"},
		{name: "two users with the tag are ambiguous", seed: func(s *awssim.Server) error {
			return s.AddUser(awssim.User{Name: "jane-admin", Tags: []awssim.Tag{{Key: "email", Value: janeEmail}}})
		}, person: jane, manual: true, noteHint: "ambiguous"},
		{name: "email rule when no tag matches", cfg: Config{UserName: "email"}, seed: func(s *awssim.Server) error {
			return s.AddUser(awssim.User{Name: "sam@acme.example"})
		}, person: connector.Person{Email: "Sam@acme.example"}, account: "user/sam@acme.example"},
		{name: "email_local rule", cfg: Config{UserName: "email_local"}, seed: func(s *awssim.Server) error {
			return s.AddUser(awssim.User{Name: "sam"})
		}, person: connector.Person{Email: "sam@acme.example"}, account: "user/sam"},
		{name: "handle rule without a handle", cfg: Config{UserName: "handle"}, person: connector.Person{Email: "sam@acme.example"}, noteHint: "no aws handle"},
		{name: "name match tagged for someone else is left alone", cfg: Config{UserName: "email_local"}, seed: func(s *awssim.Server) error {
			return s.AddUser(awssim.User{Name: "sam", Tags: []awssim.Tag{{Key: "email", Value: "samantha@acme.example"}}})
		}, person: connector.Person{Email: "sam@acme.example"}, manual: true, noteHint: "not \"sam@acme.example\""},
		{name: "invalid derived name is not looked up", cfg: Config{UserName: "email_local"}, person: connector.Person{Email: "o'brien@acme.example"}, noteHint: "not a valid IAM user name"},
		{name: "offboard's own user is never planned", person: withHandle(jane, awssim.DefaultCallerName), manual: true, noteHint: "identity offboard itself uses"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, awssim.Options{}, tc.cfg)
			if tc.seed != nil {
				must(t, tc.seed(e.sim))
			}
			p, err := e.conn.Plan(t.Context(), tc.person)
			must(t, err)
			if tc.account != "" {
				if p.NotFound || !strings.Contains(p.Account, tc.account) {
					t.Fatalf("account = %q (not found %v, notes %q), want %s", p.Account, p.NotFound, p.Notes, tc.account)
				}
				return
			}
			if !p.NotFound || len(p.Actions) > 0 {
				t.Fatalf("want a not-found finding with no action, got not found %v and %d actions", p.NotFound, len(p.Actions))
			}
			if !strings.Contains(strings.Join(p.Notes, " "), tc.noteHint) {
				t.Errorf("notes %q do not mention %q", p.Notes, tc.noteHint)
			}
			if tc.manual != (len(p.Manual) > 0) {
				t.Errorf("manual = %+v, want some: %v", p.Manual, tc.manual)
			}
		})
	}
}

func withHandle(p connector.Person, h string) connector.Person {
	p.Handles = map[string]string{System: h}
	return p
}

// TestPlanPagesThroughEveryList protects paging: with IAM returning one item per page, the tag
// scan reaches every user and every list is read to its end.
func TestPlanPagesThroughEveryList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{PageLimit: 1}, Config{})
	for i := range 5 {
		must(t, e.sim.AddUser(awssim.User{Name: fmt.Sprintf("aaa-filler-%d", i)}))
		must(t, e.sim.AddGroup(fmt.Sprintf("Team%d", i), ""))
		must(t, e.sim.AddToGroup(janeUser, fmt.Sprintf("Team%d", i)))
	}
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	if n := kinds(p)[KindRemoveGroup]; n != 7 {
		t.Errorf("%d group removals planned, want 7", n)
	}
	if n := kinds(p)[KindDeleteAccessKey]; n != 2 {
		t.Errorf("%d key deletions planned, want 2", n)
	}
	calls := 0
	for _, c := range e.sim.Recorder.Calls() {
		if awssim.ActionOf(c) == "ListUsers" {
			calls++
		}
	}
	if calls < 8 { // caller, jdoe, bob and five fillers, one per page
		t.Errorf("ListUsers called %d times, want one per user", calls)
	}
}

// TestPlanWithDeleteUser protects the opt-in deletion: the user is deleted last, after every
// other kind, and is no longer kept.
func TestPlanWithDeleteUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{DeleteUser: true})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	del := action(t, p, KindDeleteUser, janeUser)
	if p.Actions[len(p.Actions)-1].Kind != KindDeleteUser || len(del.After) != len(removalKinds)+1 {
		t.Errorf("delete_user is not last or does not wait on every kind: %v", del.After)
	}
	if kinds(p)[KindMarkOffboarded] != 0 || len(p.Kept) != 0 {
		t.Errorf("a deleted user is neither marked nor kept: %v, %+v", kinds(p), p.Kept)
	}
}

// TestNewRejectsBadConfig protects startup: a wrong rule or half-configured keys fail at once.
func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{UserName: "first.last"}); err == nil {
		t.Error("unknown user_name rule accepted")
	}
	_, err := New(Config{AccessKeyID: accessKeyID})
	if err == nil || strings.Contains(err.Error(), secretKey) {
		t.Errorf("access key without secret: %v", err)
	}
	c, err := New(Config{Name: "aws-prod", AccessKeyID: accessKeyID, SecretAccessKey: secretKey})
	must(t, err)
	if c.System() != "aws-prod" {
		t.Errorf("System() = %q", c.System())
	}
}

// TestEndpointWithAPathWorks protects a mounted endpoint given without its trailing slash
// (http://host/aws), as an operator would write it for a proxy or `offboard sim`.
func TestEndpointWithAPathWorks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awssim.Options{}, Config{})
	c, err := New(Config{Endpoint: strings.TrimSuffix(e.url, "/"), AccessKeyID: accessKeyID, SecretAccessKey: secretKey, MatchTag: "email"})
	must(t, err)
	p, err := c.Plan(t.Context(), jane)
	must(t, err)
	if p.NotFound || len(p.Actions) == 0 {
		t.Errorf("plan through %s: not found %v, %d actions", strings.TrimSuffix(e.url, "/"), p.NotFound, len(p.Actions))
	}
}

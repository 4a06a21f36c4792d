package jenkins

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/jenkins/jenkinssim"
)

func keys(p connector.Plan) []string {
	var out []string
	for _, a := range p.Actions {
		out = append(out, a.Kind+":"+a.Target)
	}
	return out
}

func joined(p connector.Plan) string {
	var parts []string
	parts = append(parts, p.Notes...)
	for _, m := range p.Manual {
		parts = append(parts, m.Detail)
	}
	return strings.Join(parts, " | ")
}

// TestPlanDisableRevokesTokensAndSaysWhatCoreCannotDo protects the default mode's honesty:
// tokens are revoked and verified, the account is kept with a reason, and blocking sign-in
// and ending sessions are handed to a person rather than faked.
func TestPlanDisableRevokesTokensAndSaysWhatCoreCannotDo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jenkinssim.Options{PeopleAPI: true}, "")
	p, err := e.conn.Plan(context.Background(), dana)
	must(t, err)
	if want := []string{"revoke_token:aaaa-1111", "revoke_token:bbbb-2222"}; !slices.Equal(keys(p), want) {
		t.Fatalf("actions %v, want %v", keys(p), want)
	}
	if !strings.Contains(p.Account, "dscully") || !strings.Contains(p.Account, "mail property") {
		t.Errorf("Account %q should name the user and that the mail property matched", p.Account)
	}
	text := joined(p)
	for _, want := range []string{"no way to disable", "Invalidate session"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan should say %q; notes and manual: %s", want, text)
		}
	}
	if len(p.Kept) != 1 || p.Kept[0].Target != "dscully" {
		t.Errorf("the account should be kept with a reason: %+v", p.Kept)
	}
	connectortest.ApplyInOrder(t.Context(), t, e.conn, p.Actions)
	got := e.sim.Holdings("dscully")
	if len(got) != 1 || !strings.Contains(got[0], "account dscully") {
		t.Errorf("after disable mode dscully should hold only the account, holds %v", got)
	}
}

// TestPlanDeleteRemovesTheUserAfterTheTokens protects mode delete: deletion waits for the
// token revocations, and afterwards nothing is left while the bystander keeps everything.
func TestPlanDeleteRemovesTheUserAfterTheTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jenkinssim.Options{PeopleAPI: true}, ModeDelete)
	p, err := e.conn.Plan(context.Background(), dana)
	must(t, err)
	if want := []string{"revoke_token:aaaa-1111", "revoke_token:bbbb-2222", "delete_user:dscully"}; !slices.Equal(keys(p), want) {
		t.Fatalf("actions %v, want %v", keys(p), want)
	}
	if del := p.Actions[2]; !slices.Equal(del.After, []string{KindRevokeToken}) {
		t.Errorf("delete_user After %v", del.After)
	}
	connectortest.ApplyInOrder(t.Context(), t, e.conn, p.Actions)
	if got := e.sim.Holdings("dana@acme.example"); len(got) != 0 {
		t.Errorf("after deletion dana holds %v", got)
	}
	if got := e.sim.Holdings("fmulder"); len(got) != 2 {
		t.Errorf("bystander holds %v, want account and token", got)
	}
	for _, a := range p.Actions {
		must(t, e.conn.Apply(context.Background(), a)) // idempotent once gone
	}
}

// TestFindUser covers how people are matched: handle, handle falling back to email, local
// part with and without a conflicting mail address, ambiguity and absence; and, on a current
// Jenkins without the people list, the local part with a note that the mail search was
// skipped instead of a failing plan.
func TestFindUser(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		seed     []jenkinssim.User
		person   connector.Person
		account  string
		notFound bool
		manual   bool
		note     string
		// current is a Jenkins 2.452 or later, without the people list (JENKINS-18884).
		current bool
	}{
		{name: "handle", person: connector.Person{Handles: map[string]string{"jenkins": "DSCULLY"}}, account: "jenkins handle"},
		{name: "unknown handle falls back to email", person: connector.Person{Email: "dana@acme.example", Handles: map[string]string{"jenkins": "dana.s"}}, account: "mail property"},
		{name: "local part when the user has no mail address", seed: []jenkinssim.User{{ID: "walter"}},
			person: connector.Person{Email: "walter@acme.example"}, account: "local part", note: "only by the local part"},
		{name: "local part naming someone else", seed: []jenkinssim.User{{ID: "alex", Email: "alex@other.example"}},
			person: connector.Person{Email: "alex@acme.example"}, notFound: true, manual: true, note: "not taken"},
		{name: "two users share the address", seed: []jenkinssim.User{{ID: "dana2", Email: "DANA@acme.example"}},
			person: dana, notFound: true, manual: true, note: "ambiguous"},
		{name: "nobody", person: connector.Person{Email: "ghost@acme.example"}, notFound: true, note: "not found"},
		{name: "no people list: local part confirmed by the mail address", current: true, seed: []jenkinssim.User{{ID: "walter", Email: "walter@acme.example"}},
			person: connector.Person{Email: "walter@acme.example"}, account: "confirmed by the user's mail address", note: "people list (/asynchPeople/api/json) is unavailable"},
		{name: "no people list: local part without a mail address", current: true, seed: []jenkinssim.User{{ID: "walter"}},
			person: connector.Person{Email: "walter@acme.example"}, account: "local part", note: "only by the local part"},
		{name: "no people list: unknown handle falls back to the local part", current: true, seed: []jenkinssim.User{{ID: "walter"}},
			person: connector.Person{Email: "walter@acme.example", Handles: map[string]string{"jenkins": "wskinner"}}, account: "local part", note: "people list (/asynchPeople/api/json) is unavailable"},
		{name: "no people list: nobody", current: true, person: dana, notFound: true, note: "people list (/asynchPeople/api/json) is unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, jenkinssim.Options{PeopleAPI: !tc.current}, "")
			for _, u := range tc.seed {
				must(t, e.sim.AddUser(u))
			}
			p, err := e.conn.Plan(context.Background(), tc.person)
			must(t, err)
			if p.NotFound != tc.notFound {
				t.Errorf("NotFound %v, want %v (%s)", p.NotFound, tc.notFound, joined(p))
			}
			if tc.notFound && (len(p.Actions) != 0 || len(p.Notes) == 0) {
				t.Errorf("a finding must plan nothing and explain itself: %v %q", keys(p), p.Notes)
			}
			if got := len(p.Manual) > 0; tc.notFound && got != tc.manual {
				t.Errorf("manual %+v, want some: %v", p.Manual, tc.manual)
			}
			if !strings.Contains(p.Account, tc.account) || !strings.Contains(joined(p), tc.note) {
				t.Errorf("Account %q (want %q), notes %s (want %q)", p.Account, tc.account, joined(p), tc.note)
			}
		})
	}
}

// TestCrumbOnlyWhenAsked protects CSRF handling both ways: a modern Jenkins is never asked for
// a crumb, and one that demands it gets one crumb, with its session cookie, reused. Applied
// concurrently, as the engine does, the POSTs sent before the crumb is known are each refused
// once, but they fetch one crumb between them.
func TestCrumbOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	for _, need := range []bool{false, true} {
		e := newEnv(t, jenkinssim.Options{CrumbForTokens: need, PeopleAPI: true}, ModeDelete)
		p, err := e.conn.Plan(context.Background(), dana)
		must(t, err)
		first := 0 // actions that start at once, before any crumb is known
		for _, a := range p.Actions {
			if len(a.After) == 0 {
				first++
			}
		}
		connectortest.ApplyInOrder(t.Context(), t, e.conn, p.Actions)
		crumbs := e.sim.Recorder.Count(http.MethodGet, "/crumbIssuer/api/json", "")
		refused := 0
		for _, c := range e.sim.Recorder.Calls() {
			if c.Method == http.MethodPost && c.Status == http.StatusForbidden {
				refused++
			}
		}
		switch {
		case !need && (crumbs != 0 || refused != 0):
			t.Errorf("no crumb needed, yet %d crumb reads and %d refusals", crumbs, refused)
		case need && (crumbs != 1 || refused < 1 || refused > first):
			t.Errorf("crumb needed: %d crumb reads and %d refused POSTs, want 1 crumb and 1 to %d refusals", crumbs, refused, first)
		}
	}
}

// TestRefusalsArePermanentAndExplained protects the operator: a token without Overall/
// Administer, or the leaver's own token, stops the step with what to do.
func TestRefusalsArePermanentAndExplained(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jenkinssim.Options{PeopleAPI: true}, ModeDelete)
	ctx := context.Background()
	p, err := e.conn.Plan(ctx, dana)
	must(t, err)
	weak, err := New(Config{BaseURL: e.url, Username: "dscully", APIToken: "dana-token-1", Mode: ModeDelete})
	must(t, err)
	err = weak.Apply(ctx, p.Actions[0])
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "Overall/Administer") {
		t.Errorf("revoking without Overall/Administer: %v", err)
	}
	must(t, e.sim.AddUser(jenkinssim.User{ID: "boss", Admin: true, Tokens: []jenkinssim.Token{{Name: "t", Value: "boss-token-xyz"}}}))
	self, err := New(Config{BaseURL: e.url, Username: "boss", APIToken: "boss-token-xyz", Mode: ModeDelete})
	must(t, err)
	bp, err := self.Plan(ctx, connector.Person{Handles: map[string]string{"jenkins": "boss"}})
	must(t, err)
	del := bp.Actions[len(bp.Actions)-1]
	if err := self.Apply(ctx, del); !connector.IsPermanent(err) || !strings.Contains(err.Error(), "delete themselves") {
		t.Errorf("deleting oneself: %v", err)
	}
	if err := e.conn.Apply(ctx, connector.Action{System: System, Kind: "nope", Target: "x", Params: map[string]string{"user_id": "x"}}); !connector.IsPermanent(err) {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestCheck protects the operator's first contact, against an older Jenkins with the people
// list and a current one whose people list answers 404 (which must not fail the check).
func TestCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jenkinssim.Options{LegacyConfigurePage: true, PeopleAPI: true}, "")
	must(t, e.conn.Check(context.Background()))
	current := newEnv(t, jenkinssim.Options{}, "")
	if err := current.conn.Check(context.Background()); err != nil {
		t.Errorf("Check on a Jenkins without the people list: %v", err)
	}
	if err := current.connector(t, wrongToken, "").Check(context.Background()); !connector.IsPermanent(err) {
		t.Errorf("Check with a wrong token on a Jenkins without the people list: %v, want permanent", err)
	}
	if err := e.connector(t, wrongToken, "").Check(context.Background()); !connector.IsPermanent(err) {
		t.Errorf("Check with a wrong token: %v, want permanent", err)
	}
	if _, err := New(Config{BaseURL: "ftp://x", Mode: "suspend"}); err == nil ||
		!strings.Contains(err.Error(), "username is required") || !strings.Contains(err.Error(), `mode "suspend"`) || !strings.Contains(err.Error(), "http(s)") {
		t.Errorf("New with bad config: %v, want every problem listed", err)
	}
}

package github

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/github/githubsim"
)

func kinds(pl connector.Plan) []string {
	var out []string
	for _, a := range pl.Actions {
		out = append(out, a.Kind+":"+a.Target)
	}
	return out
}

// TestPlanFindsLeaverThroughSAML protects the main path: a leaver known only by email is
// found through the organization's SAML identities, every credential authorization and the
// email invitation are planned, membership removal waits for the credentials, and the Actions
// secrets of the repositories she administers are listed for rotation.
func TestPlanFindsLeaverThroughSAML(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubsim.Options{SAML: true})
	pl, err := e.conn.Plan(t.Context(), dana)
	must(t, err)
	want := []string{
		fmt.Sprintf("%s:%d", KindRevokeCredential, e.ids["pat"]),
		fmt.Sprintf("%s:%d", KindRevokeCredential, e.ids["ssh"]),
		fmt.Sprintf("%s:%d", KindCancelInvitation, e.ids["invite"]),
		KindRemoveMember + ":dscully",
	}
	if got := kinds(pl); !slices.Equal(got, want) {
		t.Fatalf("actions = %v, want %v", got, want)
	}
	for _, a := range pl.Actions {
		if a.Kind == KindRemoveMember && !slices.Contains(a.After, KindRevokeCredential) {
			t.Errorf("remove_member does not wait for credential revocation: %v", a.After)
		}
		if strings.Contains(a.Detail, secretToken) || strings.Contains(a.Before, secretToken) {
			t.Errorf("secret in action %s", a.Key())
		}
	}
	var rot []string
	for _, r := range pl.Rotate {
		rot = append(rot, r.Location+" "+r.Name)
	}
	wantRot := []string{"repository acme/payments AWS_SECRET_ACCESS_KEY", "repository acme/payments STRIPE_KEY"}
	if !slices.Equal(rot, wantRot) {
		t.Errorf("rotate = %v, want %v (write access to website and the org secrets are not hers to read)", rot, wantRot)
	}
	if !strings.Contains(pl.Account, "dscully") {
		t.Errorf("account = %q", pl.Account)
	}
	connectortest.ApplyInOrder(t.Context(), t, e.conn, pl.Actions)
	if h := e.sim.Holdings("dscully"); len(h) > 0 {
		t.Errorf("dscully still holds %v", h)
	}
	if h := e.sim.Holdings(dana.Email); len(h) > 0 {
		t.Errorf("dana's email still holds %v", h)
	}
	if h := e.sim.Holdings("fmulder"); len(h) != 2 {
		t.Errorf("bystander fmulder lost access: %v", h)
	}
}

// TestPlanCases covers the findings that are not plain removals.
func TestPlanCases(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		opts     githubsim.Options
		seed     func(t *testing.T, s *githubsim.Server)
		person   connector.Person
		notFound bool
		actions  []string
		note     string
		manual   string
		kept     bool
		rotate   []string
	}{
		{name: "handle that no account has", opts: githubsim.Options{SAML: true},
			person: connector.Person{Handles: map[string]string{"github": "ghost-user"}}, notFound: true, note: "no GitHub account with the login"},
		{name: "unknown email", opts: githubsim.Options{SAML: true},
			person: connector.Person{Email: "nobody@acme.example"}, notFound: true, note: "no GitHub identity found"},
		{name: "outside collaborator by handle", opts: githubsim.Options{SAML: true},
			person:  connector.Person{Handles: map[string]string{"github": "contractor-cj"}},
			actions: []string{KindRemoveOutsideCollaborator + ":contractor-cj"}},
		{name: "ambiguous SAML identity", opts: githubsim.Options{SAML: true},
			seed: func(t *testing.T, s *githubsim.Server) {
				must(t, s.AddIdentity(githubsim.Identity{Login: "fmulder", NameID: "x@acme.example", Emails: []string{"Dana@acme.example"}}))
			},
			person: dana, notFound: true, note: "ambiguous", manual: "dscully, fmulder"},
		{name: "organization without SAML, email only", opts: githubsim.Options{},
			person: dana, note: "does not use SAML single sign-on",
			actions: []string{KindCancelInvitation + ":"}},
		{name: "organization without SAML, handle", opts: githubsim.Options{},
			person: connector.Person{Handles: map[string]string{"github": "dscully"}}, note: "credential authorizations answer 404",
			actions: []string{KindRemoveMember + ":dscully"}},
		{name: "last owner is kept", opts: githubsim.Options{SAML: true},
			person: connector.Person{Handles: map[string]string{"github": "skinner"}}, kept: true, manual: "only owner",
			rotate: []string{"repository acme/infra TF_TOKEN", "repository acme/payments AWS_SECRET_ACCESS_KEY", "repository acme/payments STRIPE_KEY", "organization acme NPM_TOKEN"}},
		{name: "one of two owners is removed", opts: githubsim.Options{SAML: true},
			seed:    func(t *testing.T, s *githubsim.Server) { must(t, s.AddMember("fmulder", githubsim.RoleOwner)) },
			person:  connector.Person{Handles: map[string]string{"github": "skinner"}},
			actions: []string{KindRemoveMember + ":skinner"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.opts)
			if tc.seed != nil {
				tc.seed(t, e.sim)
			}
			pl, err := e.conn.Plan(t.Context(), tc.person)
			must(t, err)
			if pl.NotFound != tc.notFound {
				t.Errorf("NotFound = %v, want %v (notes %q)", pl.NotFound, tc.notFound, pl.Notes)
			}
			got := kinds(pl)
			if len(got) != len(tc.actions) {
				t.Fatalf("actions = %v, want %v", got, tc.actions)
			}
			for i, w := range tc.actions {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("action %d = %s, want %s", i, got[i], w)
				}
			}
			if tc.note != "" && !slices.ContainsFunc(pl.Notes, func(n string) bool { return strings.Contains(n, tc.note) }) {
				t.Errorf("no note containing %q: %q", tc.note, pl.Notes)
			}
			if tc.manual != "" && !slices.ContainsFunc(pl.Manual, func(m connector.Manual) bool { return strings.Contains(m.Detail, tc.manual) }) {
				t.Errorf("no manual item containing %q: %v", tc.manual, pl.Manual)
			}
			if tc.kept != (len(pl.Kept) > 0) {
				t.Errorf("kept = %v", pl.Kept)
			}
			if tc.rotate != nil {
				var rot []string
				for _, r := range pl.Rotate {
					rot = append(rot, r.Location+" "+r.Name)
				}
				if !slices.Equal(rot, tc.rotate) {
					t.Errorf("rotate = %v, want %v", rot, tc.rotate)
				}
			}
			connectortest.ApplyInOrder(t.Context(), t, e.conn, pl.Actions)
		})
	}
}

// TestApplyEdgeCases protects idempotency and the documented refusals.
func TestApplyEdgeCases(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubsim.Options{SAML: true})
	ctx := t.Context()
	act := func(kind, target string, params map[string]string) connector.Action {
		return connector.Action{System: System, Kind: kind, Target: target, Params: params}
	}
	// Removing a member as an outside collaborator is GitHub's 422: permanent, explained.
	err := e.conn.Apply(ctx, act(KindRemoveOutsideCollaborator, "fmulder", map[string]string{"org": "acme"}))
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "now a member") {
		t.Errorf("422 for a member: %v", err)
	}
	// The last owner cannot be removed: permanent, naming the reason.
	err = e.conn.Apply(ctx, act(KindRemoveMember, "skinner", map[string]string{"org": "acme", "role": "admin"}))
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "last owner") {
		t.Errorf("last owner: %v", err)
	}
	// Already gone is success.
	for _, a := range []connector.Action{
		act(KindRevokeCredential, "999999", map[string]string{"org": "acme", "login": "dscully"}),
		act(KindCancelInvitation, "999999", map[string]string{"org": "acme"}),
		act(KindRemoveMember, "nobody-here", map[string]string{"org": "acme"}),
	} {
		if err := e.conn.Apply(ctx, a); err != nil {
			t.Errorf("%s: %v", a.Key(), err)
		}
	}
	// Actions for another organization or of unknown kinds are refused.
	if err := e.conn.Apply(ctx, act(KindRemoveMember, "dscully", map[string]string{"org": "other"})); !connector.IsPermanent(err) {
		t.Errorf("other org: %v", err)
	}
	if err := e.conn.Apply(ctx, act("delete_everything", "dscully", nil)); !connector.IsPermanent(err) {
		t.Errorf("unknown kind: %v", err)
	}
	// Removing the member before the credentials hides them from the list but leaves them
	// stored: this is why remove_member waits on revoke_credential_authorization.
	must(t, e.conn.Apply(ctx, act(KindRemoveMember, "dscully", map[string]string{"org": "acme"})))
	if h := e.sim.Holdings("dscully"); len(h) != 2 {
		t.Errorf("after removing membership first, holdings = %v; want the two credential authorizations left", h)
	}
}

// TestPaging protects reading every page: identities, invitations and repositories spread
// over several pages are all seen.
func TestPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubsim.Options{SAML: true})
	for i := range 230 {
		login := fmt.Sprintf("user%03d", i)
		must(t, e.sim.AddUser(githubsim.User{Login: login}))
		must(t, e.sim.AddIdentity(githubsim.Identity{Login: login, NameID: login + "@acme.example"}))
		_, err := e.sim.AddInvitation(githubsim.Invitation{Email: login + "@elsewhere.example"})
		must(t, err)
		must(t, e.sim.AddRepo(githubsim.Repo{Name: "repo" + login}))
	}
	must(t, e.sim.AddUser(githubsim.User{Login: "late"}))
	must(t, e.sim.AddMember("late", githubsim.RoleMember))
	must(t, e.sim.AddIdentity(githubsim.Identity{Login: "late", NameID: "late@acme.example"}))
	must(t, e.sim.AddRepo(githubsim.Repo{Name: "zz-last", Secrets: []string{"DEPLOY"}}))
	must(t, e.sim.AddCollaborator("zz-last", "late", githubsim.PermAdmin))
	inv, err := e.sim.AddInvitation(githubsim.Invitation{Email: "late@acme.example"})
	must(t, err)
	pl, err := e.conn.Plan(t.Context(), connector.Person{Email: "LATE@acme.example"})
	must(t, err)
	want := []string{fmt.Sprintf("%s:%d", KindCancelInvitation, inv), KindRemoveMember + ":late"}
	if got := kinds(pl); !slices.Equal(got, want) {
		t.Fatalf("actions = %v, want %v", got, want)
	}
	if len(pl.Rotate) != 1 || pl.Rotate[0].Name != "DEPLOY" {
		t.Errorf("rotate = %v", pl.Rotate)
	}
	if n := e.sim.Recorder.Count(http.MethodGet, "/orgs/acme/invitations", ""); n < 3 {
		t.Errorf("read %d invitation pages, want 3", n)
	}
	if n := e.sim.Recorder.Count(http.MethodPost, "/graphql", ""); n < 3 {
		t.Errorf("read %d SAML identity pages, want 3", n)
	}
}

// TestEnterpriseServerPaths protects GHES support: REST under /api/v3 and GraphQL at
// /api/graphql, derived from the base URL.
func TestEnterpriseServerPaths(t *testing.T) {
	t.Parallel()
	if got := GraphQLURLFor("https://ghe.acme.example/api/v3/"); got != "https://ghe.acme.example/api/graphql" {
		t.Errorf("GHES GraphQL URL = %s", got)
	}
	if got := GraphQLURLFor(DefaultBaseURL); got != "https://api.github.com/graphql" {
		t.Errorf("github.com GraphQL URL = %s", got)
	}
	s := githubsim.New(githubsim.Options{Token: secretToken, SAML: true})
	e := &env{sim: s, ids: map[string]int64{}}
	e.seed(t)
	mux := http.NewServeMux()
	mux.Handle("/api/v3/", http.StripPrefix("/api/v3", s))
	mux.Handle("/api/graphql", s) // the simulator serves GraphQL at /api/graphql too
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	c, err := New(Config{BaseURL: ts.URL + "/api/v3", Org: "acme", Token: secretToken})
	must(t, err)
	pl, err := c.Plan(t.Context(), dana)
	must(t, err)
	if len(pl.Actions) != 4 {
		t.Fatalf("GHES plan: %v (notes %q)", kinds(pl), pl.Notes)
	}
	connectortest.ApplyInOrder(t.Context(), t, c, pl.Actions)
	if h := s.Holdings("dscully"); len(h) > 0 {
		t.Errorf("left: %v", h)
	}
	if s.Recorder.Count(http.MethodPost, "/api/graphql", "") == 0 {
		t.Error("GraphQL was not sent to /api/graphql")
	}
}

// TestThrottledShapes protects recognising GitHub's throttles that are not a plain 429.
func TestThrottledShapes(t *testing.T) {
	t.Parallel()
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	cases := []struct {
		name   string
		status int
		h      http.Header
		body   string
		want   bool
	}{
		{"secondary with retry-after", 403, h("Retry-After", "30"), `{"message":"x"}`, true},
		{"primary exhausted", 403, h("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1700000000"), `{}`, true},
		{"secondary by message only", 403, h(), `{"message":"You have exceeded a secondary rate limit."}`, true},
		{"permission refusal", 403, h("X-RateLimit-Remaining", "4999"), `{"message":"Must have admin rights to Repository."}`, false},
		{"not found", 404, h("Retry-After", "1"), `{}`, false},
	}
	for _, tc := range cases {
		if got := Throttled(tc.status, tc.h, []byte(tc.body)); got != tc.want {
			t.Errorf("%s: Throttled = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestGraphQLErrorsArePermanent protects against reading a GraphQL error as "no identity".
func TestGraphQLErrorsArePermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubsim.Options{SAML: true})
	c, err := New(Config{BaseURL: e.url, Org: "no-such-org", Token: secretToken})
	must(t, err)
	_, err = c.Plan(context.Background(), dana)
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Errorf("GraphQL NOT_FOUND: %v", err)
	}
}

// TestCheck protects the credential check's verdicts.
func TestCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubsim.Options{SAML: true})
	must(t, e.conn.Check(t.Context()))
	if err := e.connector(t, wrongToken).Check(t.Context()); !connector.IsPermanent(err) || !strings.Contains(err.Error(), "Bad credentials") {
		t.Errorf("bad token: %v", err)
	}
	c, err := New(Config{BaseURL: e.url, Org: "other", Token: secretToken})
	must(t, err)
	if err := c.Check(t.Context()); !connector.IsPermanent(err) {
		t.Errorf("unknown org: %v", err)
	}
}

// TestInvitationAcceptedAfterThePlanIsNotGreen protects against a step that looks done while
// the leaver is a member: an invitation accepted before it was cancelled is no longer pending,
// but its verification must say the invitee joined.
func TestInvitationAcceptedAfterThePlanIsNotGreen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubsim.Options{})
	must(t, e.sim.AddUser(githubsim.User{Login: "newbie", Email: "newbie@acme.example"}))
	id, err := e.sim.AddInvitation(githubsim.Invitation{Login: "newbie"})
	must(t, err)
	pl, err := e.conn.Plan(t.Context(), connector.Person{Handles: map[string]string{"github": "newbie"}})
	must(t, err)
	var cancel connector.Action
	for _, a := range pl.Actions {
		if a.Kind == KindCancelInvitation && a.Target == strconv.FormatInt(id, 10) {
			cancel = a
		}
	}
	if cancel.Kind == "" {
		t.Fatalf("the invitation is not planned for cancelling: %+v", pl.Actions)
	}
	must(t, e.sim.AcceptInvitation(id))
	must(t, e.conn.Apply(t.Context(), cancel))
	ev, err := e.conn.Verify(t.Context(), cancel)
	must(t, err)
	if ev.Verified || !strings.Contains(ev.Observed, "accepted") {
		t.Errorf("an accepted invitation verified as cancelled: %s", ev.Observed)
	}
}

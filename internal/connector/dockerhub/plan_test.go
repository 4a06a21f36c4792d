package dockerhub

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
	"github.com/offboard-dev/offboard/internal/connector/dockerhub/dockerhubsim"
)

func kinds(p connector.Plan) []string {
	var out []string
	for _, a := range p.Actions {
		out = append(out, a.Kind+":"+a.Target)
	}
	return out
}

// TestPlanFindsMembershipAndInvites protects the plan's core: the member found by handle is
// removed after their pending invite is cancelled, and teams are explained, not listed as work.
func TestPlanFindsMembershipAndInvites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dockerhubsim.Options{})
	p, err := e.conn.Plan(context.Background(), dana)
	must(t, err)
	want := []string{"cancel_invite:inv-dana-1", "remove_member:dscully"}
	if got := kinds(p); !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	rm := p.Actions[1]
	if !slices.Equal(rm.After, []string{KindCancelInvite}) {
		t.Errorf("remove_member After = %v, want [cancel_invite]", rm.After)
	}
	if !strings.Contains(p.Account, "dscully") || !strings.Contains(p.Account, "Docker ID") {
		t.Errorf("Account %q should name the member and how they matched", p.Account)
	}
	if !strings.Contains(rm.Before, "developers") || !strings.Contains(strings.Join(p.Notes, " "), "Team memberships go with") {
		t.Errorf("the plan should record the teams and say they go with the membership; before %q notes %q", rm.Before, p.Notes)
	}
	if len(p.Kept) != 1 || p.Kept[0].Target != "dscully" {
		t.Errorf("the personal Docker ID should be kept with a reason: %+v", p.Kept)
	}
	connectortest.ApplyInOrder(t.Context(), t, e.conn, p.Actions)
	if h := e.sim.Holdings("dscully"); len(h) != 0 {
		t.Errorf("after offboarding dscully still holds %v", h)
	}
	if h := e.sim.Holdings("fmulder"); len(h) == 0 {
		t.Error("the bystander fmulder lost their access")
	}
}

// TestPlanEdgeCases covers how people are matched: by email, across pages, only through an
// invite, ambiguously, or not at all.
func TestPlanEdgeCases(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		seed     func(t *testing.T, s *dockerhubsim.Server)
		person   connector.Person
		want     []string
		notFound bool
		manual   bool
		account  string
	}{
		{name: "by email when no handle is given", person: connector.Person{Email: "DANA@acme.example"},
			want: []string{"cancel_invite:inv-dana-1", "remove_member:dscully"}, account: "matched by email"},
		{name: "handle found on a later page", seed: func(t *testing.T, s *dockerhubsim.Server) {
			for i := range 5 {
				must(t, s.AddMember(dockerhubsim.Member{Username: fmt.Sprintf("dscully%d", i), Email: fmt.Sprintf("d%d@x.example", i)}))
			}
		}, person: connector.Person{Handles: map[string]string{"dockerhub": "DSCULLY"}},
			want: []string{"cancel_invite:inv-dana-1", "remove_member:dscully"}, account: "dscully"},
		{name: "only a pending invite", seed: func(t *testing.T, s *dockerhubsim.Server) {
			_, err := s.AddInvite(dockerhubsim.Invite{ID: "inv-new", Invitee: "newbie@acme.example"})
			must(t, err)
		}, person: connector.Person{Email: "newbie@acme.example"}, want: []string{"cancel_invite:inv-new"}, account: "pending invite"},
		{name: "two members share the email", seed: func(t *testing.T, s *dockerhubsim.Server) {
			must(t, s.AddMember(dockerhubsim.Member{Username: "dana2", Email: "dana@acme.example"}))
		}, person: connector.Person{Email: "dana@acme.example"}, notFound: true, manual: true},
		{name: "nobody", person: connector.Person{Email: "ghost@acme.example", Handles: map[string]string{"dockerhub": "ghost"}}, notFound: true},
		{name: "handle and email point at different members", person: connector.Person{Email: "fox@acme.example", Handles: map[string]string{"dockerhub": "dscully"}},
			want: []string{"cancel_invite:inv-dana-1", "cancel_invite:inv-fox-1", "remove_member:dscully"}, manual: true, account: "Docker ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, dockerhubsim.Options{MaxPageSize: 2})
			if tc.seed != nil {
				tc.seed(t, e.sim)
			}
			p, err := e.conn.Plan(context.Background(), tc.person)
			must(t, err)
			if got := kinds(p); !slices.Equal(got, tc.want) {
				t.Errorf("actions %v, want %v", got, tc.want)
			}
			if p.NotFound != tc.notFound || len(p.Notes) == 0 {
				t.Errorf("NotFound %v (want %v), notes %q", p.NotFound, tc.notFound, p.Notes)
			}
			if (len(p.Manual) > 0) != tc.manual {
				t.Errorf("manual %+v, want some: %v", p.Manual, tc.manual)
			}
			if !strings.Contains(p.Account, tc.account) {
				t.Errorf("Account %q should contain %q", p.Account, tc.account)
			}
		})
	}
}

// TestPlanPagesThroughMembers protects paging: the member search follows every next link.
func TestPlanPagesThroughMembers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dockerhubsim.Options{MaxPageSize: 1})
	for i := range 4 {
		must(t, e.sim.AddMember(dockerhubsim.Member{Username: fmt.Sprintf("zz%d", i), Email: fmt.Sprintf("zz%d@acme.example", i)}))
	}
	must(t, e.sim.AddMember(dockerhubsim.Member{Username: "zzlast", Email: "zzlast@acme.example"}))
	found, err := e.conn.searchMembers(context.Background(), "zz")
	must(t, err)
	if len(found) != 5 {
		t.Fatalf("found %d members matching zz, want 5", len(found))
	}
	if n := e.sim.Recorder.Count(http.MethodGet, "/v2/orgs/acme/members", ""); n != 5 {
		t.Errorf("%d member pages read, want 5", n)
	}
}

// TestApplyIsIdempotentAndExplainsRefusals protects idempotence (404 is success) and the
// last-owner refusal, which must stop the step with a hint instead of retrying.
func TestApplyIsIdempotentAndExplainsRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dockerhubsim.Options{})
	ctx := context.Background()
	p, err := e.conn.Plan(ctx, dana)
	must(t, err)
	connectortest.ApplyInOrder(t.Context(), t, e.conn, p.Actions)
	for _, a := range p.Actions {
		if err := e.conn.Apply(ctx, a); err != nil {
			t.Errorf("second apply of %s: %v", a.Key(), err)
		}
	}
	owner, err := e.conn.Plan(ctx, connector.Person{Handles: map[string]string{"dockerhub": "owner1"}})
	must(t, err)
	err = e.conn.Apply(ctx, owner.Actions[0])
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "last owner") {
		t.Fatalf("removing the last owner: %v, want a permanent error naming the last-owner rule", err)
	}
	other := connector.Action{System: System, Kind: KindRemoveMember, Target: "x", Params: map[string]string{"org": "other"}}
	if err := e.conn.Apply(ctx, other); !connector.IsPermanent(err) {
		t.Errorf("an action planned for another organization must be refused permanently: %v", err)
	}
	if err := e.conn.Apply(ctx, connector.Action{System: System, Kind: "nope", Target: "x"}); !connector.IsPermanent(err) {
		t.Errorf("an unknown kind must be refused permanently: %v", err)
	}
	if e.sim.Recorder.Count(http.MethodDelete, "/v2/orgs/other", "") != 0 {
		t.Error("an action for another organization reached Docker Hub")
	}
}

// TestPlanWithoutInviteAccess protects a partial read: a token that may not list invitations
// still removes the membership, and the plan says invitations must be checked by hand.
func TestPlanWithoutInviteAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dockerhubsim.Options{NoInviteAccess: true})
	p, err := e.conn.Plan(context.Background(), dana)
	must(t, err)
	if got := kinds(p); !slices.Equal(got, []string{"remove_member:dscully"}) {
		t.Errorf("actions %v", got)
	}
	if len(p.Manual) != 1 || !strings.Contains(p.Manual[0].Detail, "cancel any invitation") {
		t.Errorf("manual %+v, want a request to check invitations", p.Manual)
	}
}

// TestPlanNeedsAnIdentity protects against planning for a person with nothing to match by.
func TestPlanNeedsAnIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dockerhubsim.Options{})
	if _, err := e.conn.Plan(context.Background(), connector.Person{Name: "No Ids"}); !connector.IsPermanent(err) {
		t.Fatalf("plan without handle or email: %v, want a permanent error", err)
	}
}

// TestInviteAcceptedAfterThePlanIsNotGreen protects against a step that looks done while the
// leaver is a member: an invite accepted before it was cancelled is no longer pending, but
// its verification must say the invitee joined.
func TestInviteAcceptedAfterThePlanIsNotGreen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dockerhubsim.Options{})
	id, err := e.sim.AddInvite(dockerhubsim.Invite{Invitee: "newhire"})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := e.conn.Plan(t.Context(), connector.Person{Handles: map[string]string{"dockerhub": "newhire"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Actions) != 1 || pl.Actions[0].Kind != KindCancelInvite {
		t.Fatalf("plan %+v, want one invite to cancel", pl.Actions)
	}
	if err := e.sim.AcceptInvite(id, "newhire"); err != nil {
		t.Fatal(err)
	}
	if err := e.conn.Apply(t.Context(), pl.Actions[0]); err != nil {
		t.Fatal(err)
	}
	ev, err := e.conn.Verify(t.Context(), pl.Actions[0])
	if err != nil {
		t.Fatal(err)
	}
	if ev.Verified || !strings.Contains(ev.Observed, "accepted") {
		t.Errorf("an accepted invite verified as cancelled: %s", ev.Observed)
	}
}

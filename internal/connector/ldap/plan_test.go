package ldap

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/ldap/slapd"
)

// TestPlanFindsThePersonOrSaysWhyNot protects "never a guess": one match is planned, none is
// a finding, several are manual work listing every DN, and an email crafted to widen the
// filter matches nobody instead of everybody.
func TestPlanFindsThePersonOrSaysWhyNot(t *testing.T) {
	t.Parallel()
	srv := slapd.Start(t)
	tests := []struct {
		name         string
		seed         func(t *testing.T, e *env)
		person       connector.Person
		wantNotFound bool
		wantActions  int
		wantManual   []string // substrings of the single Manual entry
		wantNote     string
	}{
		{name: "one match by mail", person: connector.Person{Email: "dana@example.org"}, wantActions: 4},
		{name: "one match by ldap handle (uid)", person: connector.Person{Email: "d.leaver@corp.example", Handles: map[string]string{"ldap": "dana"}}, wantActions: 4},
		{name: "no match", person: connector.Person{Email: "nobody@example.org"}, wantNotFound: true, wantNote: "not found in ldap"},
		{name: "no email and no handle", person: connector.Person{Name: "Anon"}, wantNotFound: true, wantNote: "no email"},
		{
			name: "two entries share the email",
			seed: func(t *testing.T, e *env) {
				e.tree.AddPerson(t, "dana2", "dana@example.org", nil)
			},
			person: connector.Person{Email: "dana@example.org"}, wantNotFound: true,
			wantManual: []string{"uid=dana,ou=people", "uid=dana2,ou=people"}, wantNote: "ambiguous",
		},
		{
			name: "more matches than the search returns",
			seed: func(t *testing.T, e *env) {
				for i := range maxMatches + 2 {
					e.tree.AddPerson(t, fmt.Sprintf("dup%d", i), "dana@example.org", nil)
				}
			},
			person: connector.Person{Email: "dana@example.org"}, wantNotFound: true,
			wantManual: []string{"uid=dana,ou=people"}, wantNote: "there may be more",
		},
		{
			name:   "filter injection in the email matches nobody",
			person: connector.Person{Email: "x*)(uid=*"}, wantNotFound: true, wantNote: `x\2a\29\28uid=\2a`,
		},
		{
			name:   "wildcard handle is a literal, not a wildcard",
			person: connector.Person{Email: "zz@example.org", Handles: map[string]string{"ldap": "*"}}, wantNotFound: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, srv)
			if tt.seed != nil {
				tt.seed(t, e)
			}
			before, err := e.tree.Snapshot(ctxFor(t))
			if err != nil {
				t.Fatal(err)
			}
			pl, err := e.connector(t, nil).Plan(ctxFor(t), tt.person)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if pl.NotFound != tt.wantNotFound || len(pl.Actions) != tt.wantActions {
				t.Fatalf("NotFound=%v actions=%d, want %v and %d; plan %+v", pl.NotFound, len(pl.Actions), tt.wantNotFound, tt.wantActions, pl)
			}
			if tt.wantNote != "" && !strings.Contains(strings.Join(pl.Notes, "\n"), tt.wantNote) {
				t.Errorf("notes %q lack %q", pl.Notes, tt.wantNote)
			}
			if tt.wantManual != nil {
				if len(pl.Manual) != 1 {
					t.Fatalf("manual = %+v, want one entry", pl.Manual)
				}
				for _, s := range tt.wantManual {
					if !strings.Contains(pl.Manual[0].Detail, s) {
						t.Errorf("manual %q does not name %q", pl.Manual[0].Detail, s)
					}
				}
			}
			after, _ := e.tree.Snapshot(ctxFor(t))
			if before != after {
				t.Errorf("planning changed the directory")
			}
		})
	}
}

// TestPlanRecordsWhatARestoreNeeds protects reversibility: each removal names its group, the
// attribute and the exact stored value, and the disable step records what it replaces.
func TestPlanRecordsWhatARestoreNeeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slapd.Start(t))
	pl, err := e.connector(t, nil).Plan(ctxFor(t), e.danaPerson)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{e.groups["eng"]: "member", e.groups["ops"]: "uniqueMember", e.groups["devs"]: "memberUid"}
	for _, a := range pl.Actions {
		if a.Kind != KindRemoveGroup {
			if !slices.Equal(a.After, []string{KindRemoveGroup}) {
				t.Errorf("%s runs after %q, want after remove_group", a.Key(), a.After)
			}
			if !strings.Contains(a.Before, `"previous`) {
				t.Errorf("%s Before %s records no previous state", a.Key(), a.Before)
			}
			continue
		}
		attr, ok := want[a.Target]
		if !ok || a.Param(pAttributes) != attr {
			t.Errorf("%s removes %q, want %q", a.Target, a.Param(pAttributes), attr)
			continue
		}
		delete(want, a.Target)
		var before struct {
			GroupDN string            `json:"group_dn"`
			Removed map[string]string `json:"removed_values"`
		}
		if err := json.Unmarshal([]byte(a.Before), &before); err != nil || before.GroupDN != a.Target || before.Removed[attr] == "" {
			t.Errorf("%s Before = %s (%v), want the group DN and the removed %s value", a.Target, a.Before, err, attr)
		}
	}
	if len(want) > 0 {
		t.Errorf("no removal planned for %v", want)
	}
}

// TestLastMemberIsManualNotCorruption protects the groups themselves: removing the only member
// of a groupOfNames would violate its schema, so it is left for a human and the group is
// untouched, while the person's other groups are still removed.
func TestLastMemberIsManualNotCorruption(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slapd.Start(t))
	solo := e.tree.AddGroup(t, slapd.GroupOfNames, "solo", e.dana)
	soloU := e.tree.AddGroup(t, slapd.GroupOfUniqueNames, "solo-unique", e.dana)
	c := e.connector(t, nil)
	pl, err := c.Plan(ctxFor(t), e.danaPerson)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range pl.Actions {
		if a.Target == solo || a.Target == soloU {
			t.Fatalf("planned %s; the last member must not be removed automatically", a.Key())
		}
	}
	if len(pl.Manual) != 2 || len(pl.Kept) != 2 || !strings.Contains(pl.Manual[0].Detail, "only member") {
		t.Fatalf("manual %+v kept %+v, want both last-member groups explained", pl.Manual, pl.Kept)
	}
	applyAll(t, c, pl)
	left, err := e.tree.Memberships(ctxFor(t), e.dana, "dana")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{solo + " member", soloU + " uniqueMember"}; !slices.Equal(left, want) {
		t.Errorf("remaining memberships %q, want only %q", left, want)
	}
}

// TestApplyRefusesToEmptyAGroupHonestly protects against a race since planning: if the
// colleague left the group meanwhile, the directory's refusal is a permanent error that says
// why, and the group keeps its member.
func TestApplyRefusesToEmptyAGroupHonestly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slapd.Start(t))
	c := e.connector(t, nil)
	pl, err := c.Plan(ctxFor(t), e.danaPerson)
	if err != nil {
		t.Fatal(err)
	}
	var eng connector.Action
	for _, a := range pl.Actions {
		if a.Target == e.groups["eng"] {
			eng = a
		}
	}
	req := removeValue(e.groups["eng"], "member", e.sam)
	if err := e.srv.Modify(ctxFor(t), req); err != nil {
		t.Fatal(err)
	}
	err = c.Apply(ctxFor(t), eng)
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "last member") {
		t.Fatalf("Apply = %v, want a permanent error explaining the last member", err)
	}
	vals, _, _ := e.srv.Attr(ctxFor(t), e.groups["eng"], "member")
	if len(vals) != 1 {
		t.Errorf("eng members = %q, want dana kept", vals)
	}
}

package google

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/google/googlesim"
)

func kinds(p connector.Plan) map[string]int {
	out := map[string]int{}
	for _, a := range p.Actions {
		out[a.Kind]++
	}
	return out
}

func find(p connector.Plan, kind string) *connector.Action {
	for i, a := range p.Actions {
		if a.Kind == kind {
			return &p.Actions[i]
		}
	}
	return nil
}

// TestPlanListsEveryAccessInSafeOrder protects the plan's completeness and its declared order:
// suspension waits for everything, 2SV waits for the passwords and codes it would also remove.
func TestPlanListsEveryAccessInSafeOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	want := map[string]int{KindTransferData: 1, KindConfirmTransfer: 1, KindSignOut: 1, KindRevokeToken: 2, KindDeleteASP: 2, KindInvalidateCode: 1, KindTurnOff2SV: 1, KindRemoveGroup: 3, KindSuspend: 1}
	if got := kinds(p); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("kinds = %v, want %v", got, want)
	}
	if p.Account != janeID+" ("+janeEmail+", active)" {
		t.Errorf("Account = %q", p.Account)
	}
	suspend := find(p, KindSuspend)
	for _, k := range kindOrder {
		switch waits := slices.Contains(suspend.After, k); {
		case k == KindConfirmTransfer && waits:
			t.Errorf("suspend waits for the transfer to complete, which can take hours: %v", suspend.After)
		case k != KindSuspend && k != KindConfirmTransfer && !waits:
			t.Errorf("suspend does not wait for %s: %v", k, suspend.After)
		}
	}
	if c := find(p, KindConfirmTransfer); !slices.Equal(c.After, []string{KindTransferData}) || c.Param("new_owner_id") != managerID {
		t.Errorf("confirm_transfer = %+v", c)
	}
	if off := find(p, KindTurnOff2SV); !slices.Equal(off.After, []string{KindDeleteASP, KindInvalidateCode}) {
		t.Errorf("turn_off_2sv After = %v", off.After)
	}
	tr := find(p, KindTransferData)
	if tr.Param("new_owner_id") != managerID || tr.Param("drive_app_id") != googlesim.DriveAppID || tr.Param("calendar_app_id") != googlesim.CalendarAppID || len(tr.After) != 0 {
		t.Errorf("transfer action = %+v", tr)
	}
	codes := find(p, KindInvalidateCode)
	if strings.Contains(codes.Before, "verificationCode") || !strings.Contains(codes.Before, "10") {
		t.Errorf("backup codes must be counted, never copied: Before = %s", codes.Before)
	}
}

// TestPlanFindings covers the people a plan must describe rather than act on blindly.
func TestPlanFindings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		person connector.Person
		cfg    func(*Config)
		check  func(t *testing.T, p connector.Plan)
	}{
		{"unknown person is not found", connector.Person{Email: "ghost@acme.example"}, nil, func(t *testing.T, p connector.Plan) {
			if !p.NotFound || len(p.Actions) != 0 || !strings.Contains(strings.Join(p.Notes, " "), "ghost@acme.example") {
				t.Errorf("plan = %+v", p)
			}
		}},
		{"alias leads to the account, with a note", connector.Person{Email: "jane@acme.example", Manager: managerEmail}, nil, func(t *testing.T, p connector.Plan) {
			if p.NotFound || !strings.Contains(strings.Join(p.Notes, " "), "alias of "+janeEmail) {
				t.Errorf("plan = %+v", p)
			}
		}},
		{"no manager: nobody to hand over to", connector.Person{Email: janeEmail}, nil, func(t *testing.T, p connector.Plan) {
			if find(p, KindTransferData) != nil || len(p.Manual) != 1 || !strings.Contains(p.Manual[0].Detail, "nobody to hand") {
				t.Errorf("plan = %+v", p)
			}
			if find(p, KindSuspend) == nil {
				t.Error("suspension must still be planned")
			}
		}},
		{"manager without an account", connector.Person{Email: janeEmail, Manager: "gone@acme.example"}, nil, func(t *testing.T, p connector.Plan) {
			if find(p, KindTransferData) != nil || len(p.Manual) != 1 || !strings.Contains(p.Manual[0].Detail, "gone@acme.example") {
				t.Errorf("plan = %+v", p)
			}
		}},
		{"transfer turned off", jane, func(c *Config) { c.TransferTo = TransferToNone }, func(t *testing.T, p connector.Plan) {
			if find(p, KindTransferData) != nil || len(p.Kept) != 1 || !strings.Contains(p.Kept[0].Reason, "transfer is set to none") {
				t.Errorf("plan = %+v", p)
			}
		}},
		{"the impersonated admin is never suspended by the connector", connector.Person{Email: adminEmail}, nil, func(t *testing.T, p connector.Plan) {
			if find(p, KindSuspend) != nil || !strings.Contains(fmt.Sprint(p.Manual), "admin_email") {
				t.Errorf("plan = %+v", p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, googlesim.Options{})
			c := e.conn
			if tt.cfg != nil {
				cfg := e.cfg
				tt.cfg(&cfg)
				c = e.connector(t, cfg)
			}
			p, err := c.Plan(t.Context(), tt.person)
			must(t, err)
			tt.check(t, p)
		})
	}
}

// TestPlanKeepsEnforced2SV protects against planning a change Google will refuse: 2SV that a
// policy enforces is kept, with the reason.
func TestPlanKeepsEnforced2SV(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{})
	must(t, e.sim.SetEnforced2SV(janeEmail, true))
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	if find(p, KindTurnOff2SV) != nil {
		t.Fatal("turn_off_2sv planned although 2SV is enforced")
	}
	if len(p.Kept) != 1 || !strings.Contains(p.Kept[0].Reason, "enforced by policy") {
		t.Errorf("kept = %+v", p.Kept)
	}
}

// TestPlanPagesThroughGroups protects leavers in many groups: every page is read.
func TestPlanPagesThroughGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{PageSize: 2})
	for i := range 4 {
		email := fmt.Sprintf("team%d@acme.example", i)
		must(t, errOf(e.sim.AddGroup(googlesim.Group{Email: email})))
		must(t, e.sim.AddMember(email, janeEmail, "MANAGER"))
	}
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	if n := kinds(p)[KindRemoveGroup]; n != 7 {
		t.Errorf("%d remove_group actions, want 7", n)
	}
	if n := e.sim.Recorder.Count("GET", "/admin/directory/v1/groups", ""); n != 4 {
		t.Errorf("%d group pages read, want 4 (7 groups, 2 a page)", n)
	}
}

// TestPlanAfterCompletedTransferPlansNoTransfer protects re-planning: data already handed
// over is a note, not a second transfer.
func TestPlanAfterCompletedTransferPlansNoTransfer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, googlesim.Options{TransferReads: -1})
	p, err := e.conn.Plan(t.Context(), jane)
	must(t, err)
	must(t, e.conn.Apply(t.Context(), *find(p, KindTransferData)))
	p, err = e.conn.Plan(t.Context(), jane)
	must(t, err)
	if find(p, KindTransferData) != nil || !strings.Contains(strings.Join(p.Notes, " "), "already transferred") {
		t.Errorf("plan after the transfer = %+v", p)
	}
}

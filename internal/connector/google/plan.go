package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Plan reads the person's Workspace account and lists what to remove: their data handed to
// their manager, sign-out, OAuth tokens, app-specific passwords, backup codes, 2-Step
// Verification and group memberships, then suspension. Suspension waits until every other
// action is verified: the data transfer is requested while the account is still active, and
// once the account is suspended nobody can notice what is left. It does not wait for the
// transfer to complete, which for a large Drive takes hours during which the password would
// keep working; that completion is a step of its own, after the transfer's request, that
// nothing waits on. 2-Step Verification is turned off only after the app passwords and backup
// codes are gone, because turning it off removes those too and each is to be verified on its
// own. Everything else runs at once. It never changes anything.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	plan := connector.Plan{System: System, Actions: []connector.Action{}}
	u, matched, tried, err := c.findUser(ctx, p)
	if err != nil {
		return plan, err
	}
	if u == nil {
		plan.NotFound = true
		plan.Notes = []string{fmt.Sprintf("not found in google: no Workspace user with primary address or alias %s (set the person's google handle to their address or numeric user ID if it differs)", strings.Join(tried, " or "))}
		return plan, nil
	}
	acc, err := c.readAccess(ctx, u.ID)
	if err != nil {
		return plan, err
	}
	b := &planBuilder{plan: &plan, user: *u}
	state := "active"
	if u.Suspended {
		state = "suspended"
	}
	plan.Account = fmt.Sprintf("%s (%s, %s)", u.ID, u.PrimaryEmail, state)
	if strings.Contains(matched, "@") && !strings.EqualFold(matched, u.PrimaryEmail) {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s is an alias of %s; the plan acts on that account.", matched, u.PrimaryEmail))
	}
	if err := c.planTransfer(ctx, b, p); err != nil {
		return plan, err
	}
	b.signOut()
	b.tokens(acc.tokens)
	b.asps(acc.asps)
	b.codes(acc.codes)
	b.twoStep()
	b.groups(acc.groups)
	b.suspend(c.admin)
	connector.SortActions(plan.Actions, kindOrder)
	return plan, nil
}

// planBuilder adds one user's actions, kept items and notes to a plan.
type planBuilder struct {
	plan *connector.Plan
	user gUser
}

func (b *planBuilder) name() string { return b.user.PrimaryEmail }

func (b *planBuilder) add(kind, target, detail string, params map[string]string, after []string, before any) {
	if params == nil {
		params = map[string]string{}
	}
	params["user_id"] = b.user.ID
	params["email"] = b.user.PrimaryEmail
	b.plan.Actions = append(b.plan.Actions, connector.Action{
		System: System, Kind: kind, Target: target, Detail: detail,
		Params: params, After: after, Before: compact(before),
	})
}

func (b *planBuilder) keep(target, detail, reason string) {
	b.plan.Kept = append(b.plan.Kept, connector.Kept{System: System, Target: target, Detail: detail, Reason: reason})
}

func (b *planBuilder) manual(detail string) {
	b.plan.Manual = append(b.plan.Manual, connector.Manual{System: System, Detail: detail})
}

func (b *planBuilder) note(format string, args ...any) {
	b.plan.Notes = append(b.plan.Notes, fmt.Sprintf(format, args...))
}

// compact renders what the plan's read showed as JSON for Action.Before.
func compact(v any) string {
	if v == nil {
		return ""
	}
	out, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(out)
}

// signOut is planned for any account that is not suspended. Google has no API listing a
// user's sessions, so there is no telling that none exist.
func (b *planBuilder) signOut() {
	if b.user.Suspended {
		b.note("%s is already suspended: Google blocks a suspended user's sign-in, so no sign-out is planned.", b.name())
		return
	}
	b.add(KindSignOut, b.user.ID,
		fmt.Sprintf("Sign %s out of every web and device session and reset their sign-in cookies", b.name()),
		nil, nil, map[string]any{"sessions": "not listable through the Admin SDK", "suspended": b.user.Suspended})
}

func (b *planBuilder) tokens(tokens []gToken) {
	for _, t := range tokens {
		name := t.DisplayText
		if name == "" {
			name = t.ClientID
		}
		b.add(KindRevokeToken, t.ClientID,
			fmt.Sprintf("Revoke the OAuth tokens %s granted to %s (client %s, %d scope(s))", b.name(), name, t.ClientID, len(t.Scopes)),
			map[string]string{"app": name}, nil, t)
	}
}

func (b *planBuilder) asps(asps []gASP) {
	for _, a := range asps {
		id := strconv.Itoa(a.CodeID)
		b.add(KindDeleteASP, id,
			fmt.Sprintf("Delete app-specific password %q (%s) of %s", a.Name, id, b.name()),
			map[string]string{"name": a.Name}, nil, a)
	}
}

func (b *planBuilder) codes(n int) {
	if n == 0 {
		return
	}
	b.add(KindInvalidateCode, b.user.ID,
		fmt.Sprintf("Invalidate the %d unused backup verification code(s) of %s", n, b.name()),
		map[string]string{"codes": strconv.Itoa(n)}, nil, map[string]int{"unused_backup_codes": n})
}

// twoStep plans turning 2-Step Verification off, unless a policy enforces it: Google refuses
// turnOff then, so the enrolment is kept with the reason (suspension blocks its use).
func (b *planBuilder) twoStep() {
	if !b.user.IsEnrolledIn2Sv {
		return
	}
	detail := fmt.Sprintf("2-Step Verification of %s", b.name())
	if b.user.IsEnforcedIn2Sv {
		b.keep(b.user.ID, detail, "2-Step Verification is enforced by policy for the user's organizational unit, and Google refuses to turn it off while it is; suspension blocks every sign-in, so the second steps cannot be used. To remove them anyway, move the user to an organizational unit without enforcement and re-plan.")
		return
	}
	b.add(KindTurnOff2SV, b.user.ID, "Turn off "+detail+" (removes their registered second steps)",
		nil, []string{KindDeleteASP, KindInvalidateCode},
		map[string]bool{"isEnrolledIn2Sv": true, "isEnforcedIn2Sv": false})
}

func (b *planBuilder) groups(groups []gGroup) {
	for _, g := range groups {
		b.add(KindRemoveGroup, g.ID,
			fmt.Sprintf("Remove %s from group %s (%s)", b.name(), g.Email, g.Name),
			map[string]string{"group_email": g.Email, "group_name": g.Name}, nil, g)
	}
	if len(groups) > 0 {
		b.note("Google lists direct group memberships only; memberships through a nested group end when %s leaves the outer group they hold.", b.name())
	}
}

// suspend plans suspension (never deletion) unless it is done, after every other kind but
// confirm_transfer: Google accepting the transfer is enough, as its completion can take hours
// and the account must not stay open that long. The administrator the connector impersonates
// is never suspended by it: that would lock the connector out mid-case.
func (b *planBuilder) suspend(admin string) {
	if b.user.IsAdmin || b.user.IsDelegatedAdmin {
		b.manual(fmt.Sprintf("%s is a Workspace administrator: review and remove their admin role assignments in the Admin console (Account > Admin roles); this connector does not manage roles.", b.name()))
	}
	if b.user.Suspended {
		return
	}
	if strings.EqualFold(b.user.PrimaryEmail, admin) {
		b.manual(fmt.Sprintf("%s is the administrator this connector impersonates (admin_email): set admin_email to another administrator, then suspend %s.", b.name(), b.name()))
		return
	}
	b.add(KindSuspend, b.user.ID,
		fmt.Sprintf("Suspend Google Workspace user %s (%s); the account and its data are kept, not deleted", b.name(), b.user.ID),
		nil, []string{KindTransferData, KindSignOut, KindRevokeToken, KindDeleteASP, KindInvalidateCode, KindTurnOff2SV, KindRemoveGroup},
		map[string]any{"suspended": false})
}

// planTransfer plans handing the person's Drive and Calendar data to their manager: the
// request (transfer_data) and, after it, the wait for Google to finish (confirm_transfer). A
// transfer Google already accepted is not requested again; only its completion is planned.
func (c *Connector) planTransfer(ctx context.Context, b *planBuilder, p connector.Person) error {
	what := fmt.Sprintf("Drive and Calendar data of %s", b.name())
	if c.transferTo == TransferToNone {
		b.keep(b.user.ID, what, "transfer is set to none: the data stays with the suspended account.")
		return nil
	}
	mgrKey := strings.TrimSpace(p.Manager)
	if mgrKey == "" {
		b.manual(fmt.Sprintf("No manager is known for %s, so there is nobody to hand their Drive and Calendar data over to: transfer it in the Admin console (Data transfer) before the account is ever deleted.", b.name()))
		return nil
	}
	mgr, err := c.getUser(ctx, mgrKey)
	switch {
	case errors.Is(err, connector.ErrNotFound):
		b.manual(fmt.Sprintf("The manager of %s, %s, has no Workspace account: choose who receives their Drive and Calendar data and transfer it in the Admin console.", b.name(), mgrKey))
		return nil
	case err != nil:
		return fmt.Errorf("google: look up manager %s: %w", mgrKey, err)
	case mgr.ID == b.user.ID:
		b.manual(fmt.Sprintf("%s is recorded as their own manager: choose who receives their Drive and Calendar data and transfer it in the Admin console.", b.name()))
		return nil
	case mgr.Suspended:
		b.manual(fmt.Sprintf("The manager of %s, %s, is suspended and cannot receive data: choose someone else and transfer it in the Admin console.", b.name(), mgr.PrimaryEmail))
		return nil
	}
	apps, err := c.listApplications(ctx)
	if err != nil {
		return fmt.Errorf("google: list data-transfer applications: %w", err)
	}
	drive, calendar := pickApps(apps)
	if drive == "" && calendar == "" {
		b.manual(fmt.Sprintf("Google offers no Drive or Calendar data-transfer application for this account: transfer the data of %s to %s by hand.", b.name(), mgr.PrimaryEmail))
		return nil
	}
	ids := nonEmpty(drive, calendar)
	transfers, err := c.listTransfers(ctx, b.user.ID, mgr.ID)
	if err != nil {
		return fmt.Errorf("google: list data transfers of %s: %w", b.name(), err)
	}
	for _, t := range transfers {
		if t.OverallTransferStatusCode == statusCompleted && t.covers(ids) {
			b.note("The Drive and Calendar data of %s was already transferred to %s (transfer %s, requested %s).", b.name(), mgr.PrimaryEmail, t.ID, t.RequestTime)
			return nil
		}
	}
	var after []string
	if live := (transferAction{drive: drive, calendar: calendar}).current(transfers); live == nil {
		after = []string{KindTransferData}
	} else {
		b.note("Google already accepted data transfer %s of %s to %s (%s, requested %s); the plan waits for it to complete.", live.ID, b.name(), mgr.PrimaryEmail, live.OverallTransferStatusCode, live.RequestTime)
	}
	params := func() map[string]string {
		return map[string]string{"new_owner_id": mgr.ID, "new_owner_email": mgr.PrimaryEmail, "drive_app_id": drive, "calendar_app_id": calendar}
	}
	before := map[string]any{"new_owner": map[string]string{"id": mgr.ID, "email": mgr.PrimaryEmail}, "applications": apps, "previous_transfers": transfers}
	if len(after) > 0 {
		b.add(KindTransferData, b.user.ID,
			fmt.Sprintf("Transfer %s to their manager %s (Drive: private and shared files; Calendar: future events, releasing booked resources)", what, mgr.PrimaryEmail),
			params(), nil, before)
	}
	b.add(KindConfirmTransfer, b.user.ID,
		fmt.Sprintf("Confirm that Google has finished moving the %s to %s", what, mgr.PrimaryEmail),
		params(), after, before)
	return nil
}

// pickApps finds the Drive and Calendar applications by name: their IDs are Google's to
// choose, so they are read rather than assumed.
func pickApps(apps []gApp) (drive, calendar string) {
	for _, a := range apps {
		n := strings.ToLower(a.Name)
		switch {
		case strings.Contains(n, "drive"):
			drive = string(a.ID)
		case n == "calendar" || strings.HasPrefix(n, "calendar"):
			calendar = string(a.ID)
		}
	}
	return drive, calendar
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

package google

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// body is the transfers.insert request. What each application's transfer moves (Data
// Transfer API, transfer parameters): Drive files the person owns whether private or shared
// with others, and Calendar events they organise, releasing the meeting rooms and resources
// booked for future events.
func (a transferAction) body() map[string]any {
	var apps []gAppTransfer
	if a.drive != "" {
		apps = append(apps, gAppTransfer{ApplicationID: flexID(a.drive), ApplicationTransferParams: []gParam{{Key: "PRIVACY_LEVEL", Value: []string{"PRIVATE", "SHARED"}}}})
	}
	if a.calendar != "" {
		apps = append(apps, gAppTransfer{ApplicationID: flexID(a.calendar), ApplicationTransferParams: []gParam{{Key: "RELEASE_RESOURCES", Value: []string{"TRUE"}}}})
	}
	return map[string]any{"oldOwnerUserId": a.oldOwner, "newOwnerUserId": a.newOwner, "applicationDataTransfers": apps}
}

// transferAction is a transfer_data or confirm_transfer action's parameters.
type transferAction struct {
	oldOwner, newOwner, newOwnerEmail string
	drive, calendar                   string
}

func parseTransfer(a connector.Action, uid string) (transferAction, error) {
	t := transferAction{oldOwner: uid, newOwner: a.Param("new_owner_id"), newOwnerEmail: a.Param("new_owner_email"),
		drive: a.Param("drive_app_id"), calendar: a.Param("calendar_app_id")}
	if t.newOwner == "" || (t.drive == "" && t.calendar == "") {
		return t, connector.Permanent(fmt.Errorf("google: action %s names no new owner or no application; it was not planned by this connector", a.Key()))
	}
	return t, nil
}

func (a transferAction) apps() []string { return nonEmpty(a.drive, a.calendar) }

// current picks the newest transfer that moves every planned application and has not failed:
// the one to wait for. A failed transfer does not count, so applying again starts a new one.
func (a transferAction) current(transfers []gTransfer) *gTransfer {
	for i, t := range transfers {
		if t.OverallTransferStatusCode != statusFailed && t.covers(a.apps()) {
			return &transfers[i]
		}
	}
	return nil
}

// transfer starts the data transfer unless one for the same owners and applications exists
// (queued, running or done). The insert goes through the client that never retries: were its
// answer lost, a blind retry would start a second transfer, so the next attempt lists first.
func (c *Connector) transfer(ctx context.Context, a connector.Action, uid string) error {
	t, err := parseTransfer(a, uid)
	if err != nil {
		return err
	}
	existing, err := c.listTransfers(ctx, t.oldOwner, t.newOwner)
	if err != nil {
		return fmt.Errorf("google: %s: look for an existing transfer: %w", describe(a), err)
	}
	if t.current(existing) != nil {
		return nil
	}
	_, err = c.do(ctx, c.once, connector.Request{Method: http.MethodPost, Path: transferPrefix + "/transfers", JSON: t.body()}, nil)
	if err != nil {
		return c.refused(a, err)
	}
	return nil
}

// confirmTransfer is confirm_transfer's Apply. The transfer was requested by transfer_data;
// all that is left is to wait for Google, so it only reads (which also proves the transfers
// can still be read) and changes nothing.
func (c *Connector) confirmTransfer(ctx context.Context, a connector.Action, uid string) error {
	t, err := parseTransfer(a, uid)
	if err != nil {
		return err
	}
	if _, err := c.listTransfers(ctx, t.oldOwner, t.newOwner); err != nil {
		return fmt.Errorf("google: %s: %w", describe(a), err)
	}
	return nil
}

// verifyTransfer reads the transfers between the two owners. For transfer_data, a transfer
// Google has accepted (new, inProgress or completed) is verified: the request is what
// suspension waits for, as moving a large Drive takes hours. For confirm_transfer, only a
// completed one is; until then the engine reads again, and the evidence names what moved.
func (c *Connector) verifyTransfer(ctx context.Context, a connector.Action, uid string) (connector.Evidence, error) {
	t, err := parseTransfer(a, uid)
	if err != nil {
		return connector.Evidence{}, err
	}
	transfers, err := c.listTransfers(ctx, t.oldOwner, t.newOwner)
	if err != nil {
		return connector.Evidence{}, err
	}
	who := a.Param("email")
	cur := t.current(transfers)
	read := map[string]any{"old_owner_id": t.oldOwner, "new_owner_id": t.newOwner, "new_owner_email": t.newOwnerEmail, "transfers": nonNil(transfers)}
	if cur == nil {
		observed := fmt.Sprintf("no data transfer from %s to %s covers %s", who, t.newOwnerEmail, t.appNames())
		if len(transfers) > 0 {
			latest := transfers[0]
			observed += fmt.Sprintf(" (%d earlier transfer(s), latest %s %s)", len(transfers), latest.ID, latest.OverallTransferStatusCode)
			if latest.OverallTransferStatusCode == statusFailed && a.Kind == KindConfirmTransfer {
				observed = fmt.Sprintf("data transfer %s from %s to %s failed, so the data was not handed over; plan again to request a new transfer", latest.ID, who, t.newOwnerEmail)
			}
		}
		return c.evidence(false, observed, read), nil
	}
	read["transfer"] = cur
	if a.Kind == KindTransferData {
		return c.evidence(true, fmt.Sprintf("Google accepted data transfer %s of the %s data of %s to %s (requested %s); it is %s", cur.ID, t.appNames(), who, t.newOwnerEmail, cur.RequestTime, cur.OverallTransferStatusCode), read), nil
	}
	if cur.OverallTransferStatusCode != statusCompleted {
		return c.evidence(false, fmt.Sprintf("data transfer %s from %s to %s is %s", cur.ID, who, t.newOwnerEmail, cur.OverallTransferStatusCode), read), nil
	}
	var moved []string
	for _, at := range cur.ApplicationDataTransfers {
		var ps []string
		for _, p := range at.ApplicationTransferParams {
			ps = append(ps, p.Key+"="+strings.Join(p.Value, "+"))
		}
		moved = append(moved, fmt.Sprintf("%s [%s] %s", appName(t, string(at.ApplicationID)), strings.Join(ps, ", "), at.ApplicationTransferStatus))
	}
	return c.evidence(true, fmt.Sprintf("data transfer %s from %s to %s completed (requested %s): %s", cur.ID, who, t.newOwnerEmail, cur.RequestTime, strings.Join(moved, "; ")), read), nil
}

func (a transferAction) appNames() string {
	var n []string
	if a.drive != "" {
		n = append(n, "Drive")
	}
	if a.calendar != "" {
		n = append(n, "Calendar")
	}
	return strings.Join(n, " and ")
}

func appName(t transferAction, id string) string {
	switch id {
	case t.drive:
		return "Drive (" + id + ")"
	case t.calendar:
		return "Calendar (" + id + ")"
	}
	return id
}

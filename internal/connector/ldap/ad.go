package ldap

import (
	"fmt"
	"strconv"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/connector"
)

// Active Directory's userAccountControl flag that disables an account
// (ADS_UF_ACCOUNTDISABLE). Every other bit (password never expires, smartcard required,
// delegation flags...) belongs to the account and must survive disabling.
const (
	uacAttr           = "userAccountControl"
	uacAccountDisable = 0x2
)

// parseUAC reads userAccountControl, a 32-bit flag set AD returns as a decimal string.
func parseUAC(vals []string) (uint32, error) {
	if len(vals) != 1 {
		return 0, fmt.Errorf("%s has %d values, want exactly one", uacAttr, len(vals))
	}
	v, err := strconv.ParseUint(strings.TrimSpace(vals[0]), 10, 32)
	if err != nil {
		// Some tools write it as a signed 32-bit integer.
		s, serr := strconv.ParseInt(strings.TrimSpace(vals[0]), 10, 32)
		if serr != nil {
			return 0, fmt.Errorf("%s %q is not a number", uacAttr, vals[0])
		}
		v = uint64(uint32(s))
	}
	return uint32(v), nil
}

// disabledUAC returns uac with ACCOUNTDISABLE set and every other bit kept.
func disabledUAC(uac uint32) uint32 { return uac | uacAccountDisable }

// uacDisabled reports whether ACCOUNTDISABLE is set.
func uacDisabled(uac uint32) bool { return uac&uacAccountDisable != 0 }

// adDisableRequest is the modify that disables the account whose current value is current:
// a replace with the same bits plus ACCOUNTDISABLE.
func adDisableRequest(dn string, current uint32) *goldap.ModifyRequest {
	req := goldap.NewModifyRequest(dn, nil)
	req.Replace(uacAttr, []string{strconv.FormatUint(uint64(disabledUAC(current)), 10)})
	return req
}

// planADDisable plans setting ACCOUNTDISABLE unless it is set, recording the previous value.
func (c *Connector) planADDisable(plan *connector.Plan, acc account) {
	vals := acc.attr(uacAttr)
	uac, err := parseUAC(vals)
	if err != nil {
		plan.Manual = append(plan.Manual, connector.Manual{System: c.cfg.Name, Detail: fmt.Sprintf(
			"Disable %s by hand: its %s could not be read (%v); is the bind account allowed to read it, and is this Active Directory?", acc.DN, uacAttr, err)})
		return
	}
	if pg := acc.attr("primaryGroupID"); len(pg) == 1 {
		// The primary group is not listed in the group's member attribute and AD refuses to
		// remove it; it grants nothing once the account is disabled.
		plan.Kept = append(plan.Kept, connector.Kept{System: c.cfg.Name, Target: "primaryGroupID=" + pg[0],
			Detail: fmt.Sprintf("primary group (RID %s) of %s", pg[0], acc.DN),
			Reason: "Active Directory keeps every account in its primary group (usually Domain Users) and will not remove it; it is harmless once the account is disabled"})
	}
	if uacDisabled(uac) {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s is already disabled (%s=%d).", acc.DN, uacAttr, uac))
		return
	}
	prev := strconv.FormatUint(uint64(uac), 10)
	plan.Actions = append(plan.Actions, c.action(acc, KindDisable, acc.DN,
		fmt.Sprintf("Disable %s by setting ACCOUNTDISABLE in %s (%s -> %d; other flags kept; the account is not deleted)", acc.DN, uacAttr, prev, disabledUAC(uac)),
		map[string]string{pFlavor: FlavorAD, pAttribute: uacAttr, pPrevious: `["` + prev + `"]`},
		[]string{KindRemoveGroup}, map[string]any{"dn": acc.DN, "attribute": uacAttr, "previous": []string{prev}}))
	plan.Notes = append(plan.Notes, "Disabling an Active Directory account stops new sign-ins, but Kerberos tickets already issued stay valid until they expire (10 hours by default); sessions on member servers are not ended by it.")
}

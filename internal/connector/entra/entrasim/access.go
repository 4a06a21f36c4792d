package entrasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/offboard-dev/offboard/internal/sim"
)

// groupJSON renders a group as memberOf lists it.
func groupJSON(g *group) map[string]any {
	types := []string{}
	if g.Kind == Microsoft365 {
		types = append(types, "Unified")
	}
	if g.Dynamic {
		types = append(types, "DynamicMembership")
	}
	provisioning := []string{}
	if g.Team {
		provisioning = append(provisioning, "Team")
	}
	var synced any
	if g.Synced {
		synced = true
	}
	return map[string]any{
		"@odata.type":                 "#microsoft.graph.group",
		"id":                          g.ID,
		"displayName":                 g.DisplayName,
		"groupTypes":                  types,
		"mailEnabled":                 g.Kind != Security,
		"securityEnabled":             g.Kind == Security || g.Kind == MailEnabledSecurity,
		"onPremisesSyncEnabled":       synced,
		"isAssignableToRole":          g.RoleAssignable,
		"resourceProvisioningOptions": provisioning,
	}
}

// memberOf lists the user's direct memberships: groups, then directory roles.
func (s *Server) memberOf(w http.ResponseWriter, r *http.Request) {
	u := s.lookup(w, r)
	if u == nil {
		return
	}
	var out []map[string]any
	for _, g := range s.groupsOfLocked(u.ID) {
		out = append(out, selectFields(r, groupJSON(g)))
	}
	for i, name := range u.roles {
		out = append(out, selectFields(r, map[string]any{
			"@odata.type": "#microsoft.graph.directoryRole",
			"id":          fmt.Sprintf("role-%s-%d", u.ID, i),
			"displayName": name,
		}))
	}
	s.mu.Unlock()
	s.page(w, r, s.context(r, "directoryObjects"), out)
}

// removeMember removes a direct member. Graph refuses changes to groups it does not master:
// dynamic groups, groups synced from on-premises AD and Exchange-managed mail-enabled
// security and distribution groups (apis.md §7 "other group gotchas").
func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) {
	gid, uid := r.PathValue("gid"), r.PathValue("uid")
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[gid]
	if g == nil {
		s.notFound(w, gid)
		return
	}
	i := slices.Index(s.members[gid], uid)
	if i < 0 {
		s.notFound(w, uid)
		return
	}
	switch {
	case g.Synced:
		s.badRequest(w, "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.")
		return
	case g.Dynamic:
		s.badRequest(w, "Insufficient privileges to complete the operation. Membership of a dynamic group is computed from its membership rule.")
		return
	case g.Kind == MailEnabledSecurity || g.Kind == Distribution:
		s.badRequest(w, "Cannot Update a mail-enabled security groups and or distribution list.")
		return
	}
	s.members[gid] = slices.Delete(s.members[gid], i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

func methodJSON(m AuthMethod) map[string]any {
	out := map[string]any{"@odata.type": "#microsoft.graph." + methodTypes[m.Type], "id": m.ID}
	switch m.Type {
	case Phone:
		out["phoneNumber"], out["phoneType"], out["smsSignInState"] = m.Detail, m.PhoneType, "notAllowedByPolicy"
	case Email:
		out["emailAddress"] = m.Detail
	case Password:
		out["password"] = nil
	default:
		out["displayName"] = m.Detail
	}
	return out
}

func (s *Server) listMethods(w http.ResponseWriter, r *http.Request) {
	u := s.lookup(w, r)
	if u == nil {
		return
	}
	var out []map[string]any
	for _, m := range u.methods {
		out = append(out, methodJSON(m))
	}
	s.mu.Unlock()
	s.page(w, r, s.context(r, "users('"+r.PathValue("id")+"')/authentication/methods"), out)
}

// deleteMethod deletes one method through its type's collection. The password cannot be
// deleted, and the default method cannot be deleted while other methods remain: "Cannot
// delete default method with other methods configured" (apis.md §7).
func (s *Server) deleteMethod(w http.ResponseWriter, r *http.Request) {
	collection, mid := r.PathValue("collection"), r.PathValue("mid")
	typ, ok := strings.CutSuffix(collection, "Methods")
	if _, known := methodTypes[typ]; !ok || !known {
		sim.NotImplemented(w, r)
		return
	}
	u := s.lookup(w, r)
	if u == nil {
		return
	}
	defer s.mu.Unlock()
	i := slices.IndexFunc(u.methods, func(m AuthMethod) bool { return m.ID == mid && m.Type == typ })
	switch {
	case i < 0:
		s.notFound(w, mid)
	case typ == Password:
		s.fail(w, http.StatusBadRequest, "badRequest", "The password authentication method cannot be deleted.")
	case mid == u.defaultMethod && s.otherMethodsLocked(u, mid) > 0:
		s.fail(w, http.StatusBadRequest, "badRequest", "Cannot delete default method with other methods configured. Please change default method before deletion.")
	case u.methods[i].PhoneType == "mobile" && slices.ContainsFunc(u.methods, func(m AuthMethod) bool { return m.Type == Phone && m.PhoneType == "alternateMobile" }):
		// An alternate mobile phone cannot exist without a mobile phone.
		s.fail(w, http.StatusBadRequest, "badRequest", "The mobile phone method cannot be deleted while an alternate mobile phone method is registered.")
	default:
		u.methods = slices.Delete(u.methods, i, i+1)
		if mid == u.defaultMethod {
			u.defaultMethod = ""
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// otherMethodsLocked counts the user's methods other than mid and the password.
func (s *Server) otherMethodsLocked(u *user, mid string) int {
	n := 0
	for _, m := range u.methods {
		if m.ID != mid && m.Type != Password {
			n++
		}
	}
	return n
}

// signInPreferences answers the beta signInPreferences resource: the user's default second
// factor as a userDefaultAuthenticationMethodType.
func (s *Server) signInPreferences(w http.ResponseWriter, r *http.Request) {
	u := s.lookup(w, r)
	if u == nil {
		return
	}
	var preferred any
	for _, m := range u.methods {
		if m.ID != u.defaultMethod {
			continue
		}
		switch {
		case m.Type == MicrosoftAuthenticator:
			preferred = "push"
		case m.Type == SoftwareOath:
			preferred = "oath"
		case m.PhoneType == "alternateMobile":
			preferred = "voiceAlternateMobile"
		case m.PhoneType == "office":
			preferred = "voiceOffice"
		default:
			preferred = "sms"
		}
	}
	s.mu.Unlock()
	sim.WriteJSON(w, http.StatusOK, map[string]any{
		"@odata.type": "#microsoft.graph.signInPreferences",
		"isSystemPreferredAuthenticationMethodEnabled":  false,
		"userPreferredMethodForSecondaryAuthentication": preferred,
	})
}

// assignLicense adds and removes direct licences. Both parameters are required. Removing a
// SKU the user holds only through a group fails ("inherited from group membership", apis.md
// §7), as does removing one the user does not have; nothing changes unless all succeed.
func (s *Server) assignLicense(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AddLicenses []struct {
			SkuID string `json:"skuId"`
		} `json:"addLicenses"`
		RemoveLicenses []string `json:"removeLicenses"`
	}
	raw := map[string]json.RawMessage{}
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		s.badRequest(w, "Unable to read JSON request payload.")
		return
	}
	if raw["addLicenses"] == nil || raw["removeLicenses"] == nil || string(raw["addLicenses"]) == "null" || string(raw["removeLicenses"]) == "null" {
		s.badRequest(w, "Invalid value specified for property 'addLicenses' or 'removeLicenses': both are required and non-nullable.")
		return
	}
	_ = json.Unmarshal(raw["addLicenses"], &body.AddLicenses)
	_ = json.Unmarshal(raw["removeLicenses"], &body.RemoveLicenses)
	u := s.lookup(w, r)
	if u == nil {
		return
	}
	defer s.mu.Unlock()
	direct := slices.Clone(u.Licenses)
	for _, sku := range body.RemoveLicenses {
		if i := slices.Index(direct, sku); i >= 0 {
			direct = slices.Delete(direct, i, i+1)
			continue
		}
		if slices.ContainsFunc(s.licenseStatesLocked(u), func(st map[string]any) bool { return st["skuId"] == sku }) {
			s.badRequest(w, "User license is inherited from group membership and cannot be removed directly from the user.")
		} else {
			s.badRequest(w, "User does not have a corresponding license.")
		}
		return
	}
	for _, a := range body.AddLicenses {
		if a.SkuID == "" {
			s.badRequest(w, "License assignment failed: skuId is required.")
			return
		}
		if !slices.Contains(direct, a.SkuID) {
			direct = append(direct, a.SkuID)
		}
	}
	u.Licenses = direct
	out := s.userJSON(u)
	out["@odata.context"] = s.context(r, "users/$entity")
	sim.WriteJSON(w, http.StatusOK, out)
}

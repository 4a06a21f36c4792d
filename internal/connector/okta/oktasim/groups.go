package oktasim

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"

	"github.com/offboard-dev/offboard/internal/sim"
)

type groupJSON struct {
	ID                    string            `json:"id"`
	Created               string            `json:"created"`
	LastUpdated           string            `json:"lastUpdated"`
	LastMembershipUpdated string            `json:"lastMembershipUpdated"`
	ObjectClass           []string          `json:"objectClass,omitempty"`
	Type                  string            `json:"type"`
	Profile               map[string]string `json:"profile"`
	Embedded              map[string]any    `json:"_embedded,omitempty"`
	Links                 map[string]any    `json:"_links"`
}

// sourceAppID is a stable app-instance ID for an APP_GROUP's source.
func sourceAppID(source string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(source))
	return fmt.Sprintf("0oa%017x", h.Sum64())[:20]
}

// groupJSON renders the Group schema. An APP_GROUP carries its source app both as
// `_links.source` and as `_embedded.app` (the schema: "If the group is sourced from an app,
// this object contains information about that app").
func groupToJSON(r *http.Request, g *group) groupJSON {
	at := stamp(g.created)
	out := groupJSON{
		ID: g.ID, Created: at, LastUpdated: at, LastMembershipUpdated: at, Type: g.Type,
		Profile: map[string]string{"name": g.Name, "description": ""},
		Links:   map[string]any{"users": href(r, "/api/v1/groups/"+g.ID+"/users")},
	}
	switch g.Type {
	case OktaGroup, BuiltIn:
		out.ObjectClass = []string{"okta:user_group"}
		if g.Type == BuiltIn {
			out.Profile["description"] = "All users in your organization"
		}
	case AppGroup:
		app := sourceAppID(g.Source)
		out.Links["source"] = href(r, "/api/v1/apps/"+app)
		out.Embedded = map[string]any{"app": map[string]string{"id": app, "name": "directory", "label": g.Source}}
	}
	return out
}

// listUserGroups implements listUserGroups, paged with Link headers (apis.md §1.1: the
// current spec declares no query parameters, older docs had after/limit; Okta pages anyway).
func (s *Server) listUserGroups(w http.ResponseWriter, r *http.Request) {
	var out []groupJSON
	s.withUser(w, r, "id", func(u *user) func() {
		for _, g := range s.groupsOfLocked(u.ID) {
			out = append(out, groupToJSON(r, g))
		}
		return func() { writePage(s, w, r, out, func(g groupJSON) string { return g.ID }) }
	})
}

// unassignFromGroup implements unassignUserFromGroup (apis.md §1.4):
//   - OKTA_GROUP: 204. A membership a group rule made is also recorded as an exclusion on
//     that rule ("automatically added to the rule's Except the following users field").
//   - APP_GROUP and BUILT_IN: 403 E0000006 ("You only can modify memberships for groups of
//     the OKTA_GROUP type"; observed as E0000006 even for a super admin).
//   - A user who is not a member: 404 E0000007. The spec lists 404 for the operation without
//     saying when; answering it here makes clients prove they treat "already gone" as done.
func (s *Server) unassignFromGroup(w http.ResponseWriter, r *http.Request) {
	gid, uid := r.PathValue("groupId"), r.PathValue("userId")
	reply := func() func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		g := s.groups[gid]
		if g == nil {
			return func() { s.notFound(w, gid, "UserGroup") }
		}
		u := s.lookupLocked(uid)
		if u == nil {
			return func() { s.notFound(w, uid, "User") }
		}
		if g.Type != OktaGroup {
			return func() {
				s.forbidden(w, fmt.Sprintf("Group %s is of type %s; only OKTA_GROUP memberships can be modified", g.Name, g.Type))
			}
		}
		m := s.members[gid][u.ID]
		if m == nil || !m.member() {
			return func() { s.notFound(w, u.ID, "UserGroupMembership") }
		}
		for _, rid := range m.rules {
			if ru := s.rules[rid]; ru != nil && !slices.Contains(ru.Exclude, u.ID) {
				ru.Exclude = append(ru.Exclude, u.ID)
			}
		}
		delete(s.members[gid], u.ID)
		s.memberOrder[u.ID] = slices.DeleteFunc(slices.Clone(s.memberOrder[u.ID]), func(id string) bool { return id == gid })
		return noContent(w)
	}()
	reply()
}

type ruleJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Type        string         `json:"type"`
	Status      string         `json:"status"`
	Created     string         `json:"created"`
	LastUpdated string         `json:"lastUpdated"`
	Conditions  map[string]any `json:"conditions"`
	Actions     map[string]any `json:"actions"`
}

func ruleToJSON(ru *rule) ruleJSON {
	at := stamp(ru.created)
	exclude := slices.Clone(ru.Exclude)
	if exclude == nil {
		exclude = []string{}
	}
	return ruleJSON{
		ID: ru.ID, Name: ru.Name, Type: "group_rule", Status: ru.Status, Created: at, LastUpdated: at,
		Conditions: map[string]any{
			"people":     map[string]any{"users": map[string]any{"exclude": exclude}, "groups": map[string]any{"exclude": []string{}}},
			"expression": map[string]string{"value": ru.Expression, "type": "urn:okta:expression:1.0"},
		},
		Actions: map[string]any{"assignUserToGroups": map[string]any{"groupIds": slices.Clone(ru.GroupIDs)}},
	}
}

// listRules implements listGroupRules (limit, after, search by name).
func (s *Server) listRules(w http.ResponseWriter, r *http.Request) {
	search := strings.ToLower(r.URL.Query().Get("search"))
	var out []ruleJSON
	s.mu.Lock()
	for _, id := range s.ruleOrder {
		ru := s.rules[id]
		if search != "" && !strings.Contains(strings.ToLower(ru.Name), search) {
			continue
		}
		out = append(out, ruleToJSON(ru))
	}
	s.mu.Unlock()
	writePage(s, w, r, out, func(ru ruleJSON) string { return ru.ID })
}

// getRule implements getGroupRule.
func (s *Server) getRule(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("groupRuleId")
	s.mu.Lock()
	ru := s.rules[id]
	var out ruleJSON
	if ru != nil {
		out = ruleToJSON(ru)
	}
	s.mu.Unlock()
	if ru == nil {
		s.notFound(w, id, "GroupRule")
		return
	}
	sim.WriteJSON(w, http.StatusOK, out)
}

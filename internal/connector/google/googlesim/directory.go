package googlesim

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/offboard-dev/offboard/internal/sim"
)

// userJSON is the Directory API User resource, the fields offboarding reads.
func (s *Server) userJSON(u *user) map[string]any {
	out := map[string]any{
		"kind":            "admin#directory#user",
		"id":              u.ID,
		"primaryEmail":    u.Email,
		"isAdmin":         u.Admin,
		"suspended":       u.Suspended,
		"isEnrolledIn2Sv": u.Enrolled2SV,
		"isEnforcedIn2Sv": u.Enforced2SV,
		"customerId":      CustomerID,
	}
	if len(u.Aliases) > 0 {
		out["aliases"] = u.Aliases
	}
	if u.Suspended {
		out["suspensionReason"] = "ADMIN"
	}
	return out
}

// withUser runs h with the path's user, or answers 404 as Google does for an unknown userKey.
// h runs under s.mu.
func (s *Server) withUser(w http.ResponseWriter, r *http.Request, h func(*user)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookup(r.PathValue("userKey"))
	if u == nil {
		notFound(w, "userKey")
		return
	}
	h(u)
}

// getUser is users.get.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.withUser(w, r, func(u *user) { sim.WriteJSON(w, http.StatusOK, s.userJSON(u)) })
}

// patchUser is users.patch (and users.update): only `suspended` is modelled; other fields are
// accepted and ignored.
func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var in map[string]json.RawMessage
	if json.Unmarshal(body, &in) != nil {
		badRequest(w, "Invalid JSON payload received.")
		return
	}
	var suspended *bool
	if raw, ok := in["suspended"]; ok {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			badRequest(w, "Invalid value for field suspended")
			return
		}
		suspended = &b
	}
	s.withUser(w, r, func(u *user) {
		if suspended != nil {
			u.Suspended = *suspended
			if u.Suspended {
				// A suspended user cannot use any session.
				u.Sessions = 0
			}
		}
		sim.WriteJSON(w, http.StatusOK, s.userJSON(u))
	})
}

// signOut is users.signOut: ends every web and device session; 204 with no body.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	s.withUser(w, r, func(u *user) {
		u.Sessions = 0
		u.signedOut++
		w.WriteHeader(http.StatusNoContent)
	})
}

// listTokens is tokens.list: every grant in one response, "items" omitted when there is none.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	s.withUser(w, r, func(u *user) {
		out := map[string]any{"kind": "admin#directory#tokenList", "etag": `"sim"`}
		if len(u.tokens) > 0 {
			items := make([]map[string]any, len(u.tokens))
			for i, t := range u.tokens {
				items[i] = map[string]any{"kind": "admin#directory#token", "clientId": t.ClientID, "displayText": t.DisplayText,
					"scopes": t.Scopes, "anonymous": t.Anonymous, "nativeApp": t.NativeApp, "userKey": u.ID}
			}
			out["items"] = items
		}
		sim.WriteJSON(w, http.StatusOK, out)
	})
}

// deleteToken is tokens.delete: 404 when the user has no token for the client.
func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) {
	s.withUser(w, r, func(u *user) {
		id := r.PathValue("clientId")
		i := slices.IndexFunc(u.tokens, func(t Token) bool { return t.ClientID == id })
		if i < 0 {
			notFound(w, "clientId")
			return
		}
		u.tokens = slices.Delete(u.tokens, i, i+1)
		w.WriteHeader(http.StatusNoContent)
	})
}

// listASPs is asps.list.
func (s *Server) listASPs(w http.ResponseWriter, r *http.Request) {
	s.withUser(w, r, func(u *user) {
		out := map[string]any{"kind": "admin#directory#asps", "etag": `"sim"`}
		if len(u.asps) > 0 {
			items := make([]map[string]any, len(u.asps))
			for i, a := range u.asps {
				items[i] = map[string]any{"kind": "admin#directory#asp", "codeId": a.CodeID, "name": a.Name,
					"creationTime": a.CreationTime, "lastTimeUsed": a.LastTimeUsed, "userKey": u.ID}
			}
			out["items"] = items
		}
		sim.WriteJSON(w, http.StatusOK, out)
	})
}

// deleteASP is asps.delete: codeId is an integer; 404 when the user has no such password.
func (s *Server) deleteASP(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("codeId"))
	if err != nil {
		badRequest(w, "Invalid value for codeId")
		return
	}
	s.withUser(w, r, func(u *user) {
		i := slices.IndexFunc(u.asps, func(a asp) bool { return a.CodeID == id })
		if i < 0 {
			notFound(w, "codeId")
			return
		}
		u.asps = slices.Delete(u.asps, i, i+1)
		w.WriteHeader(http.StatusNoContent)
	})
}

// listCodes is verificationCodes.list: the current, unused backup codes.
func (s *Server) listCodes(w http.ResponseWriter, r *http.Request) {
	s.withUser(w, r, func(u *user) {
		out := map[string]any{"kind": "admin#directory#verificationCodesList", "etag": `"sim"`}
		if len(u.codes) > 0 {
			items := make([]map[string]any, len(u.codes))
			for i, c := range u.codes {
				items[i] = map[string]any{"kind": "admin#directory#verificationCode", "userId": u.ID, "verificationCode": c}
			}
			out["items"] = items
		}
		sim.WriteJSON(w, http.StatusOK, out)
	})
}

// invalidateCodes is verificationCodes.invalidate: the current codes stop working; 204.
func (s *Server) invalidateCodes(w http.ResponseWriter, r *http.Request) {
	s.withUser(w, r, func(u *user) {
		u.codes = nil
		w.WriteHeader(http.StatusNoContent)
	})
}

// turnOff2SV is twoStepVerification.turnOff. Google refuses when the user is not enrolled or
// when a policy enforces 2-Step Verification for them; turning it off also removes the
// user's second steps, which revokes app-specific passwords and backup codes.
func (s *Server) turnOff2SV(w http.ResponseWriter, r *http.Request) {
	s.withUser(w, r, func(u *user) {
		switch {
		case u.Enforced2SV:
			writeError(w, http.StatusBadRequest, "global", "failedPrecondition",
				"Cannot turn off 2-Step Verification: it is enforced for the user's organizational unit.")
		case !u.Enrolled2SV:
			writeError(w, http.StatusBadRequest, "global", "failedPrecondition",
				"Cannot turn off 2-Step Verification: the user is not enrolled.")
		default:
			u.Enrolled2SV = false
			u.asps, u.codes = nil, nil
			w.WriteHeader(http.StatusNoContent)
		}
	})
}

// listGroups is groups.list with userKey: the groups the user is a direct member of, paged
// with pageToken/nextPageToken (maxResults up to 200). Listing a whole domain is not modelled.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("userKey")
	if key == "" {
		sim.NotImplemented(w, r)
		return
	}
	size, ok := s.pageSize(r, 200)
	if !ok {
		badRequest(w, "Invalid value for maxResults")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookup(key)
	if u == nil {
		notFound(w, "userKey")
		return
	}
	var all []map[string]any
	for _, id := range s.groupOrd {
		g := s.groups[id]
		if slices.ContainsFunc(g.members, func(m member) bool { return m.userID == u.ID }) {
			all = append(all, map[string]any{"kind": "admin#directory#group", "id": g.ID, "email": g.Email, "name": g.Name,
				"directMembersCount": strconv.Itoa(len(g.members))})
		}
	}
	out := map[string]any{"kind": "admin#directory#groups", "etag": `"sim"`}
	writePage(w, out, "groups", all, q.Get("pageToken"), size)
}

// deleteMember is members.delete: memberKey is the member's email or ID; 404 when the group
// does not exist or the user is not a direct member.
func (s *Server) deleteMember(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.lookupGroup(r.PathValue("groupKey"))
	if g == nil {
		notFound(w, "groupKey")
		return
	}
	u := s.lookup(r.PathValue("memberKey"))
	i := -1
	if u != nil {
		i = slices.IndexFunc(g.members, func(m member) bool { return m.userID == u.ID })
	}
	if i < 0 {
		notFound(w, "memberKey")
		return
	}
	g.members = slices.Delete(g.members, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

package oktasim

import "net/http"

// Route is one endpoint the simulator serves: the method and path template exactly as the
// Okta OpenAPI description spells them, the status it answers on success, and the spec's
// operationId. Contract tests check every Route against the spec.
type Route struct {
	Method      string
	Path        string
	Status      int
	OperationID string
	handler     http.HandlerFunc
}

// Routes lists the endpoints the simulator serves; everything else answers 501.
func (s *Server) Routes() []Route {
	rs := s.routes()
	for i := range rs {
		rs[i].handler = nil
	}
	return rs
}

// routes is the table the mux is built from. Each row cites the apis.md §1.1 table row it
// implements (and the spec operation, whose success status it returns).
func (s *Server) routes() []Route {
	return []Route{
		// "Look up user" (§1.1); `me` is the admin the token belongs to (getUser description).
		{"GET", "/api/v1/users/{id}", http.StatusOK, "getUser", s.getUser},
		// "Delete" (§1.1, gotcha 4): the first DELETE deactivates, the second deletes.
		{"DELETE", "/api/v1/users/{id}", http.StatusNoContent, "deleteUser", s.deleteUser},
		// "List user's groups" (§1.1): Link paging although the current spec lists no params.
		{"GET", "/api/v1/users/{id}/groups", http.StatusOK, "listUserGroups", s.listUserGroups},
		// "Deactivate" (§1.1): 200 with no body; asynchronous per the spec's description.
		{"POST", "/api/v1/users/{id}/lifecycle/deactivate", http.StatusOK, "deactivateUser", s.deactivateUser},
		// "Suspend" (§1.1): only from ACTIVE.
		{"POST", "/api/v1/users/{id}/lifecycle/suspend", http.StatusOK, "suspendUser", s.suspendUser},
		// "Revoke sessions" (§1.1): oauthTokens=true also revokes refresh tokens.
		{"DELETE", "/api/v1/users/{userId}/sessions", http.StatusNoContent, "revokeUserSessions", s.revokeSessions},
		// "Revoke all user grants" (§1.1) and its list (after, limit ≤ 200).
		{"GET", "/api/v1/users/{userId}/grants", http.StatusOK, "listUserGrants", s.listGrants},
		{"DELETE", "/api/v1/users/{userId}/grants", http.StatusNoContent, "revokeUserGrants", s.revokeGrants},
		// "List OAuth clients with grants/tokens" (§1.1).
		{"GET", "/api/v1/users/{userId}/clients", http.StatusOK, "listUserClients", s.listClients},
		// "Revoke refresh tokens for one client" (§1.1): its list form (after, limit).
		{"GET", "/api/v1/users/{userId}/clients/{clientId}/tokens", http.StatusOK, "listRefreshTokensForUserAndClient", s.listClientTokens},
		// "List factors" and "Unenroll one factor" (§1.1, gotcha 1).
		{"GET", "/api/v1/users/{userId}/factors", http.StatusOK, "listFactors", s.listFactors},
		{"DELETE", "/api/v1/users/{userId}/factors/{factorId}", http.StatusNoContent, "unenrollFactor", s.unenrollFactor},
		// "List admin role assignments" and "Remove admin role" (§1.1).
		{"GET", "/api/v1/users/{userId}/roles", http.StatusOK, "listAssignedRolesForUser", s.listRoles},
		{"DELETE", "/api/v1/users/{userId}/roles/{roleAssignmentId}", http.StatusNoContent, "unassignRoleFromUser", s.unassignRole},
		// "Remove from group" (§1.1, §1.4): the group's type decides 204 or 403.
		{"DELETE", "/api/v1/groups/{groupId}/users/{userId}", http.StatusNoContent, "unassignUserFromGroup", s.unassignFromGroup},
		// Group rules (spec listGroupRules: limit default 50 max 200, after; getGroupRule).
		{"GET", "/api/v1/groups/rules", http.StatusOK, "listGroupRules", s.listRules},
		{"GET", "/api/v1/groups/rules/{groupRuleId}", http.StatusOK, "getGroupRule", s.getRule},
	}
}

package githubsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/offboard-dev/offboard/internal/sim"
)

// graphqlRequest is the body of POST /graphql.
type graphqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

type gqlError struct {
	Type    string   `json:"type,omitempty"`
	Path    []string `json:"path,omitempty"`
	Message string   `json:"message"`
}

// identityPage is how many external identities one page holds when `first` is missing.
const identityPage = 100

// graphql answers the one query the simulator knows: an organization's SAML external
// identities (organization(login:){samlIdentityProvider{externalIdentities(first:, after:)}}),
// with the organization login and cursor given as variables $org/$login and $after (or inline).
// GraphQL reports problems as 200 with "errors", as GitHub does; any other query gets such an
// error rather than invented data.
func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	var req graphqlRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || strings.TrimSpace(req.Query) == "" {
		fail(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	q := req.Query
	if !strings.Contains(q, "samlIdentityProvider") || !strings.Contains(q, "externalIdentities") {
		sim.WriteJSON(w, http.StatusOK, map[string]any{"errors": []gqlError{{Type: "UNSUPPORTED", Message: "githubsim: only the organization SAML externalIdentities query is simulated"}}})
		return
	}
	org := stringVar(req.Variables, "org", "login")
	if !strings.EqualFold(org, s.opts.Org) {
		sim.WriteJSON(w, http.StatusOK, map[string]any{
			"data":   map[string]any{"organization": nil},
			"errors": []gqlError{{Type: "NOT_FOUND", Path: []string{"organization"}, Message: fmt.Sprintf("Could not resolve to an Organization with the login of '%s'.", org)}},
		})
		return
	}
	if !s.opts.SAML {
		sim.WriteJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"organization": map[string]any{"samlIdentityProvider": nil}}})
		return
	}
	first := identityPage
	if v, ok := req.Variables["first"].(float64); ok {
		first = int(v)
	}
	if first < 1 || first > 100 {
		sim.WriteJSON(w, http.StatusOK, map[string]any{"errors": []gqlError{{Type: "ARGUMENT_LIMIT", Message: "Requesting " + strconv.Itoa(first) + " records on the connection exceeds the `first` limit of 100 records."}}})
		return
	}
	start := 0
	if after := stringVar(req.Variables, "after"); after != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(after, "cursor:"))
		if err != nil || n < 0 {
			sim.WriteJSON(w, http.StatusOK, map[string]any{"errors": []gqlError{{Message: "`" + after + "` does not appear to be a valid cursor."}}})
			return
		}
		start = n
	}
	s.mu.Lock()
	all := s.state.identities
	start = min(start, len(all))
	end := min(start+first, len(all))
	nodes := make([]map[string]any, 0, end-start)
	for i := start; i < end; i++ {
		id := all[i]
		emails := make([]map[string]string, len(id.Emails))
		for j, e := range id.Emails {
			emails[j] = map[string]string{"value": e}
		}
		var user any
		if u := s.state.users[key(id.Login)]; id.Login != "" && u != nil {
			user = map[string]string{"login": u.Login}
		}
		nodes = append(nodes, map[string]any{
			"guid":         fmt.Sprintf("ext-%d", i+1),
			"samlIdentity": map[string]any{"nameId": id.NameID, "username": id.NameID, "emails": emails},
			"user":         user,
		})
	}
	s.mu.Unlock()
	var endCursor any
	if end > start {
		endCursor = "cursor:" + strconv.Itoa(end)
	}
	sim.WriteJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"organization": map[string]any{
		"samlIdentityProvider": map[string]any{"externalIdentities": map[string]any{
			"pageInfo": map[string]any{"hasNextPage": end < len(all), "endCursor": endCursor},
			"nodes":    nodes,
		}},
	}}})
}

func stringVar(vars map[string]any, names ...string) string {
	for _, n := range names {
		if v, ok := vars[n].(string); ok {
			return v
		}
	}
	return ""
}

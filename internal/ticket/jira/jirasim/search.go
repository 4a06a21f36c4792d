package jirasim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/offboard-dev/offboard/internal/sim"
)

// search is GET /rest/api/3/search/jql [D: the replacement for /search, paged with
// nextPageToken and isLast, no total]. It understands the JQL offboard needs: equality on
// project, labels, key, issuetype and status joined by AND, and ORDER BY created.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	conds, desc, err := parseJQL(q.Get("jql"))
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	limit := 50
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fail(w, http.StatusBadRequest, "The maxResults parameter must be a non-negative number.")
			return
		}
		limit = min(max(n, 1), 100)
	}
	want := map[string]bool{}
	for _, f := range strings.Split(q.Get("fields"), ",") {
		if f = strings.TrimSpace(f); f != "" && !strings.HasPrefix(f, "*") {
			want[f] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []*issue
	if !s.denied(PermBrowse) {
		for _, k := range s.order {
			if is := s.issues[k]; matches(is, conds) {
				hits = append(hits, is)
			}
		}
	}
	if desc {
		slices.Reverse(hits)
	}
	page, next := sim.Page(hits, q.Get("nextPageToken"), limit)
	issues := make([]map[string]any, 0, len(page))
	for _, is := range page {
		item := map[string]any{"id": is.ID, "key": is.Key, "self": s.self(r, "/rest/api/3/issue/"+is.ID)}
		if len(want) > 0 {
			item["fields"] = s.fields(is, want)
		}
		issues = append(issues, item)
	}
	out := map[string]any{"issues": issues, "isLast": next == ""}
	if next != "" {
		out["nextPageToken"] = next
	}
	sim.WriteJSON(w, http.StatusOK, out)
}

type jqlCond struct{ field, value string }

func matches(is *issue, conds []jqlCond) bool {
	for _, c := range conds {
		var ok bool
		switch c.field {
		case "project":
			ok = strings.EqualFold(is.Project, c.value)
		case "labels":
			ok = slices.Contains(is.Labels, c.value)
		case "key", "issuekey":
			ok = strings.EqualFold(is.Key, c.value)
		case "issuetype":
			ok = strings.EqualFold(is.IssueType, c.value)
		case "status":
			ok = strings.EqualFold(is.Status, c.value)
		}
		if !ok {
			return false
		}
	}
	return true
}

// parseJQL parses `field = value [AND field = value]... [ORDER BY created [ASC|DESC]]`.
// Values may be quoted with " or ', with backslash escapes.
func parseJQL(jql string) ([]jqlCond, bool, error) {
	toks, err := tokenize(jql)
	if err != nil {
		return nil, false, err
	}
	bad := func(why string) error {
		return refusal(fmt.Sprintf("Error in the JQL Query: %s (query: %s)", why, jql))
	}
	var conds []jqlCond
	i := 0
	for i < len(toks) && !strings.EqualFold(toks[i].text, "order") {
		if len(conds) > 0 {
			if !strings.EqualFold(toks[i].text, "and") || toks[i].quoted {
				return nil, false, bad("expected AND or ORDER BY at '" + toks[i].text + "'")
			}
			i++
		}
		if i+2 >= len(toks) {
			return nil, false, bad("incomplete condition")
		}
		field := strings.ToLower(toks[i].text)
		if toks[i].quoted || toks[i+1].text != "=" || toks[i+1].quoted {
			return nil, false, bad("only field = value conditions are supported")
		}
		switch field {
		case "project", "labels", "key", "issuekey", "issuetype", "status":
		default:
			return nil, false, bad("the field '" + toks[i].text + "' does not exist or you do not have permission to view it")
		}
		conds = append(conds, jqlCond{field: field, value: toks[i+2].text})
		i += 3
	}
	if len(conds) == 0 {
		return nil, false, refusal("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
	}
	desc := false
	if i < len(toks) {
		rest := toks[i:]
		if len(rest) < 3 || !strings.EqualFold(rest[1].text, "by") || !strings.EqualFold(rest[2].text, "created") || len(rest) > 4 {
			return nil, false, bad("only ORDER BY created is supported")
		}
		if len(rest) == 4 {
			switch strings.ToUpper(rest[3].text) {
			case "ASC":
			case "DESC":
				desc = true
			default:
				return nil, false, bad("expected ASC or DESC")
			}
		}
	}
	return conds, desc, nil
}

type jqlToken struct {
	text   string
	quoted bool
}

func tokenize(s string) ([]jqlToken, error) {
	var out []jqlToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '=':
			out = append(out, jqlToken{text: "="})
			i++
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, refusal("Error in the JQL Query: unterminated quoted value")
			}
			out = append(out, jqlToken{text: b.String(), quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n=\"'", rune(s[j])) {
				j++
			}
			out = append(out, jqlToken{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

// myself is GET /rest/api/3/myself [S: getCurrentUser].
func (s *Server) myself(w http.ResponseWriter, _ *http.Request) {
	sim.WriteJSON(w, http.StatusOK, map[string]any{"accountId": "5b10a2844c20165700ede21g", "accountType": "atlassian",
		"emailAddress": s.opts.Email, "displayName": "offboard bot", "active": true})
}

// project is GET /rest/api/3/project/{projectIdOrKey} [S: getProject], with its issue types.
func (s *Server) project(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if !slices.Contains(s.opts.Projects, key) || s.denied(PermBrowse) {
		fail(w, http.StatusNotFound, "No project could be found with key '"+key+"'.")
		return
	}
	types := make([]map[string]any, len(s.opts.IssueTypes))
	for i, t := range s.opts.IssueTypes {
		types[i] = map[string]any{"id": strconv.Itoa(10001 + i), "name": t, "subtask": false}
	}
	sim.WriteJSON(w, http.StatusOK, map[string]any{"id": "10000", "key": key, "name": key, "issueTypes": types})
}

// permissionInfo is Jira's ID and name for each project permission offboard needs.
var permissionInfo = map[string][2]string{
	PermBrowse: {"10", "Browse Projects"}, PermCreate: {"11", "Create Issues"}, PermEdit: {"12", "Edit Issues"},
	PermComment: {"15", "Add Comments"}, PermAttach: {"19", "Create Attachments"}, PermTransition: {"46", "Transition Issues"},
}

// permissions is GET /rest/api/3/mypermissions [S: getMyPermissions]: the permissions named in
// the permissions parameter, each with havePermission, in a project's context.
func (s *Server) permissions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if strings.TrimSpace(q.Get("permissions")) == "" {
		fail(w, http.StatusBadRequest, "The permissions query parameter is required.")
		return
	}
	if p := q.Get("projectKey"); p != "" && !slices.Contains(s.opts.Projects, p) {
		fail(w, http.StatusNotFound, "No project could be found with key '"+p+"'.")
		return
	}
	out := map[string]any{}
	for _, key := range strings.Split(q.Get("permissions"), ",") {
		key = strings.TrimSpace(key)
		info, ok := permissionInfo[key]
		if !ok {
			fail(w, http.StatusBadRequest, "Unrecognized permission key: "+key)
			return
		}
		out[key] = map[string]any{"id": info[0], "key": key, "name": info[1], "type": "PROJECT", "havePermission": !s.denied(key)}
	}
	sim.WriteJSON(w, http.StatusOK, map[string]any{"permissions": out})
}

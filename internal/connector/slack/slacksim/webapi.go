package slacksim

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/offboard-dev/offboard/internal/sim"
)

// method is one Web API method: its documented tier (requests per minute), the scope it needs,
// whether it is an admin.* method (Enterprise Grid only) and its handler.
type method struct {
	name  string
	tier  int
	scope string
	admin bool
	serve func(args url.Values) (reply map[string]any, errCode string)
}

// methods is the table the mux is built from; each row cites its source.
func (s *Server) methods() []method {
	return []method{
		// auth.test (spec: auth_test; "special" tier, generous: 100 used).
		{"auth.test", 100, "", false, s.authTest},
		// users.lookupByEmail (spec: users_lookupByEmail; scope users:read.email; Tier 3).
		{"users.lookupByEmail", 50, "users:read.email", false, s.lookupByEmail},
		// users.info (spec: users_info; scope users:read; Tier 4).
		{"users.info", 100, "users:read", false, s.usersInfo},
		// admin.users.session.list (docs.slack.dev/reference/methods/admin.users.session.list;
		// absent from the 2020 spec; scope admin.users:read; Tier 2; Enterprise only).
		{"admin.users.session.list", 20, "admin.users:read", true, s.sessionList},
		// admin.users.session.reset (spec: admin_users_session_reset; scope
		// admin.users:write; Tier 2; Enterprise only; apis.md §5).
		{"admin.users.session.reset", 20, "admin.users:write", true, s.sessionReset},
	}
}

// webMethod serves one method: GET or POST, arguments from the query, a form or a JSON body,
// the token from the Authorization header or the token argument; errors are HTTP 200 with
// ok:false, except the tier's 429.
func (s *Server) webMethod(m method) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			sim.NotImplemented(w, r)
			return
		}
		args, token, bad := readArgs(r)
		switch {
		case bad != "":
			s.fail(w, bad, nil)
			return
		case token == "":
			s.fail(w, "not_authed", nil)
			return
		case s.opts.Token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.Token)) != 1:
			s.fail(w, "invalid_auth", nil)
			return
		}
		w.Header().Set("X-OAuth-Scopes", strings.Join(s.opts.Scopes, ","))
		w.Header().Set("X-Accepted-OAuth-Scopes", m.scope)
		if _, _, reset, ok := s.budgets[m.name].Take(); !ok {
			s.tooMany(w, false, int(reset.Sub(s.opts.Now()).Seconds()+1))
			return
		}
		if m.scope != "" && !slices.Contains(s.opts.Scopes, m.scope) {
			s.fail(w, "missing_scope", map[string]any{"needed": m.scope, "provided": strings.Join(s.opts.Scopes, ",")})
			return
		}
		if m.admin && !s.opts.EnterpriseGrid {
			s.fail(w, "feature_not_enabled", nil)
			return
		}
		reply, code := m.serve(args)
		if code != "" {
			s.fail(w, code, nil)
			return
		}
		reply["ok"] = true
		sim.WriteJSON(w, http.StatusOK, reply)
	}
}

// fail writes Slack's error envelope: HTTP 200, ok false, the error code.
func (s *Server) fail(w http.ResponseWriter, code string, extra map[string]any) {
	body := map[string]any{"ok": false, "error": code}
	for k, v := range extra {
		body[k] = v
	}
	sim.WriteJSON(w, http.StatusOK, body)
}

// readArgs merges the query and the body's arguments and finds the token. bad is Slack's code
// for a body it cannot read.
func readArgs(r *http.Request) (args url.Values, token, bad string) {
	args = r.URL.Query()
	if r.Method == http.MethodPost && r.Body != nil {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, "", "invalid_form_data"
		}
		switch ct {
		case "application/json":
			var m map[string]any
			if len(body) > 0 {
				if json.Unmarshal(body, &m) != nil {
					return nil, "", "invalid_json"
				}
			}
			for k, v := range m {
				switch v := v.(type) {
				case string:
					args.Set(k, v)
				case bool, float64:
					args.Set(k, strings.TrimSpace(strings.Trim(toJSON(v), `"`)))
				default:
					return nil, "", "invalid_arguments"
				}
			}
		case "application/x-www-form-urlencoded", "":
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, "", "invalid_form_data"
			}
			for k, v := range form {
				args[k] = v
			}
		default:
			return nil, "", "invalid_post_type"
		}
	}
	if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(t)
	} else {
		token = args.Get("token")
	}
	return args, token, ""
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) authTest(url.Values) (map[string]any, string) {
	reply := map[string]any{"url": "https://sim.slack.com/", "team": "Sim", "user": "offboard-admin", "team_id": "T0SIMHOME1", "user_id": AdminID}
	if s.opts.EnterpriseGrid {
		reply["enterprise_id"] = EnterpriseID
		reply["is_enterprise_install"] = true
	}
	return reply, ""
}

func (s *Server) lookupByEmail(args url.Values) (map[string]any, string) {
	email := args.Get("email")
	if email == "" {
		return nil, "invalid_arguments"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.order {
		if u := s.users[id]; strings.EqualFold(u.Email, email) {
			return map[string]any{"user": s.userObjectLocked(u)}, ""
		}
	}
	return nil, "users_not_found"
}

func (s *Server) usersInfo(args url.Values) (map[string]any, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[args.Get("user")]
	if !ok {
		return nil, "user_not_found"
	}
	return map[string]any{"user": s.userObjectLocked(u)}, ""
}

// sessionList pages the user's sessions on one workspace; user_id and team_id go together.
func (s *Server) sessionList(args url.Values) (map[string]any, string) {
	userID, teamID := args.Get("user_id"), args.Get("team_id")
	if (userID == "") != (teamID == "") {
		return nil, "invalid_arguments"
	}
	limit := 1000
	if v := args.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, "invalid_limit"
		}
		limit = n
	}
	s.mu.Lock()
	var all []map[string]any
	for _, id := range s.order {
		if userID != "" && id != userID {
			continue
		}
		for _, se := range s.sessions[id] {
			if teamID == "" || se.TeamID == teamID {
				all = append(all, sessionObject(id, se))
			}
		}
	}
	s.mu.Unlock()
	page, next := sim.Page(all, args.Get("cursor"), limit)
	if page == nil {
		page = []map[string]any{}
	}
	return map[string]any{"active_sessions": page, "response_metadata": map[string]any{"next_cursor": next}}, ""
}

func sessionObject(userID string, se Session) map[string]any {
	return map[string]any{
		"user_id": userID, "team_id": se.TeamID, "session_id": se.ID,
		"created": map[string]any{"device_hardware": se.Device, "os": se.OS},
	}
}

// sessionReset signs the user out everywhere. mobile_only/web_only narrow it in Slack; the
// simulator does not model device kinds and refuses them rather than pretend.
func (s *Server) sessionReset(args url.Values) (map[string]any, string) {
	if args.Get("mobile_only") == "true" || args.Get("web_only") == "true" {
		return nil, "invalid_arguments"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[args.Get("user_id")]
	switch {
	case !ok:
		return nil, "user_not_found"
	case u.IsPrimaryOwner:
		return nil, "cannot_reset_primary_owner"
	case u.IsBot:
		return nil, "cannot_reset_bot"
	}
	delete(s.sessions, u.ID)
	return map[string]any{}, ""
}

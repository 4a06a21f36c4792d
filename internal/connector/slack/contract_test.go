package slack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/offboard-dev/offboard/internal/apispec"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/slack/slacksim"
)

// The contract tests check the Web API methods the connector calls, and the simulator's
// answers, against Slack's own description (slackapi/slack-api-specs, Swagger 2.0, last
// regenerated October 2020). SCIM is not part of that description.

const specFile = "slack/slack_web_openapi_v2.json"

// notInSpec lists methods the connector calls that the description predates, with where they
// are documented instead.
var notInSpec = map[string]string{
	// Added in 2021: docs.slack.dev/reference/methods/admin.users.session.list (POST, user_id
	// and team_id together, cursor, limit; scope admin.users:read; Enterprise only).
	"admin.users.session.list": "user_id team_id cursor limit",
}

var (
	specOnce sync.Once
	spec     *openapi3.T
	specErr  error
)

// loadSpec reads the Swagger 2.0 description and converts it with openapi2conv. The file uses
// JSON Schema tuple form (items: [a, b]) in places, which Swagger 2.0 does not allow; each
// such list is replaced by its first schema, which keeps every path, parameter, response and
// the user object's fields.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	path := filepath.Join(apispec.Dir(), specFile)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("Slack API description not found at %s; set OFFBOARD_SPECS_DIR to the folder holding %s to run this contract test", path, specFile)
	}
	specOnce.Do(func() {
		var raw []byte
		if raw, specErr = os.ReadFile(path); specErr != nil {
			return
		}
		var tree any
		if specErr = json.Unmarshal(raw, &tree); specErr != nil {
			return
		}
		if raw, specErr = json.Marshal(untuple(tree)); specErr != nil {
			return
		}
		var doc openapi2.T
		if specErr = json.Unmarshal(raw, &doc); specErr != nil {
			return
		}
		spec, specErr = openapi2conv.ToV3(&doc)
	})
	if specErr != nil {
		t.Fatalf("load %s: %v", path, specErr)
	}
	return spec
}

func untuple(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if list, ok := x.([]any); ok && k == "items" && len(list) > 0 {
				x = list[0]
			}
			v[k] = untuple(x)
		}
	case []any:
		for i, x := range v {
			v[i] = untuple(x)
		}
	}
	return v
}

// operation returns the spec's operation for a Web API method, whichever verb it lists.
func operation(s *openapi3.T, name string) *openapi3.Operation {
	item := s.Paths.Value("/" + name)
	if item == nil {
		return nil
	}
	if item.Get != nil {
		return item.Get
	}
	return item.Post
}

// declaredArgs lists the arguments an operation declares: query parameters and the form or
// JSON body's properties (openapi2conv turns formData parameters into a request body).
func declaredArgs(op *openapi3.Operation) (all, required []string) {
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In != openapi3.ParameterInHeader {
			all = append(all, p.Value.Name)
			if p.Value.Required {
				required = append(required, p.Value.Name)
			}
		}
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		for _, mt := range op.RequestBody.Value.Content {
			if mt.Schema == nil || mt.Schema.Value == nil {
				continue
			}
			for name := range mt.Schema.Value.Properties {
				all = append(all, name)
			}
			required = append(required, mt.Schema.Value.Required...)
		}
	}
	return all, required
}

func scopesOf(op *openapi3.Operation) []string {
	var out []string
	if op.Security != nil {
		for _, req := range *op.Security {
			out = append(out, req["slackAuth"]...)
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "none" })
}

// webCall is one Web API request the connector sent: the method and the argument names.
type webCall struct {
	method string
	args   []string
}

// capture records the Web API calls passing to next, reading the form without consuming it.
func capture(next http.Handler) (http.Handler, func() []webCall) {
	var mu sync.Mutex
	var calls []webCall
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, ok := strings.CutPrefix(r.URL.Path, "/slack/api/"); ok {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			form, _ := url.ParseQuery(string(body))
			var args []string
			for k := range form {
				args = append(args, k)
			}
			for k := range r.URL.Query() {
				args = append(args, k)
			}
			mu.Lock()
			calls = append(calls, webCall{name, args})
			mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
	return h, func() []webCall { mu.Lock(); defer mu.Unlock(); return slices.Clone(calls) }
}

// TestContract checks the connector and the simulator against Slack's Web API description.
func TestContract(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	t.Run("ConnectorCallsDocumentedMethodsWithDeclaredArguments", func(t *testing.T) { connectorCallsDocumentedMethods(t, s) })
	t.Run("SimulatorErrorCodesAreDocumented", func(t *testing.T) { simulatorErrorCodesAreDocumented(t, s) })
	t.Run("SimulatorScopesAreTheSpecs", func(t *testing.T) { simulatorScopesAreTheSpecs(t, s) })
	t.Run("UserFieldsReadAreDeclared", func(t *testing.T) { userFieldsReadAreDeclared(t, s) })
}

func connectorCallsDocumentedMethods(t *testing.T, s *openapi3.T) {
	sm := slacksim.New(slacksim.Options{Token: secretToken, EnterpriseGrid: true})
	seedJane(t, sm, true)
	h, calls := capture(http.StripPrefix("/slack", sm))
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	c := New(Config{BaseURL: ts.URL + "/slack/api", SCIMURL: ts.URL + "/slack/scim/v2", Token: secretToken, EnterpriseGrid: true})
	must(t, c.Check(t.Context()))
	plan := offboard(t, c, jane)
	for _, a := range plan.Actions {
		must(t, c.Apply(t.Context(), a))
	}
	if _, err := c.Plan(t.Context(), connector.Person{Handles: map[string]string{"slack": janeID}}); err != nil {
		t.Fatal(err)
	}

	used := map[string]bool{}
	for _, call := range calls() {
		used[call.method] = true
		op := operation(s, call.method)
		if op == nil {
			declared, ok := notInSpec[call.method]
			if !ok {
				t.Errorf("the connector called %s, which is not in Slack's API description", call.method)
				continue
			}
			for _, a := range call.args {
				if !slices.Contains(strings.Fields(declared), a) {
					t.Errorf("%s sends %q, which its documentation does not list", call.method, a)
				}
			}
			continue
		}
		all, required := declaredArgs(op)
		for _, a := range call.args {
			if !slices.Contains(all, a) {
				t.Errorf("%s sends %q, which %s does not declare (it declares %v)", call.method, a, op.OperationID, all)
			}
		}
		for _, r := range required {
			if r != "token" && !slices.Contains(call.args, r) {
				t.Errorf("%s omits the required argument %q", call.method, r)
			}
		}
		for _, scope := range scopesOf(op) {
			if !slices.Contains(c.requiredScopes(), scope) {
				t.Errorf("%s needs scope %s, which Check does not ask for", call.method, scope)
			}
		}
	}
	for _, want := range []string{"auth.test", "users.lookupByEmail", "users.info", "admin.users.session.list", "admin.users.session.reset"} {
		if !used[want] {
			t.Errorf("the run never called %s; the contract check is missing it", want)
		}
	}
}

// simulatorErrorCodesAreDocumented drives the simulator into each error it models for the
// methods the description enumerates errors for, and checks the code is in that list.
func simulatorErrorCodesAreDocumented(t *testing.T, s *openapi3.T) {
	sm := slacksim.New(slacksim.Options{Token: secretToken, EnterpriseGrid: true})
	ts := httptest.NewServer(sm)
	t.Cleanup(ts.Close)
	for _, tc := range []struct {
		method, token string
		args          url.Values
	}{
		{"auth.test", "", nil},
		{"auth.test", wrongToken, nil},
		{"users.lookupByEmail", secretToken, url.Values{"email": {"nobody@acme.example"}}},
		{"users.lookupByEmail", wrongToken, url.Values{"email": {"nobody@acme.example"}}},
		{"users.info", secretToken, url.Values{"user": {"U0NOBODY"}}},
		{"users.info", "", url.Values{"user": {"U0NOBODY"}}},
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/"+tc.method, strings.NewReader(tc.args.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		var reply webReply
		_ = json.NewDecoder(resp.Body).Decode(&reply)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || reply.OK || reply.Error == "" {
			t.Errorf("%s: HTTP %d %+v, want 200 with ok:false", tc.method, resp.StatusCode, reply)
			continue
		}
		if enum := errorEnum(operation(s, tc.method)); !slices.Contains(enum, reply.Error) {
			t.Errorf("%s answered %s, which the description does not list (%v)", tc.method, reply.Error, enum)
		}
	}
}

func errorEnum(op *openapi3.Operation) []string {
	var out []string
	for _, resp := range op.Responses.Map() {
		if resp.Value == nil {
			continue
		}
		for _, mt := range resp.Value.Content {
			if mt.Schema == nil || mt.Schema.Value == nil || mt.Schema.Value.Properties["error"] == nil {
				continue
			}
			for _, v := range mt.Schema.Value.Properties["error"].Value.Enum {
				out = append(out, v.(string))
			}
		}
	}
	return out
}

// simulatorScopesAreTheSpecs asks the simulator, with a token holding no scopes, which scope
// each method needs (missing_scope names it) and compares with the description.
func simulatorScopesAreTheSpecs(t *testing.T, s *openapi3.T) {
	sm := slacksim.New(slacksim.Options{Token: secretToken, EnterpriseGrid: true, Scopes: []string{}})
	ts := httptest.NewServer(sm)
	t.Cleanup(ts.Close)
	for _, m := range []string{"auth.test", "users.lookupByEmail", "users.info", "admin.users.session.reset"} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/"+m, nil)
		req.Header.Set("Authorization", "Bearer "+secretToken)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		var reply webReply
		_ = json.NewDecoder(resp.Body).Decode(&reply)
		resp.Body.Close()
		want := scopesOf(operation(s, m))
		var got []string
		if reply.Error == "missing_scope" {
			got = []string{reply.Needed}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: the simulator needs %v, the description %v", m, got, want)
		}
	}
}

// userFieldsReadAreDeclared checks the user object's fields the connector relies on exist in
// the description's objs_user and objs_enterprise_user.
func userFieldsReadAreDeclared(t *testing.T, s *openapi3.T) {
	user := s.Components.Schemas["objs_user"]
	if user == nil || user.Value == nil || user.Value.Items == nil || user.Value.Items.Value == nil {
		t.Fatal("objs_user is missing from the description")
	}
	props := user.Value.Items.Value.Properties
	for _, f := range []string{"id", "team_id", "name", "real_name", "deleted", "is_admin", "is_owner", "is_primary_owner", "is_bot", "is_restricted", "profile", "enterprise_user"} {
		if props[f] == nil {
			t.Errorf("objs_user has no %s", f)
		}
	}
	eu := s.Components.Schemas["objs_enterprise_user"]
	if eu == nil || eu.Value.Properties["teams"] == nil {
		t.Error("objs_enterprise_user has no teams")
	}
	if p := s.Components.Schemas["objs_user_profile"]; p == nil || p.Value.Properties["email"] == nil {
		t.Error("objs_user_profile has no email")
	}
}

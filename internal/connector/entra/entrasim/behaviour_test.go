package entrasim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// These tests check that the simulator behaves like Graph and the identity platform as
// documented (apis.md §7, §11), without the connector: statuses, error bodies, paging,
// throttling and the rules that make offboarding from Entra hard.

const (
	tenant = "contoso-tenant"
	client = "app-1"
	secret = "sim-secret-value"
)

type tenantEnv struct {
	*Server
	t     *testing.T
	base  string
	token string
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("body is not JSON: %s", r.body)
	}
	return out
}

// graphError returns the error code and message of a Graph error body.
func (r reply) graphError(t *testing.T) (string, string) {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no Graph error object in %s", r.body)
	}
	if _, ok := e["innerError"].(map[string]any); !ok {
		t.Errorf("Graph error without innerError: %s", r.body)
	}
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	return code, msg
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newTenant mounts a simulator under /graph, seeds Jane and gets a token.
func newTenant(t *testing.T, opts Options) *tenantEnv {
	t.Helper()
	opts.TenantID, opts.ClientID, opts.ClientSecret = tenant, client, secret
	s := New(opts)
	mux := http.NewServeMux()
	mux.Handle("/graph/", http.StripPrefix("/graph", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &tenantEnv{Server: s, t: t, base: ts.URL + "/graph"}
	must(t, s.AddUser(User{ID: "u-jane", UserPrincipalName: "jane@contoso.example", Mail: "jane@contoso.example", Sessions: 2, Licenses: []string{"sku-e3"}}))
	must(t, s.AddUser(User{ID: "u-bob", UserPrincipalName: "bob@contoso.example"}))
	for _, g := range []Group{
		{ID: "g1", DisplayName: "Eng"},
		{ID: "g2", DisplayName: "Team", Kind: Microsoft365, Team: true},
		{ID: "g3", DisplayName: "Dyn", Dynamic: true},
		{ID: "g4", DisplayName: "Synced", Synced: true},
		{ID: "g5", DisplayName: "DL", Kind: Distribution},
		{ID: "g6", DisplayName: "Lic", Licenses: []string{"sku-e5"}},
	} {
		must(t, s.AddGroup(g))
		must(t, s.AddMember(g.ID, "u-jane"))
	}
	must(t, s.AddAuthMethod("u-jane", AuthMethod{ID: "m1", Type: MicrosoftAuthenticator, Detail: "Phone", Default: true}))
	must(t, s.AddAuthMethod("u-jane", AuthMethod{ID: "m2", Type: Fido2, Detail: "Key"}))
	r := e.form("/"+tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}, "scope": {Scope}})
	if r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	e.token = r.json(t)["access_token"].(string)
	return e
}

func (e *tenantEnv) send(req *http.Request) reply {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(e.t, err)
	return reply{resp.StatusCode, resp.Header, body}
}

func (e *tenantEnv) form(path string, v url.Values) reply {
	req, err := http.NewRequest("POST", e.base+path, strings.NewReader(v.Encode()))
	must(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.send(req)
}

// do calls Graph with the tenant's token; target is a path under /graph or an absolute URL.
func (e *tenantEnv) do(method, target, body string) reply {
	e.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = e.base + target
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	must(e.t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.send(req)
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	e := newTenant(t, Options{})
	tests := []struct {
		name   string
		path   string
		form   url.Values
		status int
		code   string
		aadsts string
	}{
		{"wrong secret", "/" + tenant + "/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {"nope"}, "scope": {Scope}}, 401, "invalid_client", "AADSTS7000215"},
		{"unknown client", "/" + tenant + "/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"other"}, "client_secret": {secret}, "scope": {Scope}}, 400, "unauthorized_client", "AADSTS700016"},
		{"unknown tenant", "/other/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}, "scope": {Scope}}, 400, "invalid_request", "AADSTS90002"},
		{"scope without .default", "/" + tenant + "/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}, "scope": {"User.Read"}}, 400, "invalid_scope", "AADSTS1002012"},
	}
	for _, tt := range tests {
		r := e.form(tt.path, tt.form)
		body := r.json(t)
		if r.status != tt.status || body["error"] != tt.code || !strings.HasPrefix(body["error_description"].(string), tt.aadsts+":") {
			t.Errorf("%s: %d %s, want %d %s %s", tt.name, r.status, r.body, tt.status, tt.code, tt.aadsts)
		}
	}
	for _, auth := range []string{"", "Bearer not-a-token"} {
		req, _ := http.NewRequest("GET", e.base+"/v1.0/users", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		r := e.send(req)
		if code, _ := r.graphError(t); r.status != 401 || code != "InvalidAuthenticationToken" {
			t.Errorf("Graph with authorization %q: %d %s, want 401 InvalidAuthenticationToken", auth, r.status, r.body)
		}
	}
}

func TestUsersFilterAndSelect(t *testing.T) {
	t.Parallel()
	e := newTenant(t, Options{})
	q := url.Values{"$filter": {"userPrincipalName eq 'JANE@contoso.example' or mail eq 'JANE@contoso.example'"}, "$select": {"id,accountEnabled"}}
	r := e.do("GET", "/v1.0/users?"+q.Encode(), "")
	users := r.json(t)["value"].([]any)
	if r.status != 200 || len(users) != 1 {
		t.Fatalf("filter by UPN or mail: %d %s", r.status, r.body)
	}
	u := users[0].(map[string]any)
	if u["id"] != "u-jane" || u["accountEnabled"] != true || u["userPrincipalName"] != nil {
		t.Errorf("$select not honoured: %v", u)
	}
	r = e.do("GET", "/v1.0/users?"+url.Values{"$filter": {"startswith(displayName,'J')"}}.Encode(), "")
	if code, _ := r.graphError(t); r.status != 400 || code != "Request_UnsupportedQuery" {
		t.Errorf("unsupported filter: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/v1.0/users/jane@contoso.example?$select=licenseAssignmentStates", "")
	states := r.json(t)["licenseAssignmentStates"].([]any)
	if len(states) != 2 {
		t.Errorf("licence states %v, want direct sku-e3 and sku-e5 from group g6", states)
	}
	if r := e.do("GET", "/v1.0/users/nobody@contoso.example", ""); r.status != 404 {
		t.Errorf("unknown user: %d", r.status)
	} else if code, _ := r.graphError(t); code != "Request_ResourceNotFound" {
		t.Errorf("unknown user code %s", code)
	}
}

func TestMemberOfPagingKeepsPrefix(t *testing.T) {
	t.Parallel()
	e := newTenant(t, Options{MaxPage: 4})
	var ids []string
	next := "/v1.0/users/u-jane/memberOf?$top=999"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		body := e.do("GET", next, "").json(t)
		for _, v := range body["value"].([]any) {
			ids = append(ids, v.(map[string]any)["id"].(string))
		}
		next, _ = body["@odata.nextLink"].(string)
		if next != "" && !strings.HasPrefix(next, e.base+"/v1.0/users/u-jane/memberOf?") {
			t.Fatalf("nextLink %q does not keep the /graph mount prefix", next)
		}
	}
	if strings.Join(ids, ",") != "g1,g2,g3,g4,g5,g6" {
		t.Errorf("memberOf across pages: %v", ids)
	}
}

func TestGroupMemberRemoval(t *testing.T) {
	t.Parallel()
	e := newTenant(t, Options{})
	tests := []struct {
		group  string
		status int
		code   string
	}{
		{"g1", 204, ""},
		{"g1", 404, "Request_ResourceNotFound"}, // not a member any more
		{"g2", 204, ""},
		{"g3", 400, "Request_BadRequest"}, // dynamic
		{"g4", 400, "Request_BadRequest"}, // synced from AD
		{"g5", 400, "Request_BadRequest"}, // distribution list
		{"g9", 404, "Request_ResourceNotFound"},
	}
	for _, tt := range tests {
		r := e.do("DELETE", "/v1.0/groups/"+tt.group+"/members/u-jane/$ref", "")
		if r.status != tt.status {
			t.Errorf("remove from %s: %d %s, want %d", tt.group, r.status, r.body, tt.status)
			continue
		}
		if tt.code != "" {
			if code, _ := r.graphError(t); code != tt.code {
				t.Errorf("remove from %s: code %s, want %s", tt.group, code, tt.code)
			}
		}
	}
	e.Deny("GroupMember.ReadWrite.All")
	r := e.do("DELETE", "/v1.0/groups/g6/members/u-jane/$ref", "")
	if code, _ := r.graphError(t); r.status != 403 || code != "Authorization_RequestDenied" {
		t.Errorf("without permission: %d %s", r.status, r.body)
	}
}

func TestAuthenticationMethodRules(t *testing.T) {
	t.Parallel()
	e := newTenant(t, Options{})
	pref := e.do("GET", "/beta/users/u-jane/authentication/signInPreferences", "").json(t)
	if pref["userPreferredMethodForSecondaryAuthentication"] != "push" {
		t.Errorf("sign-in preferences: %v, want push for the default Authenticator", pref)
	}
	r := e.do("DELETE", "/v1.0/users/u-jane/authentication/microsoftAuthenticatorMethods/m1", "")
	if _, msg := r.graphError(t); r.status != 400 || !strings.Contains(msg, "Cannot delete default method") {
		t.Errorf("delete default while others remain: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/v1.0/users/u-jane/authentication/phoneMethods/m2", ""); r.status != 404 {
		t.Errorf("delete through the wrong type's collection: %d, want 404", r.status)
	}
	if r := e.do("DELETE", "/v1.0/users/u-jane/authentication/fido2Methods/m2", ""); r.status != 204 {
		t.Errorf("delete FIDO2 key: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/v1.0/users/u-jane/authentication/microsoftAuthenticatorMethods/m1", ""); r.status != 204 {
		t.Errorf("delete the default once alone: %d %s", r.status, r.body)
	}
	methods := e.do("GET", "/v1.0/users/u-jane/authentication/methods", "").json(t)["value"].([]any)
	if len(methods) != 1 || methods[0].(map[string]any)["@odata.type"] != "#microsoft.graph.passwordAuthenticationMethod" {
		t.Fatalf("methods left: %v", methods)
	}
	pw := methods[0].(map[string]any)["id"].(string)
	if r := e.do("DELETE", "/v1.0/users/u-jane/authentication/passwordMethods/"+pw, ""); r.status != 400 {
		t.Errorf("delete password: %d, want 400", r.status)
	}
	if r := e.do("DELETE", "/v1.0/users/u-jane/authentication/voodooMethods/x", ""); r.status != 501 {
		t.Errorf("unknown method collection: %d, want 501", r.status)
	}
}

func TestLicencesSessionsAndDisable(t *testing.T) {
	t.Parallel()
	e := newTenant(t, Options{})
	r := e.do("POST", "/v1.0/users/u-jane/assignLicense", `{"addLicenses":[],"removeLicenses":["sku-e5"]}`)
	if _, msg := r.graphError(t); r.status != 400 || !strings.Contains(msg, "inherited from group membership") {
		t.Errorf("remove inherited licence: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1.0/users/u-jane/assignLicense", `{"removeLicenses":["sku-e3"]}`); r.status != 400 {
		t.Errorf("assignLicense without addLicenses: %d, want 400", r.status)
	}
	if r := e.do("POST", "/v1.0/users/u-jane/assignLicense", `{"addLicenses":[],"removeLicenses":["sku-e3"]}`); r.status != 200 {
		t.Errorf("remove direct licence: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1.0/users/u-jane/assignLicense", `{"addLicenses":[],"removeLicenses":["sku-e3"]}`); r.status != 400 {
		t.Errorf("remove a licence no longer held: %d, want 400", r.status)
	}
	r = e.do("POST", "/v1.0/users/u-jane/revokeSignInSessions", "")
	if r.status != 200 || r.json(t)["value"] != true {
		t.Errorf("revoke: %d %s", r.status, r.body)
	}
	if r := e.do("PATCH", "/v1.0/users/u-jane", `{"accountEnabled":false}`); r.status != 204 {
		t.Errorf("disable: %d %s", r.status, r.body)
	}
	for _, h := range e.Holdings("jane@contoso.example") {
		if strings.Contains(h, "session") || strings.Contains(h, "enabled") || strings.Contains(h, "licence") {
			t.Errorf("still held after revoke, disable and licence removal: %s", h)
		}
	}
}

func TestThrottleAndUnknownEndpoints(t *testing.T) {
	t.Parallel()
	e := newTenant(t, Options{RetryAfter: 7})
	e.Faults.ThrottleNext(1)
	r := e.do("GET", "/v1.0/users/u-jane", "")
	if code, _ := r.graphError(t); r.status != 429 || r.header.Get("Retry-After") != "7" || code != "TooManyRequests" {
		t.Errorf("throttled: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if r := e.do("GET", "/v1.0/users/u-jane", ""); r.status != 200 {
		t.Errorf("after the throttle: %d", r.status)
	}
	if r := e.do("DELETE", "/v1.0/users/u-jane", ""); r.status != 501 {
		t.Errorf("user deletion (not simulated): %d, want 501", r.status)
	}
}

func TestHoldingsEmptyWhenOffboarded(t *testing.T) {
	t.Parallel()
	e := newTenant(t, Options{})
	if len(e.Holdings("u-jane")) == 0 {
		t.Fatal("Jane holds nothing before offboarding")
	}
	for _, call := range []struct{ method, path, body string }{
		{"POST", "/v1.0/users/u-jane/revokeSignInSessions", ""},
		{"DELETE", "/v1.0/groups/g1/members/u-jane/$ref", ""},
		{"DELETE", "/v1.0/groups/g2/members/u-jane/$ref", ""},
		{"DELETE", "/v1.0/groups/g6/members/u-jane/$ref", ""},
		{"DELETE", "/v1.0/users/u-jane/authentication/fido2Methods/m2", ""},
		{"DELETE", "/v1.0/users/u-jane/authentication/microsoftAuthenticatorMethods/m1", ""},
		{"POST", "/v1.0/users/u-jane/assignLicense", `{"addLicenses":[],"removeLicenses":["sku-e3"]}`},
		{"PATCH", "/v1.0/users/u-jane", `{"accountEnabled":false}`},
	} {
		if r := e.do(call.method, call.path, call.body); r.status >= 300 {
			t.Fatalf("%s %s: %d %s", call.method, call.path, r.status, r.body)
		}
	}
	if got := e.Holdings("jane@contoso.example"); len(got) != 0 {
		t.Errorf("holdings after offboarding: %v (dynamic, synced and distribution groups are not listed)", got)
	}
}

func TestPagingSurvivesRemovalBetweenPages(t *testing.T) {
	t.Parallel()
	e := newTenant(t, Options{MaxPage: 3})
	first := e.do("GET", "/v1.0/users/u-jane/memberOf", "").json(t)
	if r := e.do("DELETE", "/v1.0/groups/g1/members/u-jane/$ref", ""); r.status != 204 {
		t.Fatalf("remove g1: %d", r.status)
	}
	second := e.do("GET", first["@odata.nextLink"].(string), "").json(t)
	var ids []string
	for _, v := range second["value"].([]any) {
		ids = append(ids, v.(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "g4,g5,g6" {
		t.Errorf("second page after a removal from the first: %v, want g4,g5,g6 (nothing skipped)", ids)
	}
}

package googlesim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests drive the simulator with plain HTTP, as Google's documentation describes the
// API, without the connector: they pin down that it behaves like the vendor.

var (
	saOnce sync.Once
	sa     *ServiceAccount
	other  *ServiceAccount
)

func accounts(t *testing.T) (*ServiceAccount, *ServiceAccount) {
	t.Helper()
	saOnce.Do(func() {
		var err error
		if sa, err = NewServiceAccount("svc@proj.iam.gserviceaccount.com"); err != nil {
			panic(err)
		}
		if other, err = NewServiceAccount("svc@proj.iam.gserviceaccount.com"); err != nil {
			panic(err)
		}
	})
	return sa, other
}

// tenant is a simulator mounted under /g with an admin, a member and a few holdings.
type tenant struct {
	s    *Server
	base string
}

func newTenant(t *testing.T, opts Options) *tenant {
	t.Helper()
	good, _ := accounts(t)
	opts.ServiceAccount = good
	s := New(opts)
	mux := http.NewServeMux()
	mux.Handle("/g/", http.StripPrefix("/g", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	steps := []error{
		errOf(s.AddUser(User{ID: "1admin", Email: "admin@acme.example", Admin: true})),
		errOf(s.AddUser(User{ID: "1jane", Email: "jane@acme.example", Enrolled2SV: true, Sessions: 2, OwnsData: true})),
		errOf(s.AddUser(User{ID: "1mgr", Email: "mgr@acme.example"})),
		s.AddToken("jane@acme.example", Token{ClientID: "c1", DisplayText: "Slack"}),
		errOf(s.AddASP("jane@acme.example", "mail")),
		s.AddBackupCodes("jane@acme.example", 3),
	}
	for i := range 5 {
		email := "g" + string(rune('a'+i)) + "@acme.example"
		steps = append(steps, errOf(s.AddGroup(Group{Email: email})), s.AddMember(email, "jane@acme.example", ""))
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &tenant{s: s, base: ts.URL + "/g"}
}

func errOf[T any](_ T, err error) error { return err }

// assertion signs claims as a service account does (RFC 7523 JWT, RS256).
func assertion(t *testing.T, key *ServiceAccount, c claims) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": key.KeyID}) + "." + enc(c)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key.Key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (tn *tenant) claims(scopes ...string) claims {
	now := time.Now()
	if len(scopes) == 0 {
		scopes = allScopes
	}
	return claims{Iss: sa.Email, Sub: "admin@acme.example", Scope: strings.Join(scopes, " "), Aud: tn.base + "/token", Iat: now.Unix(), Exp: now.Add(time.Hour).Unix()}
}

type reply struct {
	status int
	body   map[string]any
	raw    string
}

func send(t *testing.T, method, u, token string, form url.Values, body string) reply {
	t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	} else if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, u, rd)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: string(b)}
	_ = json.Unmarshal(b, &r.body)
	return r
}

func (tn *tenant) exchange(t *testing.T, a string) reply {
	return send(t, "POST", tn.base+"/token", "", url.Values{"grant_type": {jwtBearer}, "assertion": {a}}, "")
}

func (tn *tenant) token(t *testing.T, scopes ...string) string {
	t.Helper()
	r := tn.exchange(t, assertion(t, sa, tn.claims(scopes...)))
	if r.status != 200 {
		t.Fatalf("token exchange: %d %s", r.status, r.raw)
	}
	return r.body["access_token"].(string)
}

// reason reads the first error reason of Google's envelope, checking its shape.
func reason(t *testing.T, r reply) string {
	t.Helper()
	e, _ := r.body["error"].(map[string]any)
	errs, _ := e["errors"].([]any)
	if e == nil || int(e["code"].(float64)) != r.status || e["status"] == "" || e["message"] == "" || len(errs) != 1 {
		t.Fatalf("not Google's error envelope: %d %s", r.status, r.raw)
	}
	return errs[0].(map[string]any)["reason"].(string)
}

func TestTokenEndpointChecksTheAssertion(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, Options{DelegatedScopes: []string{ScopeUser, ScopeUserSecurity}})
	_, wrong := accounts(t)
	expired := tn.claims(ScopeUser)
	expired.Iat, expired.Exp = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
	stranger := tn.claims(ScopeUser)
	stranger.Sub = "who@else.example"
	otherIss := tn.claims(ScopeUser)
	otherIss.Iss = "intruder@proj.iam.gserviceaccount.com"
	noPrefix := tn.claims(ScopeUser)
	noPrefix.Aud = strings.TrimSuffix(tn.base, "/g") + "/token"
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"signed by the service account", url.Values{"grant_type": {jwtBearer}, "assertion": {assertion(t, sa, tn.claims(ScopeUser))}}, 200, ""},
		{"signed by another key", url.Values{"grant_type": {jwtBearer}, "assertion": {assertion(t, wrong, tn.claims(ScopeUser))}}, 400, "invalid_grant"},
		{"unknown issuer", url.Values{"grant_type": {jwtBearer}, "assertion": {assertion(t, sa, otherIss)}}, 401, "invalid_client"},
		{"scope not delegated", url.Values{"grant_type": {jwtBearer}, "assertion": {assertion(t, sa, tn.claims(ScopeUser, ScopeGroup))}}, 401, "unauthorized_client"},
		{"subject not in the domain", url.Values{"grant_type": {jwtBearer}, "assertion": {assertion(t, sa, stranger)}}, 400, "invalid_grant"},
		{"expired", url.Values{"grant_type": {jwtBearer}, "assertion": {assertion(t, sa, expired)}}, 400, "invalid_grant"},
		{"audience without the mount prefix", url.Values{"grant_type": {jwtBearer}, "assertion": {assertion(t, sa, noPrefix)}}, 400, "invalid_grant"},
		{"wrong grant type", url.Values{"grant_type": {"client_credentials"}}, 400, "unsupported_grant_type"},
		{"garbage assertion", url.Values{"grant_type": {jwtBearer}, "assertion": {"a.b"}}, 400, "invalid_grant"},
	}
	for _, tt := range tests {
		r := send(t, "POST", tn.base+"/token", "", tt.form, "")
		if r.status != tt.status || (tt.code != "" && r.body["error"] != tt.code) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, r.status, r.raw, tt.status, tt.code)
		}
		if tt.status == 200 && (r.body["token_type"] != "Bearer" || r.body["expires_in"] == nil) {
			t.Errorf("%s: token response %s", tt.name, r.raw)
		}
	}
}

func TestAPIChecksTokensAndScopes(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, Options{})
	u := tn.base + "/admin/directory/v1/users/jane@acme.example"
	if r := send(t, "GET", u, "", nil, ""); r.status != 401 || reason(t, r) != "authError" {
		t.Errorf("no token: %d %s", r.status, r.raw)
	}
	if r := send(t, "GET", u, "ya29.forged", nil, ""); r.status != 401 {
		t.Errorf("forged token: %d", r.status)
	}
	groupsOnly := tn.token(t, ScopeGroupReadonly)
	if r := send(t, "GET", u, groupsOnly, nil, ""); r.status != 403 || reason(t, r) != "insufficientPermissions" {
		t.Errorf("wrong scope: %d %s", r.status, r.raw)
	}
	c := tn.claims(ScopeUser)
	c.Sub = "mgr@acme.example"
	r := tn.exchange(t, assertion(t, sa, c))
	if r := send(t, "GET", u, r.body["access_token"].(string), nil, ""); r.status != 403 || reason(t, r) != "forbidden" {
		t.Errorf("non-admin subject: %d %s", r.status, r.raw)
	}
	tok := tn.token(t)
	if r := send(t, "GET", u, tok, nil, ""); r.status != 200 || r.body["id"] != "1jane" || r.body["isEnrolledIn2Sv"] != true {
		t.Errorf("get user: %d %s", r.status, r.raw)
	}
	if r := send(t, "GET", tn.base+"/admin/directory/v1/users/ghost@acme.example", tok, nil, ""); r.status != 404 || reason(t, r) != "notFound" {
		t.Errorf("unknown user: %d %s", r.status, r.raw)
	}
	if r := send(t, "DELETE", u, tok, nil, ""); r.status != 501 {
		t.Errorf("user delete is not offboarding's and must be unimplemented: %d", r.status)
	}
}

func TestGroupsPageWithTokens(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, Options{PageSize: 2})
	tok := tn.token(t)
	var emails []string
	next, pages := "", 0
	for {
		q := url.Values{"userKey": {"jane@acme.example"}, "maxResults": {"200"}}
		if next != "" {
			q.Set("pageToken", next)
		}
		r := send(t, "GET", tn.base+"/admin/directory/v1/groups?"+q.Encode(), tok, nil, "")
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.raw)
		}
		pages++
		for _, g := range r.body["groups"].([]any) {
			emails = append(emails, g.(map[string]any)["email"].(string))
		}
		next, _ = r.body["nextPageToken"].(string)
		if next == "" {
			break
		}
	}
	if pages != 3 || len(emails) != 5 {
		t.Errorf("%d pages, groups %v; want 3 pages of 5 groups", pages, emails)
	}
	if r := send(t, "GET", tn.base+"/admin/directory/v1/groups?userKey=jane@acme.example&maxResults=201", tok, nil, ""); r.status != 400 {
		t.Errorf("maxResults over 200: %d", r.status)
	}
}

func TestThrottleShapes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts   Options
		status int
		reason string
	}{
		{Options{}, 403, "userRateLimitExceeded"},
		{Options{Throttle429: true}, 429, "rateLimitExceeded"},
	} {
		tn := newTenant(t, tt.opts)
		tok := tn.token(t)
		tn.s.Faults.ThrottleNext(1)
		r := send(t, "GET", tn.base+"/admin/directory/v1/users/jane@acme.example", tok, nil, "")
		if r.status != tt.status || reason(t, r) != tt.reason || r.body["error"].(map[string]any)["errors"].([]any)[0].(map[string]any)["domain"] != "usageLimits" {
			t.Errorf("throttled: %d %s", r.status, r.raw)
		}
	}
}

func TestTwoStepVerificationTurnOff(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, Options{})
	tok := tn.token(t)
	off := tn.base + "/admin/directory/v1/users/jane@acme.example/twoStepVerification/turnOff"
	if err := tn.s.SetEnforced2SV("jane@acme.example", true); err != nil {
		t.Fatal(err)
	}
	if r := send(t, "POST", off, tok, nil, ""); r.status != 400 || !strings.Contains(r.raw, "enforced") {
		t.Errorf("turnOff while enforced: %d %s", r.status, r.raw)
	}
	_ = tn.s.SetEnforced2SV("jane@acme.example", false)
	if r := send(t, "POST", off, tok, nil, ""); r.status != 204 {
		t.Errorf("turnOff: %d %s", r.status, r.raw)
	}
	if r := send(t, "POST", off, tok, nil, ""); r.status != 400 {
		t.Errorf("turnOff when not enrolled: %d", r.status)
	}
	for _, what := range []string{"asps", "verificationCodes"} {
		if r := send(t, "GET", tn.base+"/admin/directory/v1/users/jane@acme.example/"+what, tok, nil, ""); r.status != 200 || r.body["items"] != nil {
			t.Errorf("%s after turnOff: %s", what, r.raw)
		}
	}
}

func TestTransferGoesThroughItsStates(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, Options{})
	tok := tn.token(t)
	body := `{"oldOwnerUserId":"1jane","newOwnerUserId":"1mgr","applicationDataTransfers":[{"applicationId":"55656082996","applicationTransferParams":[{"key":"PRIVACY_LEVEL","value":["PRIVATE","SHARED"]}]},{"applicationId":435070579839}]}`
	r := send(t, "POST", tn.base+"/admin/datatransfer/v1/transfers", tok, nil, body)
	if r.status != 200 || r.body["overallTransferStatusCode"] != "new" {
		t.Fatalf("insert: %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	var states []string
	for range 4 {
		r := send(t, "GET", tn.base+"/admin/datatransfer/v1/transfers/"+id, tok, nil, "")
		states = append(states, r.body["overallTransferStatusCode"].(string))
	}
	if got := strings.Join(states, ","); got != "new,inProgress,completed,completed" {
		t.Errorf("states = %s", got)
	}
	r = send(t, "GET", tn.base+"/admin/datatransfer/v1/transfers?oldOwnerUserId=1jane&newOwnerUserId=1mgr", tok, nil, "")
	list, _ := r.body["dataTransfers"].([]any)
	if len(list) != 1 || !strings.Contains(r.raw, `"applicationId":"435070579839"`) {
		t.Errorf("list: %s", r.raw)
	}
	if r := send(t, "POST", tn.base+"/admin/datatransfer/v1/transfers", tok, nil, `{"oldOwnerUserId":"jane@acme.example","newOwnerUserId":"1mgr","applicationDataTransfers":[{"applicationId":"55656082996"}]}`); r.status != 400 {
		t.Errorf("owners by email must be refused (IDs only): %d", r.status)
	}
}

// TestHeldTransferStaysInProgress protects the simulator's stand-in for a large Drive: a held
// transfer is read as inProgress however often, and completes once released.
func TestHeldTransferStaysInProgress(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, Options{})
	tn.s.HoldTransfers(true)
	tok := tn.token(t)
	r := send(t, "POST", tn.base+"/admin/datatransfer/v1/transfers", tok, nil, `{"oldOwnerUserId":"1jane","newOwnerUserId":"1mgr","applicationDataTransfers":[{"applicationId":"55656082996"}]}`)
	if r.status != 200 {
		t.Fatalf("insert: %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	read := func() string {
		return send(t, "GET", tn.base+"/admin/datatransfer/v1/transfers/"+id, tok, nil, "").body["overallTransferStatusCode"].(string)
	}
	var states []string
	for range 5 {
		states = append(states, read())
	}
	if got := strings.Join(states, ","); got != "new,inProgress,inProgress,inProgress,inProgress" {
		t.Errorf("held states = %s", got)
	}
	tn.s.HoldTransfers(false)
	if got := read(); got != "completed" {
		t.Errorf("after release: %s", got)
	}
}

// TestHoldingsEmptyOnceOffboarded protects the end-to-end proof: Holdings names every access,
// and nothing once each is removed through the API.
func TestHoldingsEmptyOnceOffboarded(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, Options{TransferReads: -1})
	if h := tn.s.Holdings("jane@acme.example"); len(h) != 12 {
		t.Fatalf("holdings = %d %v, want 12", len(h), h)
	}
	tok := tn.token(t)
	dir := tn.base + "/admin/directory/v1"
	calls := []struct{ method, path, body string }{
		{"POST", "/admin/datatransfer/v1/transfers", `{"oldOwnerUserId":"1jane","newOwnerUserId":"1mgr","applicationDataTransfers":[{"applicationId":"55656082996"}]}`},
		{"POST", "/admin/directory/v1/users/1jane/signOut", ""},
		{"DELETE", "/admin/directory/v1/users/1jane/tokens/c1", ""},
		{"DELETE", "/admin/directory/v1/users/1jane/asps/1", ""},
		{"POST", "/admin/directory/v1/users/1jane/verificationCodes/invalidate", ""},
		{"POST", "/admin/directory/v1/users/1jane/twoStepVerification/turnOff", ""},
		{"PATCH", "/admin/directory/v1/users/1jane", `{"suspended":true}`},
	}
	for _, g := range []string{"ga", "gb", "gc", "gd", "ge"} {
		calls = append(calls, struct{ method, path, body string }{"DELETE", "/admin/directory/v1/groups/" + g + "@acme.example/members/jane@acme.example", ""})
	}
	for _, c := range calls {
		if r := send(t, c.method, tn.base+c.path, tok, nil, c.body); r.status >= 300 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, r.status, r.raw)
		}
	}
	if r := send(t, "DELETE", dir+"/groups/ga@acme.example/members/jane@acme.example", tok, nil, ""); r.status != 404 {
		t.Errorf("removing a membership twice: %d", r.status)
	}
	if h := tn.s.Holdings("jane@acme.example"); len(h) != 0 {
		t.Errorf("still held: %v", h)
	}
	if tn.s.TransferStatus("jane@acme.example", "mgr@acme.example") != "completed" {
		t.Error("transfer not completed")
	}
}

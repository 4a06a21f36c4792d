package oktasim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

const testToken = "sim-test-token-0123456789"

// org is a simulator mounted under a prefix, with a seeded leaver.
type org struct {
	*Server
	url string
}

func newOrg(t *testing.T, opts Options) *org {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	s := New(opts)
	mux := http.NewServeMux()
	mux.Handle("/okta/", http.StripPrefix("/okta", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	o := &org{Server: s, url: ts.URL + "/okta"}
	must(t, s.AddUser(User{ID: "00ujane", Login: "jane@acme.example", FirstName: "Jane", LastName: "Doe", Sessions: 2}))
	must(t, s.AddGroup(Group{ID: "00gstatic", Name: "Engineering"}))
	must(t, s.AddGroup(Group{ID: "00grule", Name: "All staff"}))
	must(t, s.AddGroup(Group{ID: "00gad", Name: "VPN users", Type: AppGroup, Source: "Active Directory (corp.acme.example)"}))
	must(t, s.AddMember("00gstatic", "00ujane"))
	must(t, s.AddMember("00gad", "00ujane"))
	must(t, s.AddRule(Rule{ID: "0prstaff", Name: "Staff", GroupIDs: []string{"00grule"}, Matches: []string{"00ujane"}}))
	must(t, s.AddFactor("00ujane", Factor{ID: "mfapush", Type: "push"}))
	must(t, s.AddFactor("00ujane", Factor{ID: "mfatotp", Type: "token:software:totp"}))
	must(t, s.AddFactor("00ujane", Factor{ID: "mfasms", Type: "sms"}))
	must(t, s.AddClientToken("00ujane", ClientToken{ClientID: "0oaslack", ClientName: "Slack", TokenID: "oar1"}))
	return o
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) errorCode(t *testing.T) string {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body is not Okta's Error schema: %v: %s", err, r.body)
	}
	if e.ErrorSummary == "" || e.ErrorID == "" || e.ErrorCauses == nil {
		t.Errorf("error body lacks errorSummary, errorId or errorCauses: %s", r.body)
	}
	return e.ErrorCode
}

func (o *org) call(t *testing.T, method, path, token string) reply {
	t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = o.url + path
	}
	req, err := http.NewRequest(method, target, nil)
	must(t, err)
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: body}
}

func (o *org) do(t *testing.T, method, path string) reply {
	t.Helper()
	return o.call(t, method, path, testToken)
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{})
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"right token", "SSWS " + testToken, 200},
		{"no header", "", 401},
		{"wrong token", "SSWS wrong-token", 401},
		{"bearer scheme with the API token", "Bearer " + testToken, 401},
		{"token without scheme", testToken, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", o.url+"/api/v1/users/me", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == 401 {
				if code := (reply{body: body}).errorCode(t); code != "E0000011" {
					t.Errorf("errorCode %s, want E0000011", code)
				}
			}
		})
	}
}

func TestMeIsTheTokensAdmin(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{})
	var u struct{ ID string }
	must(t, json.Unmarshal(o.do(t, "GET", "/api/v1/users/me").body, &u))
	if u.ID != AdminID {
		t.Errorf("me is %s, want %s", u.ID, AdminID)
	}
}

func TestUserLookup(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{})
	tests := []struct {
		idOrLogin string
		want      int
	}{
		{"00ujane", 200},
		{"jane%40acme.example", 200},
		{"JANE%40ACME.EXAMPLE", 200},
		{"jane", 200}, // login shortname
		{"nobody%40acme.example", 404},
		{"a%2Fb%40acme.example", 404}, // logins with "/" only by ID
	}
	for _, tt := range tests {
		if got := o.do(t, "GET", "/api/v1/users/"+tt.idOrLogin); got.status != tt.want {
			t.Errorf("GET user %s: %d, want %d", tt.idOrLogin, got.status, tt.want)
		} else if tt.want == 404 && got.errorCode(t) != "E0000007" {
			t.Errorf("GET user %s: not E0000007", tt.idOrLogin)
		}
	}
}

func TestPaginationFollowsLinkHeaders(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{PageSize: 3})
	for i := range 10 {
		id := "00gmany" + strconv.Itoa(i)
		must(t, o.AddGroup(Group{ID: id, Name: "Many " + strconv.Itoa(i)}))
		must(t, o.AddMember(id, "00ujane"))
	}
	want := len(o.GroupsOf("00ujane"))
	tests := []struct {
		name      string
		query     string
		wantPages int
	}{
		{"default page size", "", (want + 2) / 3},
		{"limit honoured", "?limit=5", (want + 4) / 5},
		{"limit capped at 200", "?limit=1000", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := o.url + "/api/v1/users/00ujane/groups" + tt.query
			seen, pages := 0, 0
			for next != "" {
				r := o.do(t, "GET", next)
				if r.status != 200 {
					t.Fatalf("page %d: %d %s", pages, r.status, r.body)
				}
				var items []map[string]any
				must(t, json.Unmarshal(r.body, &items))
				seen += len(items)
				pages++
				if !strings.Contains(strings.Join(r.header.Values("Link"), ","), `rel="self"`) {
					t.Errorf("page %d has no rel=self link", pages)
				}
				next = connector.NextLink(r.header)
				if next != "" && !strings.HasPrefix(next, o.url+"/api/v1/users/00ujane/groups?") {
					t.Fatalf("next link %q lost the mount prefix or path", next)
				}
				if pages > 20 {
					t.Fatal("pagination does not end")
				}
			}
			if seen != want || pages != tt.wantPages {
				t.Errorf("saw %d groups in %d pages, want %d in %d", seen, pages, want, tt.wantPages)
			}
		})
	}
	if r := o.do(t, "GET", "/api/v1/users/00ujane/groups?limit=0"); r.status != 400 || r.errorCode(t) != "E0000001" {
		t.Errorf("limit=0: %d, want 400 E0000001", r.status)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRateLimitHeadersAndBudget(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 10, 0, time.UTC)}
	o := newOrg(t, Options{PerMinute: 3, Now: clock.Now})
	reset := strconv.FormatInt(time.Date(2026, 3, 2, 9, 1, 0, 0, time.UTC).Unix(), 10)
	tests := []struct {
		name          string
		token         string
		wantStatus    int
		wantRemaining string
		wantCode      string
	}{
		{"first", testToken, 200, "2", ""},
		{"unauthorised requests are charged too", "bad", 401, "1", "E0000011"},
		{"last in budget", testToken, 200, "0", ""},
		{"over budget", testToken, 429, "0", "E0000047"},
	}
	for _, tt := range tests {
		r := o.call(t, "GET", "/api/v1/users/me", tt.token)
		if r.status != tt.wantStatus {
			t.Fatalf("%s: status %d, want %d", tt.name, r.status, tt.wantStatus)
		}
		h := r.header
		if h.Get("X-Rate-Limit-Limit") != "3" || h.Get("X-Rate-Limit-Remaining") != tt.wantRemaining || h.Get("X-Rate-Limit-Reset") != reset {
			t.Errorf("%s: headers limit=%s remaining=%s reset=%s, want 3/%s/%s", tt.name,
				h.Get("X-Rate-Limit-Limit"), h.Get("X-Rate-Limit-Remaining"), h.Get("X-Rate-Limit-Reset"), tt.wantRemaining, reset)
		}
		if tt.wantCode != "" && r.errorCode(t) != tt.wantCode {
			t.Errorf("%s: want %s", tt.name, tt.wantCode)
		}
	}
	clock.Add(time.Minute)
	if r := o.do(t, "GET", "/api/v1/users/me"); r.status != 200 {
		t.Errorf("after the window reset: %d", r.status)
	}
}

func TestInjectedThrottleIsOktas429(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{})
	o.Faults.ThrottleNext(1)
	r := o.do(t, "GET", "/api/v1/users/me")
	if r.status != 429 || r.errorCode(t) != "E0000047" {
		t.Fatalf("status %d, want 429 E0000047", r.status)
	}
	reset, _ := strconv.ParseInt(r.header.Get("X-Rate-Limit-Reset"), 10, 64)
	if r.header.Get("X-Rate-Limit-Remaining") != "0" || time.Until(time.Unix(reset, 0)) > 2*time.Second {
		t.Errorf("throttle headers: remaining=%s reset=%s; want 0 and a reset within a second or so",
			r.header.Get("X-Rate-Limit-Remaining"), r.header.Get("X-Rate-Limit-Reset"))
	}
	if n := o.Recorder.Count("GET", "/api/v1/users/me", ""); n != 1 {
		t.Errorf("recorder saw %d calls, want the throttled one", n)
	}
}

func TestConcurrencyCap(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{MaxConcurrent: 2})
	o.Faults.SetLatency(100 * time.Millisecond)
	var wg sync.WaitGroup
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Go(func() { statuses[i] = o.do(t, "GET", "/api/v1/users/me").status })
	}
	wg.Wait()
	throttled := 0
	for _, s := range statuses {
		if s == 429 {
			throttled++
		}
	}
	if throttled == 0 {
		t.Errorf("6 concurrent requests against a cap of 2 all passed: %v", statuses)
	}
}

func TestUnknownEndpointIs501(t *testing.T) {
	t.Parallel()
	o := newOrg(t, Options{})
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/users"},
		{"POST", "/api/v1/users/00ujane/lifecycle/reset_factors"},
		{"PUT", "/api/v1/groups/00gstatic/users/00ujane"},
	} {
		if r := o.do(t, c.method, c.path); r.status != 501 {
			t.Errorf("%s %s: %d, want 501", c.method, c.path, r.status)
		}
	}
}

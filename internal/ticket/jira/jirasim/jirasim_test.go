package jirasim

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const adf = `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hello"}]}]}`

func TestSimulatorBehavesLikeJira(t *testing.T) {
	t.Parallel()
	s := New(Options{Email: "bot@acme.example", Token: "tok-123456", MaxAttachment: 8})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	do := func(method, path, body string, header map[string]string, auth bool) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		if auth {
			req.SetBasicAuth("bot@acme.example", "tok-123456")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	create := `{"fields":{"project":{"key":"SEC"},"issuetype":{"name":"Task"},"summary":"S","description":` + adf + `,"labels":["offboarding"]}}`
	if st, body := do("POST", "/rest/api/3/issue", create, nil, true); st != 201 || !strings.Contains(body, `"SEC-1"`) {
		t.Fatalf("create: %d %s", st, body)
	}
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		auth                     bool
		status                   int
		contains                 string
	}{
		{"no auth", "GET", "/rest/api/3/myself", "", nil, false, 401, "not authenticated"},
		{"plain string description refused", "POST", "/rest/api/3/issue", `{"fields":{"project":{"key":"SEC"},"issuetype":{"name":"Task"},"summary":"S","description":"plain"}}`, nil, true, 400, "Atlassian Document"},
		{"unknown project", "POST", "/rest/api/3/issue", `{"fields":{"project":{"key":"NOPE"},"issuetype":{"name":"Task"},"summary":"S"}}`, nil, true, 400, "project"},
		{"empty text node refused", "POST", "/rest/api/3/issue/SEC-1/comment", `{"body":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":""}]}]}}`, nil, true, 400, "Atlassian Document"},
		{"comment", "POST", "/rest/api/3/issue/SEC-1/comment", `{"body":` + adf + `}`, nil, true, 201, `"id"`},
		{"transitions from To Do", "GET", "/rest/api/3/issue/SEC-1/transitions", "", nil, true, 200, "Start Progress"},
		{"bad transition", "POST", "/rest/api/3/issue/SEC-1/transitions", `{"transition":{"id":"99"}}`, nil, true, 400, "not valid"},
		{"done", "POST", "/rest/api/3/issue/SEC-1/transitions", `{"transition":{"id":"31"}}`, nil, true, 204, ""},
		{"labels", "PUT", "/rest/api/3/issue/SEC-1", `{"update":{"labels":[{"add":"x"},{"remove":"offboarding"}]}}`, nil, true, 204, ""},
		{"attachment without the XSRF header", "POST", "/rest/api/3/issue/SEC-1/attachments", "", nil, true, 403, "XSRF"},
		{"missing issue", "GET", "/rest/api/3/issue/SEC-9", "", nil, true, 404, "does not exist"},
		{"search was removed", "GET", "/rest/api/3/search", "", nil, true, 410, "search/jql"},
		{"anything else is 501", "GET", "/rest/api/3/user/search", "", nil, true, 501, "not implemented"},
	}
	for _, tc := range tests {
		if st, body := do(tc.method, tc.path, tc.body, tc.header, tc.auth); st != tc.status || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %d %s; want %d with %q", tc.name, st, body, tc.status, tc.contains)
		}
	}
	is, _ := s.Issue("SEC-1")
	if is.Status != "Done" || strings.Join(is.Labels, ",") != "x" || len(is.Comments) != 1 {
		t.Fatalf("issue after the calls: %+v", is)
	}
	upload := func(data string) int {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		w, _ := mw.CreateFormFile("file", "e.json")
		_, _ = w.Write([]byte(data))
		_ = mw.Close()
		st, _ := do("POST", "/rest/api/3/issue/SEC-1/attachments", buf.String(), map[string]string{"Content-Type": mw.FormDataContentType(), "X-Atlassian-Token": "no-check"}, true)
		return st
	}
	if st := upload("1234"); st != 200 {
		t.Errorf("small attachment: %d", st)
	}
	if st := upload("123456789"); st != 413 {
		t.Errorf("attachment over the limit: %d, want 413", st)
	}
}

func TestSimulatorRateLimitAnswersLikeJira(t *testing.T) {
	t.Parallel()
	s := New(Options{Email: "bot@acme.example", Token: "tok-123456", PerMinute: 1})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	get := func() *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+"/rest/api/3/myself", nil)
		req.SetBasicAuth("bot@acme.example", "tok-123456")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get(); r.StatusCode != 200 || r.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("first call: %d remaining %q", r.StatusCode, r.Header.Get("X-RateLimit-Remaining"))
	}
	r := get()
	if r.StatusCode != 429 || r.Header.Get("Retry-After") == "" || r.Header.Get("RateLimit-Reason") != "jira-burst-based" {
		t.Fatalf("over budget: %d %v", r.StatusCode, r.Header)
	}
}

package jirasim

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	email = "bot@acme.example"
	token = "tok-123456"
	adf   = `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hello"},{"type":"hardBreak"},{"type":"text","text":"world"}]}]}`
)

func createBody(project, issueType, summary, description, labels string) string {
	return `{"fields":{"project":{"key":"` + project + `"},"issuetype":{"name":"` + issueType + `"},"summary":` + summary +
		`,"description":` + description + `,"labels":` + labels + `}}`
}

var validCreate = createBody("SEC", "Task", `"Deprovisioning: Jane"`, adf, `["offboarding","offboard-case-1"]`)

// req is one request to the simulator; auth defaults to the right credentials.
type req struct {
	method, path, body string
	header             map[string]string
	noAuth             bool
	user, pass         string
}

type resp struct {
	status int
	header http.Header
	body   string
}

func newSim(t *testing.T, opts Options) (*Server, func(req) resp) {
	t.Helper()
	opts.Email, opts.Token = email, token
	s := New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, func(r req) resp {
		t.Helper()
		hr, err := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if r.body != "" {
			hr.Header.Set("Content-Type", "application/json")
		}
		for k, v := range r.header {
			hr.Header.Set(k, v)
		}
		switch {
		case r.user != "" || r.pass != "":
			hr.SetBasicAuth(r.user, r.pass)
		case !r.noAuth:
			hr.SetBasicAuth(email, token)
		}
		res, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return resp{res.StatusCode, res.Header, string(b)}
	}
}

func upload(filename, data string) (string, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", filename)
	_, _ = w.Write([]byte(data))
	_ = mw.Close()
	return buf.String(), mw.FormDataContentType()
}

// seed stores SEC-1 (ID 10001) directly, so cases can run on a site whose options would refuse
// to create it.
func seed(s *Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq["SEC"], s.nextID = 1, 10001
	s.issues["SEC-1"] = &issue{Issue: Issue{ID: "10001", Key: "SEC-1", Project: "SEC", IssueType: "Task", Summary: "Deprovisioning: Jane",
		Description: "hello\nworld\n", Labels: []string{"offboarding", "offboard-case-1"}, Status: "To Do"}, descADF: []byte(adf), created: s.now()}
	s.order = append(s.order, "SEC-1")
}

// TestSimulatorAnswersLikeJira runs each case against a site holding one issue, SEC-1.
func TestSimulatorAnswersLikeJira(t *testing.T) {
	t.Parallel()
	file, fileType := upload("evidence.json", `{"ok":true}`)
	big, bigType := upload("big.json", strings.Repeat("x", 65))
	other, otherType := upload("x.json", "{}")
	other = strings.Replace(other, `name="file"`, `name="upload"`, 1)
	xsrf := map[string]string{"X-Atlassian-Token": "no-check"}
	with := func(h map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for a, b := range h {
			out[a] = b
		}
		return out
	}
	tests := []struct {
		name     string
		opts     Options
		req      req
		status   int
		contains string
	}{
		{"no credentials", Options{}, req{method: "GET", path: "/rest/api/3/myself", noAuth: true}, 401, "must be authenticated"},
		{"wrong token", Options{}, req{method: "GET", path: "/rest/api/3/myself", user: email, pass: "nope"}, 401, "must be authenticated"},
		{"myself", Options{}, req{method: "GET", path: "/rest/api/3/myself"}, 200, email},
		{"create", Options{}, req{method: "POST", path: "/rest/api/3/issue", body: validCreate}, 201, `"key":"SEC-2"`},
		{"plain-string description", Options{}, req{method: "POST", path: "/rest/api/3/issue", body: createBody("SEC", "Task", `"S"`, `"plain text"`, `[]`)}, 400, "must be an Atlassian Document"},
		{"empty text node", Options{}, req{method: "POST", path: "/rest/api/3/issue", body: createBody("SEC", "Task", `"S"`, `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":""}]}]}`, `[]`)}, 400, "INVALID_INPUT"},
		{"heading without level", Options{}, req{method: "POST", path: "/rest/api/3/issue", body: createBody("SEC", "Task", `"S"`, `{"type":"doc","version":1,"content":[{"type":"heading","content":[{"type":"text","text":"h"}]}]}`, `[]`)}, 400, "INVALID_INPUT"},
		{"text in a list without a list item", Options{}, req{method: "POST", path: "/rest/api/3/issue", body: createBody("SEC", "Task", `"S"`, `{"type":"doc","version":1,"content":[{"type":"bulletList","content":[{"type":"paragraph"}]}]}`, `[]`)}, 400, "INVALID_INPUT"},
		{"unknown project", Options{}, req{method: "POST", path: "/rest/api/3/issue", body: createBody("NOPE", "Task", `"S"`, adf, `[]`)}, 400, `"project":"valid project is required"`},
		{"unknown issue type", Options{}, req{method: "POST", path: "/rest/api/3/issue", body: createBody("SEC", "Bug", `"S"`, adf, `[]`)}, 400, `"issuetype":"Specify a valid issue type"`},
		{"summary with a line break", Options{}, req{method: "POST", path: "/rest/api/3/issue", body: createBody("SEC", "Task", `"a\nb"`, adf, `[]`)}, 400, "newline"},
		{"label with a space", Options{}, req{method: "POST", path: "/rest/api/3/issue", body: createBody("SEC", "Task", `"S"`, adf, `["two words"]`)}, 400, "contains spaces"},
		{"description over the size limit", Options{MaxText: 100}, req{method: "POST", path: "/rest/api/3/issue", body: validCreate}, 400, "too long"},
		{"body not declared as JSON", Options{}, req{method: "POST", path: "/rest/api/3/issue", body: validCreate, header: map[string]string{"Content-Type": "text/plain"}}, 415, "Unsupported Media Type"},
		{"body not JSON", Options{}, req{method: "POST", path: "/rest/api/3/issue", body: "{"}, 400, "Unexpected character"},
		{"no permission to create", Options{Denied: []string{PermCreate}}, req{method: "POST", path: "/rest/api/3/issue", body: validCreate}, 403, "permission to create"},
		{"read an issue", Options{}, req{method: "GET", path: "/rest/api/3/issue/SEC-1?fields=status,labels"}, 200, `"statusCategory":{"key":"new"}`},
		{"read an issue by ID", Options{}, req{method: "GET", path: "/rest/api/3/issue/10001"}, 200, `"key":"SEC-1"`},
		{"missing issue", Options{}, req{method: "GET", path: "/rest/api/3/issue/SEC-99"}, 404, "does not exist"},
		{"issue hidden without Browse", Options{Denied: []string{PermBrowse}}, req{method: "GET", path: "/rest/api/3/issue/SEC-1"}, 404, "does not exist"},
		{"comment", Options{}, req{method: "POST", path: "/rest/api/3/issue/SEC-1/comment", body: `{"body":` + adf + `}`}, 201, `"id":"1"`},
		{"plain-string comment", Options{}, req{method: "POST", path: "/rest/api/3/issue/SEC-1/comment", body: `{"body":"hello"}`}, 400, `"comment":"Operation value must be an Atlassian Document`},
		{"comment on a missing issue", Options{}, req{method: "POST", path: "/rest/api/3/issue/SEC-99/comment", body: `{"body":` + adf + `}`}, 404, "does not exist"},
		{"labels", Options{}, req{method: "PUT", path: "/rest/api/3/issue/SEC-1", body: `{"update":{"labels":[{"add":"x"},{"remove":"offboarding"}]}}`}, 204, ""},
		{"label with a space on edit", Options{}, req{method: "PUT", path: "/rest/api/3/issue/SEC-1", body: `{"update":{"labels":[{"add":"a b"}]}}`}, 400, "contains spaces"},
		{"no permission to edit", Options{Denied: []string{PermEdit}}, req{method: "PUT", path: "/rest/api/3/issue/SEC-1", body: `{"update":{"labels":[{"add":"x"}]}}`}, 400, "permission to edit"},
		{"transitions from To Do", Options{}, req{method: "GET", path: "/rest/api/3/issue/SEC-1/transitions"}, 200, `"id":"11","isAvailable":true,"isConditional":false,"isGlobal":false,"isInitial":false,"name":"Start Progress"`},
		{"no transitions without the permission", Options{Denied: []string{PermTransition}}, req{method: "GET", path: "/rest/api/3/issue/SEC-1/transitions"}, 200, `{"transitions":[]}`},
		{"unknown transition", Options{}, req{method: "POST", path: "/rest/api/3/issue/SEC-1/transitions", body: `{"transition":{"id":"99"}}`}, 400, "not valid for this issue"},
		{"transition without an ID", Options{}, req{method: "POST", path: "/rest/api/3/issue/SEC-1/transitions", body: `{}`}, 400, "Missing 'transition'"},
		{"transition", Options{}, req{method: "POST", path: "/rest/api/3/issue/SEC-1/transitions", body: `{"transition":{"id":"31"}}`}, 204, ""},
		{"attachment without the XSRF header", Options{}, req{method: "POST", path: "/rest/api/3/issue/SEC-1/attachments", body: file, header: map[string]string{"Content-Type": fileType}}, 403, "XSRF check failed"},
		{"attachment", Options{}, req{method: "POST", path: "/rest/api/3/issue/SEC-1/attachments", body: file, header: with(xsrf, "Content-Type", fileType)}, 200, `[{"filename":"evidence.json"`},
		{"attachment over the limit", Options{MaxAttachment: 64}, req{method: "POST", path: "/rest/api/3/issue/SEC-1/attachments", body: big, header: with(xsrf, "Content-Type", bigType)}, 413, "maximum attachment size"},
		{"attachment in another part", Options{}, req{method: "POST", path: "/rest/api/3/issue/SEC-1/attachments", body: other, header: with(xsrf, "Content-Type", otherType)}, 400, "part named 'file'"},
		{"attachment on a missing issue", Options{}, req{method: "POST", path: "/rest/api/3/issue/SEC-99/attachments", body: file, header: with(xsrf, "Content-Type", fileType)}, 404, "does not exist"},
		{"no permission to attach", Options{Denied: []string{PermAttach}}, req{method: "POST", path: "/rest/api/3/issue/SEC-1/attachments", body: file, header: with(xsrf, "Content-Type", fileType)}, 403, "permission to create attachments"},
		{"project", Options{IssueTypes: []string{"Task", "Offboarding"}}, req{method: "GET", path: "/rest/api/3/project/SEC"}, 200, `"name":"Offboarding"`},
		{"unknown project read", Options{}, req{method: "GET", path: "/rest/api/3/project/OPS"}, 404, "No project could be found"},
		{"permissions", Options{Denied: []string{PermAttach}}, req{method: "GET", path: "/rest/api/3/mypermissions?projectKey=SEC&permissions=CREATE_ISSUES,CREATE_ATTACHMENTS"}, 200, `"CREATE_ATTACHMENTS":{"havePermission":false`},
		{"permissions without the parameter", Options{}, req{method: "GET", path: "/rest/api/3/mypermissions?projectKey=SEC"}, 400, "permissions query parameter is required"},
		{"search by label", Options{}, req{method: "GET", path: "/rest/api/3/search/jql?jql=project+%3D+SEC+AND+labels+%3D+%22offboard-case-1%22&fields=summary"}, 200, `"fields":{"summary":"Deprovisioning: Jane"},"id":"10001","key":"SEC-1"`},
		{"search finds nothing", Options{}, req{method: "GET", path: "/rest/api/3/search/jql?jql=labels+%3D+nope"}, 200, `{"isLast":true,"issues":[]}`},
		{"unbounded search", Options{}, req{method: "GET", path: "/rest/api/3/search/jql?jql="}, 400, "Unbounded JQL"},
		{"bad JQL", Options{}, req{method: "GET", path: "/rest/api/3/search/jql?jql=summary+~+jane"}, 400, "Error in the JQL Query"},
		{"old search is gone", Options{}, req{method: "GET", path: "/rest/api/3/search?jql=project=SEC"}, 410, "/rest/api/3/search/jql"},
		{"old search by POST is gone", Options{}, req{method: "POST", path: "/rest/api/3/search", body: `{"jql":"project=SEC"}`}, 410, "/rest/api/3/search/jql"},
		{"anything else is 501", Options{}, req{method: "GET", path: "/rest/api/3/user/search"}, 501, "not implemented"},
		{"an unknown method is 501", Options{}, req{method: "DELETE", path: "/rest/api/3/issue/SEC-1"}, 501, "not implemented"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, do := newSim(t, tc.opts)
			seed(s)
			r := do(tc.req)
			if r.status != tc.status || !strings.Contains(r.body, tc.contains) {
				t.Fatalf("%s %s: %d %s\nwant %d with %q", tc.req.method, tc.req.path, r.status, r.body, tc.status, tc.contains)
			}
		})
	}
}

func TestSimulatorReadsBackWhatWasWritten(t *testing.T) {
	t.Parallel()
	s, do := newSim(t, Options{})
	for _, r := range []req{
		{method: "POST", path: "/rest/api/3/issue", body: validCreate},
		{method: "POST", path: "/rest/api/3/issue/SEC-1/comment", body: `{"body":{"type":"doc","version":1,"content":[{"type":"table","content":[{"type":"tableRow","content":[{"type":"tableHeader","content":[{"type":"paragraph","content":[{"type":"text","text":"System"}]}]},{"type":"tableHeader","content":[{"type":"paragraph","content":[{"type":"text","text":"State"}]}]}]},{"type":"tableRow","content":[{"type":"tableCell","content":[{"type":"paragraph","content":[{"type":"text","text":"okta"}]}]},{"type":"tableCell","content":[{"type":"paragraph","content":[{"type":"text","text":"verified"}]}]}]}]}]}}`},
		{method: "PUT", path: "/rest/api/3/issue/SEC-1", body: `{"update":{"labels":[{"add":"offboarding-partial"},{"remove":"offboard-case-1"}]}}`},
		{method: "POST", path: "/rest/api/3/issue/SEC-1/transitions", body: `{"transition":{"id":"11"}}`},
		{method: "POST", path: "/rest/api/3/issue/SEC-1/transitions", body: `{"transition":{"id":"31"}}`},
		{method: "POST", path: "/rest/api/3/issue", body: createBody("SEC", "Task", `"Second"`, `null`, `[]`)},
	} {
		if got := do(r); got.status >= 300 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, got.status, got.body)
		}
	}
	is, ok := s.Issue("SEC-1")
	if !ok {
		t.Fatal("SEC-1 missing")
	}
	if is.Status != "Done" || strings.Join(is.Labels, ",") != "offboarding,offboarding-partial" || is.Description != "hello\nworld\n" {
		t.Errorf("issue %+v", is)
	}
	if len(is.Comments) != 1 || is.Comments[0] != "| System | State |\n| okta | verified |\n" {
		t.Errorf("comments %q", is.Comments)
	}
	// Done is not offered from Done, and the status reads as done.
	if r := do(req{method: "GET", path: "/rest/api/3/issue/SEC-1/transitions"}); strings.Contains(r.body, `"name":"Done"`) || !strings.Contains(r.body, "Reopen") {
		t.Errorf("transitions from Done: %s", r.body)
	}
	var got struct {
		Fields struct {
			Status struct {
				Name           string
				StatusCategory struct{ Key string }
			}
			Comment struct {
				Comments []struct{ Body json.RawMessage }
			}
		}
	}
	if err := json.Unmarshal([]byte(do(req{method: "GET", path: "/rest/api/3/issue/SEC-1"}).body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Fields.Status.StatusCategory.Key != "done" || len(got.Fields.Comment.Comments) != 1 || !bytes.HasPrefix(got.Fields.Comment.Comments[0].Body, []byte(`{"type":"doc"`)) {
		t.Errorf("read-back %+v", got)
	}
	if all := s.Issues(); len(all) != 2 || all[0].Key != "SEC-1" || all[1].Key != "SEC-2" || all[1].Description != "" {
		t.Errorf("issues %+v", all)
	}
}

func TestSimulatorSearchPages(t *testing.T) {
	t.Parallel()
	_, do := newSim(t, Options{})
	for range 3 {
		do(req{method: "POST", path: "/rest/api/3/issue", body: validCreate})
	}
	var keys []string
	token := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		path := "/rest/api/3/search/jql?jql=labels+%3D+offboarding+ORDER+BY+created+DESC&maxResults=2"
		if token != "" {
			path += "&nextPageToken=" + token
		}
		var page struct {
			Issues        []struct{ Key string }
			NextPageToken string
			IsLast        bool
		}
		if err := json.Unmarshal([]byte(do(req{method: "GET", path: path}).body), &page); err != nil {
			t.Fatal(err)
		}
		for _, is := range page.Issues {
			keys = append(keys, is.Key)
		}
		if page.IsLast != (page.NextPageToken == "") {
			t.Fatalf("isLast %v with token %q", page.IsLast, page.NextPageToken)
		}
		if page.IsLast {
			break
		}
		token = page.NextPageToken
	}
	if strings.Join(keys, ",") != "SEC-3,SEC-2,SEC-1" {
		t.Fatalf("keys %v", keys)
	}
}

func TestSimulatorRateLimitHeaders(t *testing.T) {
	t.Parallel()
	s, do := newSim(t, Options{PerMinute: 2})
	now := time.Date(2026, 11, 22, 18, 0, 15, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	if r := do(req{method: "GET", path: "/rest/api/3/myself"}); r.status != 200 || r.header.Get("X-RateLimit-Limit") != "2" || r.header.Get("X-RateLimit-Remaining") != "1" {
		t.Fatalf("first call: %d %v", r.status, r.header)
	}
	if r := do(req{method: "GET", path: "/rest/api/3/myself"}); r.status != 200 || r.header.Get("X-RateLimit-NearLimit") != "true" {
		t.Fatalf("second call: %d %v", r.status, r.header)
	}
	r := do(req{method: "GET", path: "/rest/api/3/myself"})
	if r.status != 429 || r.header.Get("Retry-After") != "45" || r.header.Get("X-RateLimit-Reset") != "2026-11-22T18:01Z" ||
		r.header.Get("RateLimit-Reason") != "jira-burst-based" || !strings.Contains(r.body, "errorMessages") {
		t.Fatalf("over the budget: %d %v %s", r.status, r.header, r.body)
	}
	now = now.Add(45 * time.Second)
	if r := do(req{method: "GET", path: "/rest/api/3/myself"}); r.status != 200 {
		t.Fatalf("after the reset: %d", r.status)
	}

	s.Faults.ThrottleNext(1)
	if r := do(req{method: "GET", path: "/rest/api/3/myself"}); r.status != 429 || r.header.Get("Retry-After") != "1" || r.header.Get("RateLimit-Reason") != "jira-burst-based" {
		t.Fatalf("injected throttle: %d %v", r.status, r.header)
	}
	if n := s.Recorder.Count("GET", "/rest/api/3/myself", ""); n != 5 {
		t.Fatalf("recorded %d calls, want 5", n)
	}
}

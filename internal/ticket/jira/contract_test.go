package jira_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/offboard-dev/offboard/internal/apispec"
	"github.com/offboard-dev/offboard/internal/ticket/jira"
	"github.com/offboard-dev/offboard/internal/ticket/jira/jirasim"
)

// The contract test checks the tracker's requests and the simulator's answers against
// Atlassian's own OpenAPI description of Jira Cloud, so neither can drift into an API Jira does
// not have. The description is a 2022 mirror (apis.md §10): endpoints added since are listed
// in newerThanSpec with their source.

const specFile = "jira/platform-swagger.v3.json"

// newerThanSpec are operations the tracker uses that postdate the mirrored description, with
// the query parameters they take.
var newerThanSpec = map[string][]string{
	// apis.md §3 [D]: the replacement for the removed /search, paged by nextPageToken.
	"GET /rest/api/3/search/jql": {"jql", "fields", "maxResults", "nextPageToken"},
}

// exchange is one request and the status answered.
type exchange struct {
	method, path, query, contentType string
	body                             []byte
	status                           int
}

// capture records every exchange through it.
type capture struct {
	mu  sync.Mutex
	log []exchange
}

func (c *capture) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		c.mu.Lock()
		c.log = append(c.log, exchange{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), body, rec.Code})
		c.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// TestContract drives a ticket's whole life, a Check and some refusals, then checks every
// exchange: the operation exists in Jira's description, its query parameters are declared,
// its JSON body fits the documented schema, and the status the simulator answered is one
// documented for it.
func TestContract(t *testing.T) {
	t.Parallel()
	s := apispec.Load(t, specFile)
	var c capture
	e := newEnv(t, jirasim.Options{}, jira.Config{}, c.wrap)
	ctx := t.Context()
	key, err := life(ctx, e.tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.tr.Transition(ctx, key, "Done"); err != nil {
		t.Fatal(err)
	}
	if err := e.tr.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// Documented refusals: a missing issue, a transition not offered.
	_ = e.tr.Comment(ctx, "SEC-404", doc)
	_ = e.tr.Transition(ctx, key, "Start Progress")
	for _, r := range []struct{ method, path, body, ctype string }{
		{"POST", "/rest/api/3/issue/" + key + "/attachments", "", "multipart/form-data; boundary=x"}, // no XSRF header: 403
		{"POST", "/rest/api/3/issue/" + key + "/transitions", `{"transition":{"id":"99"}}`, "application/json"},
		{"POST", "/rest/api/3/issue", `{"fields":{"project":{"key":"SEC"},"issuetype":{"name":"Task"},"summary":"S","description":"plain"}}`, "application/json"},
	} {
		req, _ := http.NewRequest(r.method, e.url+r.path, strings.NewReader(r.body))
		req.Header.Set("Content-Type", r.ctype)
		req.SetBasicAuth(email, token)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}

	used, bodies := map[string]bool{}, map[string]bool{}
	for _, x := range c.log {
		key, op, ok := s.Operation(x.method, x.path)
		declared := []string(nil)
		switch {
		case ok:
			used[op.OperationID] = true
			declared = s.Query(key)
			if op.Responses.Value(strconv.Itoa(x.status)) == nil {
				t.Errorf("%s %s answered %d, which Jira does not document for %s", x.method, x.path, x.status, op.OperationID)
			}
			if checkBody(t, x, op) {
				bodies[op.OperationID] = true
			}
		case newerThanSpec[x.method+" "+x.path] != nil:
			declared = newerThanSpec[x.method+" "+x.path]
			if x.status != http.StatusOK {
				t.Errorf("%s %s answered %d", x.method, x.path, x.status)
			}
		default:
			t.Errorf("%s %s is not an operation in Jira's description", x.method, x.path)
			continue
		}
		q, _ := url.ParseQuery(x.query)
		for name := range q {
			if !slices.Contains(declared, name) {
				t.Errorf("%s %s sends query parameter %q, which the operation does not declare", x.method, x.path, name)
			}
		}
	}
	for _, id := range []string{"createIssue", "getIssue", "editIssue", "addComment", "getTransitions", "doTransition", "addAttachment", "getCurrentUser", "getProject", "getMyPermissions"} {
		if !used[id] {
			t.Errorf("the run never exercised %s", id)
		}
	}
	for _, id := range []string{"createIssue", "editIssue", "addComment", "doTransition"} {
		if !bodies[id] {
			t.Errorf("no body sent to %s was checked against its schema", id)
		}
	}
}

// checkBody validates a JSON request body the tracker sent against the operation's schema.
// The deliberately bad bodies sent above are refused by the simulator and skipped. It reports
// whether the body was checked.
func checkBody(t *testing.T, x exchange, op *openapi3.Operation) bool {
	t.Helper()
	if len(x.body) == 0 || !strings.HasPrefix(x.contentType, "application/json") || x.status >= 400 || op.RequestBody == nil || op.RequestBody.Value == nil {
		return false
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return false
	}
	var v any
	if err := json.Unmarshal(x.body, &v); err != nil {
		t.Errorf("%s %s: body is not JSON: %v", x.method, x.path, err)
		return true
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		t.Errorf("%s %s: body does not fit %s's schema: %v\n%s", x.method, x.path, op.OperationID, err, x.body)
	}
	return true
}

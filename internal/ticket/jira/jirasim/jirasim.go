// Package jirasim simulates the parts of Jira Cloud's REST API v3 that offboard uses, written
// from Atlassian's documentation (apis.md §3 and §11), never from offboard's client: issues
// whose description and comments must be Atlassian Document Format, labels, a To Do → In
// Progress → Done workflow, attachments behind the XSRF header, HTTP Basic auth, project
// permissions, per-minute budgets answered with Jira's 429 headers, search by JQL, and 410 for
// the removed search endpoint. Anything else answers 501.
//
// Facts the simulator follows, with their source (apis.md tags):
//   - POST /rest/api/3/issue → 201 {id, key, self}; 400 ErrorCollection for a bad field; a
//     plain-string description → 400 "Operation value must be an Atlassian Document" [S][R].
//   - Attachments need "X-Atlassian-Token: no-check" or are blocked (403 "XSRF check failed"),
//     multipart part "file", 200 with an array, 413 over the size limit [S][R].
//   - 429 carries Retry-After (seconds), X-RateLimit-Reset (yyyy-MM-ddTHH:mmZ) and
//     RateLimit-Reason; X-RateLimit-NearLimit when under a fifth of the budget is left [D].
//   - GET/POST /rest/api/3/search → 410; /rest/api/3/search/jql pages with nextPageToken and
//     isLast [D].
//   - Rich-text fields refuse more than 32,767 characters with 400 "The entered text is too
//     long" [C: jenkinsci/jira-plugin#667, prometheus-community/jiralert#41]. How Jira counts
//     ADF is not documented; the simulator counts the ADF JSON as sent, the stricter reading.
package jirasim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Project permission keys, as Jira names them in GET /rest/api/3/mypermissions.
const (
	PermBrowse      = "BROWSE_PROJECTS"
	PermCreate      = "CREATE_ISSUES"
	PermComment     = "ADD_COMMENTS"
	PermAttach      = "CREATE_ATTACHMENTS"
	PermEdit        = "EDIT_ISSUES"
	PermTransition  = "TRANSITION_ISSUES"
	defaultMaxText  = 32767
	defaultMaxBytes = 10 << 20
)

// Options configures the simulated site. Zero fields take the defaults shown.
type Options struct {
	// Email and Token are the only accepted Basic credentials.
	Email, Token string
	// Projects are the project keys that exist (default SEC).
	Projects []string
	// IssueTypes are the issue type names every project accepts (default Task).
	IssueTypes []string
	// PerMinute is the request budget; 0 means unlimited (and no rate-limit headers).
	PerMinute int
	// MaxAttachment is the largest attachment accepted in bytes (default 10 MiB).
	MaxAttachment int64
	// MaxText is the largest rich-text field (description, comment body) accepted, counted on
	// the ADF JSON as sent (default 32,767).
	MaxText int
	// Denied lists project permissions the account lacks (PermCreate, PermAttach, ...).
	Denied []string
}

// Attachment is a stored file.
type Attachment struct {
	Filename string
	MimeType string
	Data     []byte
}

// Issue is an issue as tests and the demo read it back. Description and Comments are the
// plain text of their ADF documents.
type Issue struct {
	ID          string
	Key         string
	Project     string
	IssueType   string
	Summary     string
	Description string
	Labels      []string
	Status      string
	Comments    []string
	Attachments []Attachment
}

// Server is a simulated Jira Cloud site. It is an http.Handler; mount it under any prefix with
// http.StripPrefix.
type Server struct {
	// Faults injects latency, 5xx, Jira's own 429 and dropped connections.
	Faults *sim.Faults
	// Recorder logs every request answered.
	Recorder *sim.Recorder

	opts    Options
	budget  *sim.Budget
	handler http.Handler

	mu     sync.Mutex
	now    func() time.Time
	issues map[string]*issue
	order  []string // keys in creation order
	nextID int
	seq    map[string]int
}

// issue is an issue's stored state; the ADF bodies are kept as sent, so reads return them.
type issue struct {
	Issue
	descADF     json.RawMessage
	commentADFs []json.RawMessage
	created     time.Time
}

// New returns an empty simulated site.
func New(opts Options) *Server {
	if len(opts.Projects) == 0 {
		opts.Projects = []string{"SEC"}
	}
	if len(opts.IssueTypes) == 0 {
		opts.IssueTypes = []string{"Task"}
	}
	if opts.MaxAttachment <= 0 {
		opts.MaxAttachment = defaultMaxBytes
	}
	if opts.MaxText <= 0 {
		opts.MaxText = defaultMaxText
	}
	s := &Server{Faults: &sim.Faults{}, Recorder: &sim.Recorder{}, opts: opts, budget: sim.NewBudget(opts.PerMinute),
		now: time.Now, issues: map[string]*issue{}, nextID: 10000, seq: map[string]int{}}
	mux := sim.NewMux()
	mux.HandleFunc("POST /rest/api/3/issue", s.create)
	mux.HandleFunc("GET /rest/api/3/issue/{key}", s.get)
	mux.HandleFunc("PUT /rest/api/3/issue/{key}", s.edit)
	mux.HandleFunc("POST /rest/api/3/issue/{key}/comment", s.comment)
	mux.HandleFunc("GET /rest/api/3/issue/{key}/transitions", s.transitions)
	mux.HandleFunc("POST /rest/api/3/issue/{key}/transitions", s.doTransition)
	mux.HandleFunc("POST /rest/api/3/issue/{key}/attachments", s.attach)
	mux.HandleFunc("GET /rest/api/3/search/jql", s.search)
	mux.HandleFunc("GET /rest/api/3/myself", s.myself)
	mux.HandleFunc("GET /rest/api/3/project/{key}", s.project)
	mux.HandleFunc("GET /rest/api/3/mypermissions", s.permissions)
	// Removed in 2025 in favour of /search/jql (apis.md §3).
	gone := func(w http.ResponseWriter, _ *http.Request) {
		fail(w, http.StatusGone, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.")
	}
	mux.HandleFunc("GET /rest/api/3/search", gone)
	mux.HandleFunc("POST /rest/api/3/search", gone)
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(s.guard(mux), s.injectedThrottle))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// SetClock replaces the clock behind the rate budget and the times the site records, so
// tests can let a client wait out a budget without real time passing.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
	s.budget.SetClock(now)
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// guard checks Basic auth and spends the rate budget before any endpoint runs.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		email, token, ok := r.BasicAuth()
		if !ok || s.opts.Token == "" || email != s.opts.Email || token != s.opts.Token {
			fail(w, http.StatusUnauthorized, "Client must be authenticated to access this resource.")
			return
		}
		if s.opts.PerMinute > 0 {
			limit, remaining, reset, within := s.budget.Take()
			w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
			w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
			if remaining*5 < limit {
				w.Header().Set("X-RateLimit-NearLimit", "true")
			}
			if !within {
				s.throttle(w, reset.Sub(s.clock()))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// injectedThrottle is the 429 that Faults.ThrottleNext injects: a one-second burst limit.
func (s *Server) injectedThrottle(w http.ResponseWriter, _ *http.Request) { s.throttle(w, time.Second) }

// throttle writes Jira's 429: Retry-After in whole seconds (never early), the reset time at
// minute precision rounded up, and the reason.
func (s *Server) throttle(w http.ResponseWriter, wait time.Duration) {
	secs := max(int(math.Ceil(wait.Seconds())), 1)
	reset := s.clock().Add(time.Duration(secs) * time.Second)
	if t := reset.Truncate(time.Minute); t.Before(reset) {
		reset = t.Add(time.Minute)
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("X-RateLimit-Reset", reset.UTC().Format("2006-01-02T15:04Z"))
	w.Header().Set("RateLimit-Reason", "jira-burst-based")
	fail(w, http.StatusTooManyRequests, "Rate limit exceeded.")
}

// fail writes Jira's ErrorCollection with messages.
func fail(w http.ResponseWriter, status int, messages ...string) {
	failFields(w, status, messages, nil)
}

// failFields writes Jira's ErrorCollection: {"errorMessages": [...], "errors": {field: msg}}.
func failFields(w http.ResponseWriter, status int, messages []string, fields map[string]string) {
	if messages == nil {
		messages = []string{}
	}
	if fields == nil {
		fields = map[string]string{}
	}
	sim.WriteJSON(w, status, map[string]any{"errorMessages": messages, "errors": fields})
}

func (s *Server) denied(perm string) bool { return slices.Contains(s.opts.Denied, perm) }

// lookup finds an issue by key or numeric ID. The caller holds s.mu.
func (s *Server) lookup(keyOrID string) (*issue, bool) {
	if is, ok := s.issues[keyOrID]; ok {
		return is, true
	}
	for _, is := range s.issues {
		if is.ID == keyOrID {
			return is, true
		}
	}
	return nil, false
}

// withIssue runs fn on the issue named in the path under the lock, or answers 404, as Jira
// does for an issue that does not exist or that the account may not browse.
func (s *Server) withIssue(w http.ResponseWriter, r *http.Request, fn func(*issue)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.lookup(r.PathValue("key"))
	if !ok || s.denied(PermBrowse) {
		fail(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
		return
	}
	fn(is)
}

// Issue returns a copy of an issue, by key, for tests and the demo.
func (s *Server) Issue(key string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[key]
	if !ok {
		return Issue{}, false
	}
	return copyIssue(is), true
}

// Issues returns copies of every issue in the order they were created.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Issue, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, copyIssue(s.issues[k]))
	}
	return out
}

func copyIssue(is *issue) Issue {
	c := is.Issue
	c.Labels = slices.Clone(is.Labels)
	c.Comments = slices.Clone(is.Comments)
	c.Attachments = make([]Attachment, len(is.Attachments))
	for i, a := range is.Attachments {
		c.Attachments[i] = Attachment{Filename: a.Filename, MimeType: a.MimeType, Data: slices.Clone(a.Data)}
	}
	return c
}

// decode reads a JSON request body into v, answering 415 when it is not declared as JSON and
// Jira's 400 when it is not JSON.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		fail(w, http.StatusUnsupportedMediaType, "Unsupported Media Type: send application/json.")
		return false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		var syn *json.SyntaxError
		msg := "Unexpected character in the request body."
		if errors.As(err, &syn) {
			msg = fmt.Sprintf("Unexpected character in the request body at offset %d.", syn.Offset)
		}
		fail(w, http.StatusBadRequest, msg)
		return false
	}
	return true
}

func (s *Server) self(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// Package jirasim simulates the parts of Jira Cloud's REST API v3 that offboard uses, from
// Atlassian's documentation (see apis.md §3): issues with ADF descriptions and comments,
// labels, a To Do → In Progress → Done workflow, attachments behind the XSRF header, Basic
// auth, 429 with Retry-After, and 410 for the removed search endpoint. Anything else is 501.
package jirasim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Options configures the simulated site. Zero fields take the defaults shown.
type Options struct {
	// Email and Token are the only accepted Basic credentials.
	Email, Token string
	// Projects are the project keys that exist (default SEC).
	Projects []string
	// IssueTypes are the issue type names accepted (default Task).
	IssueTypes []string
	// PerMinute is the request budget; 0 means unlimited.
	PerMinute int
	// MaxAttachment is the largest attachment accepted in bytes (default 10 MiB).
	MaxAttachment int64
}

// Attachment is a stored file.
type Attachment struct {
	Filename string
	Data     []byte
}

// Issue is an issue as tests and the demo read it back.
type Issue struct {
	Key         string
	Project     string
	Summary     string
	Description string
	Labels      []string
	Status      string
	Comments    []string
	Attachments []Attachment
}

// Server is a simulated Jira Cloud site. It is an http.Handler; mount it under any prefix.
type Server struct {
	Faults   *sim.Faults
	Recorder *sim.Recorder

	opts    Options
	budget  *sim.Budget
	handler http.Handler

	mu     sync.Mutex
	issues map[string]*Issue
	seq    map[string]int
}

// workflow is the simulated project's workflow: status → transitions (id, name, target).
var workflow = map[string][]transition{
	"To Do":       {{"11", "Start Progress", "In Progress"}, {"31", "Done", "Done"}},
	"In Progress": {{"21", "Stop Progress", "To Do"}, {"31", "Done", "Done"}},
	"Done":        {{"41", "Reopen", "To Do"}},
}

type transition struct{ ID, Name, To string }

// New returns an empty simulated site.
func New(opts Options) *Server {
	if len(opts.Projects) == 0 {
		opts.Projects = []string{"SEC"}
	}
	if len(opts.IssueTypes) == 0 {
		opts.IssueTypes = []string{"Task"}
	}
	if opts.MaxAttachment <= 0 {
		opts.MaxAttachment = 10 << 20
	}
	s := &Server{Faults: &sim.Faults{}, Recorder: &sim.Recorder{}, opts: opts, budget: sim.NewBudget(opts.PerMinute),
		issues: map[string]*Issue{}, seq: map[string]int{}}
	mux := sim.NewMux()
	mux.HandleFunc("POST /rest/api/3/issue", s.create)
	mux.HandleFunc("GET /rest/api/3/issue/{key}", s.get)
	mux.HandleFunc("PUT /rest/api/3/issue/{key}", s.edit)
	mux.HandleFunc("POST /rest/api/3/issue/{key}/comment", s.comment)
	mux.HandleFunc("GET /rest/api/3/issue/{key}/transitions", s.transitions)
	mux.HandleFunc("POST /rest/api/3/issue/{key}/transitions", s.doTransition)
	mux.HandleFunc("POST /rest/api/3/issue/{key}/attachments", s.attach)
	mux.HandleFunc("GET /rest/api/3/myself", s.myself)
	mux.HandleFunc("GET /rest/api/3/project/{key}", s.project)
	// Removed in 2025 in favour of /search/jql (apis.md §3).
	mux.HandleFunc("GET /rest/api/3/search", func(w http.ResponseWriter, _ *http.Request) {
		fail(w, http.StatusGone, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.")
	})
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(s.guard(mux), s.throttled))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// guard checks Basic auth and spends the rate budget before any endpoint runs.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		email, token, ok := r.BasicAuth()
		if !ok || email != s.opts.Email || token != s.opts.Token || s.opts.Token == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="jira"`)
			fail(w, http.StatusUnauthorized, "You are not authenticated. Authentication required to perform this operation.")
			return
		}
		limit, remaining, reset, within := s.budget.Take()
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		w.Header().Set("X-RateLimit-Reset", reset.UTC().Format("2006-01-02T15:04Z"))
		if !within {
			s.throttled(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// throttled is Jira's 429: Retry-After in seconds and the reason header.
func (s *Server) throttled(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Retry-After", "1")
	w.Header().Set("RateLimit-Reason", "jira-burst-based")
	w.Header().Set("X-RateLimit-Reset", time.Now().Add(time.Second).UTC().Format("2006-01-02T15:04Z"))
	fail(w, http.StatusTooManyRequests, "Rate limit exceeded.")
}

// fail writes Jira's ErrorCollection.
func fail(w http.ResponseWriter, status int, messages ...string) {
	failFields(w, status, messages, nil)
}

func failFields(w http.ResponseWriter, status int, messages []string, fields map[string]string) {
	if messages == nil {
		messages = []string{}
	}
	if fields == nil {
		fields = map[string]string{}
	}
	sim.WriteJSON(w, status, map[string]any{"errorMessages": messages, "errors": fields})
}

// Issue returns a copy of an issue, for tests and the demo.
func (s *Server) Issue(key string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[key]
	if !ok {
		return Issue{}, false
	}
	return copyIssue(is), true
}

// Issues returns copies of every issue, by key.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Issue, 0, len(s.issues))
	for _, is := range s.issues {
		out = append(out, copyIssue(is))
	}
	slices.SortFunc(out, func(a, b Issue) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func copyIssue(is *Issue) Issue {
	c := *is
	c.Labels = slices.Clone(is.Labels)
	c.Comments = slices.Clone(is.Comments)
	c.Attachments = slices.Clone(is.Attachments)
	return c
}

func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		// Jira's own wording, capitalised as it sends it to clients.
		return errors.New("Unexpected character in the request body: " + err.Error())
	}
	return nil
}

// Package awssim simulates the parts of the AWS IAM Query API that offboarding an IAM user
// uses, for tests, `offboard sim` and the demo.
//
// It is written from AWS's own Smithy model of IAM (aws/api-models-aws, iam-2010-05-08.json)
// and the IAM API Reference as summarised in the project's apis.md §8 and §11, never from the
// offboard connector, so a shared misunderstanding cannot hide in both. It speaks the Query
// protocol: every call is a form-encoded POST to "/" with Action and Version, signed with
// Signature Version 4, answered with the documented XML envelopes
// (<XResponse><XResult>…</XResult><ResponseMetadata><RequestId>…) and the XML error body
// (<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code>…). It reproduces what
// makes IAM users hard to clean up: DeleteUser refused with DeleteConflict until every login
// profile, key, certificate, MFA device, group membership and policy is gone; NoSuchEntity for
// a user without a console password; virtual MFA devices that outlive their deactivation;
// policy documents returned URL-encoded; Marker/IsTruncated paging that may return fewer
// items than MaxItems asked for; the 2,048-character quota on a user's inline policies;
// AccessDenied for a permission the caller lacks; and Throttling (HTTP 400 "Rate exceeded").
// It also models live sessions (temporary credentials issued before offboarding), which IAM
// cannot list or revoke: a session counts as revoked once a deny-everything policy covering
// its issue time (aws:TokenIssueTime) is attached to its user. Any action it does not
// implement answers 501.
package awssim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Defaults of a simulated account.
const (
	DefaultRegion     = "us-east-1"
	DefaultAccountID  = "123456789012"
	DefaultCallerName = "offboard-automation"
	// Version is the only API version IAM's Query API has.
	Version = "2010-05-08"
	// namespace is the XML namespace of every IAM response.
	namespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	// maxBody bounds a request body; IAM's largest inputs (policy documents) are far smaller.
	maxBody = 1 << 20
)

// Options configures a simulated AWS account. Zero fields take the defaults given.
type Options struct {
	// AccessKeyID and SecretAccessKey are the only credentials the account accepts: requests
	// must be signed with them (SigV4, service "iam"). They belong to the IAM user CallerName.
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, must accompany every request (X-Amz-Security-Token), as for
	// temporary credentials.
	SessionToken string
	// Region is the signing region requests must be scoped to (default us-east-1, the signing
	// region of IAM's global endpoint).
	Region string
	// AccountID appears in every ARN (default 123456789012).
	AccountID string
	// CallerName is the IAM user the credentials belong to (default offboard-automation).
	CallerName string
	// PageLimit caps how many items one page holds whatever MaxItems asks for (0: no cap
	// beyond MaxItems), as IAM documents it may return fewer items than MaxItems.
	PageLimit int
	// InlinePolicyQuota is the total size, in characters excluding whitespace, of a user's
	// inline policies (default 2048, IAM's quota for users).
	InlinePolicyQuota int
	// Now is the clock for signatures, creation dates and sessions (default time.Now).
	Now func() time.Time
}

// Server is a simulated AWS account's IAM. It is an http.Handler; mount it under any path
// prefix with http.StripPrefix (signatures are checked against the request line, which keeps
// the prefix). All methods are safe for concurrent use.
type Server struct {
	// Faults injects latency, 5xx, IAM's own Throttling and dropped connections.
	Faults *sim.Faults
	// Recorder logs every request answered, injected faults included. Each recorded call's
	// Query holds "Action=<name>" (the simulator adds it from the form body, where the Query
	// protocol sends it) so that tests can tell which action a POST was; see ActionOf.
	Recorder *sim.Recorder

	opts    Options
	handler http.Handler
	reqSeq  atomic.Int64
	idSeq   atomic.Int64

	mu       sync.Mutex
	users    map[string]*user // by lower-cased name: IAM names are case-insensitive
	groups   map[string]*group
	policies map[string]string // managed policy ARN → name
	virtual  map[string]string // virtual MFA serial → assigned user ("" if none)
	denied   map[string]bool   // actions the caller may not perform
	throttle map[string]int    // action → throttled answers still to give
	keyOwner map[string]string // access key ID → user (lower-cased name)
}

// New returns an account holding only the IAM user the credentials belong to.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.CallerName == "" {
		opts.CallerName = DefaultCallerName
	}
	if opts.InlinePolicyQuota <= 0 {
		opts.InlinePolicyQuota = 2048
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		Faults:   &sim.Faults{},
		Recorder: &sim.Recorder{},
		opts:     opts,
		users:    map[string]*user{},
		groups:   map[string]*group{},
		policies: map[string]string{},
		virtual:  map[string]string{},
		denied:   map[string]bool{},
		throttle: map[string]int{},
		keyOwner: map[string]string{},
	}
	_ = s.AddUser(User{Name: opts.CallerName})
	mux := sim.NewMux()
	mux.HandleFunc("POST /{$}", s.serveAPI)
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(mux, s.throttled))
	return s
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

type bodyKey struct{}

// ServeHTTP answers one request. It reads the form body first so that the recorded call
// names its Action, then hands the request to the recorder, the faults and the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the client went away
	}
	r2 := r.Clone(context.WithValue(r.Context(), bodyKey{}, body))
	r2.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) <= maxBody {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			q := r2.URL.Query()
			q.Set("Action", form.Get("Action"))
			r2.URL.RawQuery = q.Encode()
		}
	}
	s.handler.ServeHTTP(w, r2)
}

// ActionOf returns the IAM action of a recorded call ("" if it named none).
func ActionOf(c sim.Call) string {
	q, err := url.ParseQuery(c.Query)
	if err != nil {
		return ""
	}
	return q.Get("Action")
}

// ReadOnly reports whether a recorded call changes nothing: IAM's List* and Get* actions only
// read. Calls that named no action (and so were refused) changed nothing either.
func ReadOnly(c sim.Call) bool {
	a := ActionOf(c)
	return a == "" || strings.HasPrefix(a, "List") || strings.HasPrefix(a, "Get")
}

// throttled is IAM's answer to a caller over its request rate (apis.md §8.4): HTTP 400 with
// code Throttling and message "Rate exceeded". IAM sends no Retry-After.
func (s *Server) throttled(w http.ResponseWriter, _ *http.Request) {
	s.writeError(w, apiErr(http.StatusBadRequest, "Throttling", "Rate exceeded"))
}

// ThrottleAction makes the next n calls of action answer Throttling, for tests of one
// action's throttling (Faults.ThrottleNext throttles whatever comes next).
func (s *Server) ThrottleAction(action string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle[action] = n
}

// Deny makes the caller lack the permission for action (e.g. "DeleteAccessKey"): every call
// of it answers AccessDenied, as IAM does when no policy allows iam:<action>.
func (s *Server) Deny(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[action] = true
}

// serveAPI authenticates the request, then dispatches on its Action.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	body, _ := r.Context().Value(bodyKey{}).([]byte)
	if len(body) > maxBody {
		s.writeError(w, apiErr(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request body too large."))
		return
	}
	caller, aerr := s.authenticate(r, body)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.writeError(w, apiErr(http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form."))
		return
	}
	name := form.Get("Action")
	if name == "" {
		s.writeError(w, apiErr(http.StatusBadRequest, "MissingAction", "Could not find operation to perform (no Action)."))
		return
	}
	spec, ok := actionTable[name]
	if !ok {
		sim.NotImplemented(w, r)
		return
	}
	if v := form.Get("Version"); v != Version {
		s.writeError(w, apiErr(http.StatusBadRequest, "InvalidParameterValue", "Version must be "+Version))
		return
	}
	if aerr := s.gate(name, caller); aerr != nil {
		s.writeError(w, aerr)
		return
	}
	c := &call{s: s, spec: spec, form: form, caller: caller}
	s.mu.Lock()
	result, aerr := spec.handle(c)
	s.mu.Unlock()
	if aerr == nil {
		aerr = c.undeclared
	}
	if aerr != nil {
		if !spec.mayReturn(aerr.code) {
			aerr = apiErr(http.StatusInternalServerError, "InternalFailure", "simulator bug: "+name+" returned undeclared error "+aerr.code+": "+aerr.msg)
		}
		s.writeError(w, aerr)
		return
	}
	s.writeResult(w, name, result)
}

// gate applies per-action throttling and missing permissions.
func (s *Server) gate(action, caller string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle[action] > 0 {
		s.throttle[action]--
		return apiErr(http.StatusBadRequest, "Throttling", "Rate exceeded")
	}
	if s.denied[action] {
		return apiErr(http.StatusForbidden, "AccessDenied", "User: "+s.userARN("/", caller)+" is not authorized to perform: iam:"+action+
			" on resource: "+s.userARN("/", "*")+" because no identity-based policy allows the iam:"+action+" action")
	}
	return nil
}

// Package jenkinssim simulates the parts of a Jenkins controller that offboarding uses, for
// tests, `offboard sim` and the demo: users of Jenkins' own user database, their API tokens,
// the CSRF crumb issuer, token revocation and user deletion.
//
// It is written from the Jenkins documentation and core source, never from the offboard
// connector:
//   - Remote access API (jenkins.io/doc/book/using/remote-access-api/): /…/api/json on any
//     model object; users are model objects at /user/{id}; before Jenkins 2.452 the people
//     list was /asynchPeople/api/json with each user's exported properties (the Mailer
//     plugin's hudson.tasks.Mailer$UserProperty exports `address`). Jenkins 2.452 removed the
//     People view's API (JENKINS-18884); since then that URL answers 404.
//   - Authenticating scripted clients (jenkins.io/doc/book/system-administration/
//     authenticating-scripted-clients/): HTTP Basic with user name and API token; bad
//     credentials answer 401.
//   - CSRF protection (jenkins.io/doc/book/security/csrf-protection/): GET
//     /crumbIssuer/api/json gives `crumb` and `crumbRequestField` (Jenkins-Crumb); since
//     Jenkins 2.176.2 a crumb is only valid with the web session (cookie) it was issued in;
//     since 2.96 requests authenticated with an API token need no crumb. A POST without a
//     valid crumb where one is needed answers 403 "No valid crumb was included in the request".
//   - jenkinsci/jenkins core/src/main/java/jenkins/security/ApiTokenProperty.java:
//     DescriptorImpl.doRevoke(@AncestorInPath User, @QueryParameter tokenUuid) is @RequirePOST,
//     checks Jenkins.ADMINISTER, answers 400 for a blank tokenUuid or a user without the
//     property, and 200 otherwise (also when no token had that UUID). getTokenList() is "only for
//     Jelly": tokens are not in the user's api/json; the token list is rendered on the user's
//     configuration page by ApiTokenProperty/config.jelly (cards with id and data-token-uuid
//     set to the token's UUID and a token-name span). JENKINS-69869 (resolved July 2024, about
//     Jenkins 2.468) split the user's /configure page into categories; the token list moved to
//     the Security page, /user/{id}/security/ (jenkins.io docs tell users to open "Security"
//     to add a token).
//   - jenkinsci/jenkins core/src/main/java/hudson/model/User.java: doDoDelete is @RequirePOST,
//     checks Jenkins.ADMINISTER, answers 400 "Cannot delete self", deletes the user's record
//     (tokens included) and redirects (302) to the root. An unknown user's URL is 404, since
//     users are not created from URLs (User.ALLOW_USER_CREATION_VIA_URL is false by default).
//
// Anything else answers 501.
package jenkinssim

import (
	"crypto/subtle"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Options configures a simulated Jenkins. Zero fields take the defaults given.
type Options struct {
	// AdminUser and AdminToken are the administrator whose API token the connector uses
	// (default user "offboard-admin"). An empty AdminToken authorises nothing.
	AdminUser, AdminToken string
	// CrumbForTokens makes POSTs authenticated with an API token need a crumb, as Jenkins did
	// before 2.96.
	CrumbForTokens bool
	// NoCrumbIssuer models CSRF protection switched off: /crumbIssuer answers 404.
	NoCrumbIssuer bool
	// LegacyConfigurePage lists API tokens on /user/{id}/configure, as Jenkins did before the
	// user pages were split (JENKINS-69869), and answers 404 for /user/{id}/security/.
	LegacyConfigurePage bool
	// PeopleAPI serves the people list at /asynchPeople/api/json, as Jenkins did before 2.452.
	// Off by default, as on current Jenkins (JENKINS-18884 removed it), where the URL is 404.
	PeopleAPI bool
	// PerMinute throttles requests (Jenkins itself has no rate limit; a reverse proxy in front
	// of it may have one, answering 429 with Retry-After). 0 means unlimited.
	PerMinute int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is a simulated Jenkins controller. It works mounted under any path prefix. All
// methods are safe for concurrent use.
type Server struct {
	// Faults injects latency, 5xx, a proxy's 429 and dropped connections.
	Faults *sim.Faults
	// Recorder logs every request answered, injected faults included.
	Recorder *sim.Recorder

	opts    Options
	budget  *sim.Budget
	handler http.Handler
	seq     atomic.Int64

	mu       sync.Mutex
	users    map[string]*user // key: lower-cased ID (Jenkins' default case-insensitive IdStrategy)
	order    []string
	sessions map[string]string // session ID → crumb issued in it
}

type user struct {
	id, fullName, email string
	admin               bool
	tokens              []Token
}

// Token is one API token of a user.
type Token struct {
	// UUID identifies the token; one is made up when empty.
	UUID string
	Name string
	// Value is the secret a client authenticates with (optional: a token without a value
	// exists but cannot be used in tests).
	Value  string
	Legacy bool
}

// New returns a Jenkins holding only the administrator.
func New(opts Options) *Server {
	if opts.AdminUser == "" {
		opts.AdminUser = "offboard-admin"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		Faults:   &sim.Faults{},
		Recorder: &sim.Recorder{},
		opts:     opts,
		budget:   sim.NewBudget(opts.PerMinute),
		users:    make(map[string]*user),
		sessions: make(map[string]string),
	}
	s.budget.SetClock(opts.Now)
	admin := &user{id: opts.AdminUser, fullName: "Offboard Admin", admin: true}
	if opts.AdminToken != "" {
		admin.tokens = []Token{{UUID: "00000000-0000-4000-8000-000000000001", Name: "offboard", Value: opts.AdminToken}}
	}
	s.users[strings.ToLower(admin.id)] = admin
	s.order = append(s.order, strings.ToLower(admin.id))

	mux := sim.NewMux()
	mux.HandleFunc("GET /whoAmI/api/json", s.authed(s.whoAmI))
	mux.HandleFunc("GET /crumbIssuer/api/json", s.authed(s.crumbIssuer))
	mux.HandleFunc("GET /asynchPeople/api/json", s.authed(s.people))
	mux.HandleFunc("GET /user/{id}/api/json", s.authed(s.getUser))
	mux.HandleFunc("GET /user/{id}/security/", s.authed(s.tokenPage(false)))
	mux.HandleFunc("GET /user/{id}/configure", s.authed(s.tokenPage(true)))
	mux.HandleFunc("POST /user/{id}/descriptorByName/jenkins.security.ApiTokenProperty/revoke", s.authed(s.posting(s.revoke)))
	mux.HandleFunc("POST /user/{id}/doDelete", s.authed(s.posting(s.doDelete)))
	s.handler = s.Recorder.Wrap(s.Faults.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, _, ok := s.budget.Take(); !ok {
			s.throttled(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}), s.throttled))
	return s
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// throttled is what a reverse proxy in front of Jenkins answers when it limits requests.
func (s *Server) throttled(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Retry-After", "1")
	errorPage(w, http.StatusTooManyRequests, "Too Many Requests")
}

// errorPage writes a Jenkins-style HTML error page.
func errorPage(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	w.WriteHeader(status)
	esc := html.EscapeString(message)
	fmt.Fprintf(w, "<html><head><title>Error %d %s</title></head><body><h2>HTTP ERROR %d %s</h2><p>%s</p></body></html>\n", status, esc, status, esc, esc)
}

// authed resolves HTTP Basic credentials (user ID and one of their API tokens). Wrong
// credentials answer 401; no credentials make the caller anonymous, who may read nothing here
// (403, as with anonymous read access off).
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *user)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, token, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("X-You-Are-Authenticated-As", "anonymous")
			errorPage(w, http.StatusForbidden, "anonymous is missing the Overall/Read permission")
			return
		}
		s.mu.Lock()
		u := s.users[strings.ToLower(name)]
		valid := u != nil && u.tokenMatches(token)
		s.mu.Unlock()
		if !valid {
			w.Header().Set("WWW-Authenticate", `Basic realm="Jenkins"`)
			errorPage(w, http.StatusUnauthorized, "Invalid password/token for user: "+name)
			return
		}
		w.Header().Set("X-Jenkins", "2.479.3")
		h(w, r, u)
	}
}

func (u *user) tokenMatches(value string) bool {
	for _, t := range u.tokens {
		if t.Value != "" && subtle.ConstantTimeCompare([]byte(t.Value), []byte(value)) == 1 {
			return true
		}
	}
	return false
}

// posting enforces the CSRF crumb on POSTs where this Jenkins needs one: only when
// CrumbForTokens is set, as every caller here authenticates with an API token. The crumb must
// come with the session cookie it was issued in.
func (s *Server) posting(h func(http.ResponseWriter, *http.Request, *user)) func(http.ResponseWriter, *http.Request, *user) {
	return func(w http.ResponseWriter, r *http.Request, u *user) {
		if s.opts.CrumbForTokens && !s.opts.NoCrumbIssuer && !s.validCrumb(r) {
			errorPage(w, http.StatusForbidden, "No valid crumb was included in the request")
			return
		}
		h(w, r, u)
	}
}

const sessionCookie = "JSESSIONID.sim"

func (s *Server) validCrumb(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	crumb := r.Header.Get("Jenkins-Crumb")
	if err != nil || crumb == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want, ok := s.sessions[c.Value]
	return ok && subtle.ConstantTimeCompare([]byte(want), []byte(crumb)) == 1
}

// crumbIssuer issues a crumb bound to a new web session, set as a cookie.
func (s *Server) crumbIssuer(w http.ResponseWriter, _ *http.Request, _ *user) {
	if s.opts.NoCrumbIssuer {
		errorPage(w, http.StatusNotFound, "Not Found")
		return
	}
	n := s.seq.Add(1)
	sid := fmt.Sprintf("node0sim%06d", n)
	crumb := fmt.Sprintf("%064x", n*7919)
	s.mu.Lock()
	s.sessions[sid] = crumb
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", HttpOnly: true})
	sim.WriteJSON(w, http.StatusOK, map[string]string{
		"_class": "hudson.security.csrf.DefaultCrumbIssuer", "crumb": crumb, "crumbRequestField": "Jenkins-Crumb",
	})
}

func (s *Server) whoAmI(w http.ResponseWriter, _ *http.Request, u *user) {
	sim.WriteJSON(w, http.StatusOK, map[string]any{
		"_class": "hudson.security.WhoAmI", "anonymous": false, "authenticated": true,
		"authorities": []string{"authenticated"}, "name": u.id,
	})
}

// requireAdmin answers 403 as Jenkins' ACL does when the caller lacks Overall/Administer.
func requireAdmin(w http.ResponseWriter, u *user) bool {
	if u.admin {
		return true
	}
	w.Header().Set("X-You-Are-Authenticated-As", u.id)
	errorPage(w, http.StatusForbidden, u.id+" is missing the Overall/Administer permission")
	return false
}

// rootURL is the controller's absolute root URL, with the mount prefix kept.
func rootURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	prefix := strings.TrimSuffix(requestPath(r), r.URL.Path)
	return scheme + "://" + r.Host + prefix + "/"
}

// requestPath is the path of the request line, which http.StripPrefix leaves untouched.
func requestPath(r *http.Request) string {
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && r.RequestURI != "" {
		return u.Path
	}
	return r.URL.Path
}

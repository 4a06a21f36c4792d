package githubsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const token = "ghp_simTestToken1234"

// mount serves s under /gh, as `offboard sim` mounts simulators.
func mount(t *testing.T, s *Server) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/gh/", http.StripPrefix("/gh", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.URL + "/gh"
}

func call(t *testing.T, method, url, tok, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func seeded(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	opts.Token = token
	s := New(opts)
	for _, l := range []string{"alice", "bob", "carol"} {
		if err := s.AddUser(User{Login: l}); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.AddMember("alice", RoleOwner)
	_ = s.AddMember("bob", RoleMember)
	_ = s.AddRepo(Repo{Name: "api", Secrets: []string{"B", "A"}})
	_ = s.AddCollaborator("api", "carol", PermWrite)
	return s, mount(t, s)
}

// TestSimulatorBehavesLikeGitHub checks the simulator on its own against GitHub's documented
// behaviour: auth errors, 204/404/422/403 statuses, Link paging under a mount prefix,
// rate-limit headers, the throttle shape, GraphQL errors and 501 for anything unknown.
func TestSimulatorBehavesLikeGitHub(t *testing.T) {
	t.Parallel()
	s, base := seeded(t, Options{SAML: true})

	resp, body := call(t, "GET", base+"/orgs/acme", "wrong", "")
	if resp.StatusCode != 401 || !strings.Contains(body, `"Bad credentials"`) || !strings.Contains(body, "documentation_url") {
		t.Errorf("bad token: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-RateLimit-Limit") != "5000" || resp.Header.Get("X-RateLimit-Reset") == "" {
		t.Errorf("rate headers missing: %v", resp.Header)
	}

	resp, _ = call(t, "DELETE", base+"/orgs/acme/outside_collaborators/bob", token, "")
	if resp.StatusCode != 422 {
		t.Errorf("outside-collaborator removal of a member = %d, want 422", resp.StatusCode)
	}
	resp, _ = call(t, "DELETE", base+"/orgs/acme/memberships/alice", token, "")
	if resp.StatusCode != 403 {
		t.Errorf("removing the last owner = %d, want 403", resp.StatusCode)
	}
	resp, _ = call(t, "DELETE", base+"/orgs/acme/outside_collaborators/carol", token, "")
	if resp.StatusCode != 204 || len(s.Holdings("carol")) != 0 {
		t.Errorf("outside collaborator removal = %d, holdings %v", resp.StatusCode, s.Holdings("carol"))
	}
	resp, _ = call(t, "DELETE", base+"/orgs/acme/memberships/bob", token, "")
	if resp.StatusCode != 204 {
		t.Errorf("membership removal = %d", resp.StatusCode)
	}
	resp, _ = call(t, "GET", base+"/orgs/acme/memberships/bob", token, "")
	if resp.StatusCode != 404 {
		t.Errorf("membership after removal = %d, want 404", resp.StatusCode)
	}

	// Paging: 3 invitations, per_page=2: a next link that keeps the mount prefix.
	for _, e := range []string{"x@a.example", "y@a.example", "z@a.example"} {
		if _, err := s.AddInvitation(Invitation{Email: e}); err != nil {
			t.Fatal(err)
		}
	}
	resp, body = call(t, "GET", base+"/orgs/acme/invitations?per_page=2", token, "")
	link := resp.Header.Get("Link")
	if !strings.Contains(link, `/gh/orgs/acme/invitations?page=2&per_page=2>; rel="next"`) || !strings.Contains(link, `rel="last"`) {
		t.Errorf("Link = %q", link)
	}
	var page []map[string]any
	_ = json.Unmarshal([]byte(body), &page)
	if len(page) != 2 {
		t.Errorf("page 1 has %d items", len(page))
	}
	_, body = call(t, "GET", base+"/repos/acme/api/actions/secrets", token, "")
	if !strings.Contains(body, `"total_count":2`) || strings.Index(body, `"A"`) > strings.Index(body, `"B"`) {
		t.Errorf("secrets = %s", body)
	}

	// Throttle: 403 with retry-after and no remaining budget.
	s.Faults.ThrottleNext(1)
	resp, _ = call(t, "GET", base+"/orgs/acme", token, "")
	if resp.StatusCode != 403 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("throttle = %d %v", resp.StatusCode, resp.Header)
	}

	// GraphQL: unknown queries get errors with 200, not data.
	resp, body = call(t, "POST", base+"/graphql", token, `{"query":"{ viewer { login } }"}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"errors"`) {
		t.Errorf("unknown GraphQL = %d %s", resp.StatusCode, body)
	}
	resp, _ = call(t, "GET", base+"/orgs/acme/teams", token, "")
	if resp.StatusCode != 501 {
		t.Errorf("unknown endpoint = %d, want 501", resp.StatusCode)
	}
}

// TestSimulatorSAMLAndCredentials checks the SAML identities query, null provider without
// SAML, and that credential authorizations are listed only for members.
func TestSimulatorSAMLAndCredentials(t *testing.T) {
	t.Parallel()
	s, base := seeded(t, Options{SAML: true})
	if err := s.AddIdentity(Identity{Login: "bob", NameID: "bob@a.example"}); err != nil {
		t.Fatal(err)
	}
	id, err := s.AddCredential(Credential{Login: "bob", Type: CredentialSSHKey, Fingerprint: "SHA256:x"})
	if err != nil {
		t.Fatal(err)
	}
	q := `{"query":"query($org:String!,$after:String){organization(login:$org){samlIdentityProvider{externalIdentities(first:100,after:$after){nodes{user{login}}}}}}","variables":{"org":"acme"}}`
	_, body := call(t, "POST", base+"/graphql", token, q)
	if !strings.Contains(body, `"nameId":"bob@a.example"`) || !strings.Contains(body, `"login":"bob"`) {
		t.Errorf("identities = %s", body)
	}
	_, body = call(t, "GET", base+"/orgs/acme/credential-authorizations?login=bob", token, "")
	if !strings.Contains(body, `"credential_type":"SSH key"`) {
		t.Errorf("credentials = %s", body)
	}
	call(t, "DELETE", base+"/orgs/acme/memberships/bob", token, "")
	_, body = call(t, "GET", base+"/orgs/acme/credential-authorizations?login=bob", token, "")
	if body != "[]\n" || len(s.Holdings("bob")) != 1 {
		t.Errorf("after membership removal: list %s, holdings %v (credential %d stored but unlisted)", body, s.Holdings("bob"), id)
	}

	_, base2 := seeded(t, Options{})
	_, body = call(t, "POST", base2+"/graphql", token, q)
	if !strings.Contains(body, `"samlIdentityProvider":null`) {
		t.Errorf("no-SAML org = %s", body)
	}
	if err := s.AddMember("nobody", RoleMember); err == nil {
		t.Error("AddMember of an unknown user succeeded")
	}
}

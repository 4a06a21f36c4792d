package awssim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// These tests drive the simulator with raw Query API requests, signed with the AWS SDK's
// SigV4 signer, to show it answers as IAM documents: envelopes, errors, paging, throttling
// and signature checks, mounted under a path prefix.

const (
	testKey    = "AKIASIMTEST000000001"
	testSecret = "simSECRETkey/abc+def0000000000000000000"
)

type harness struct {
	s   *Server
	url string
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	opts.AccessKeyID, opts.SecretAccessKey = testKey, testSecret
	s := New(opts)
	mux := http.NewServeMux()
	mux.Handle("/iam/", http.StripPrefix("/iam", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &harness{s: s, url: ts.URL + "/iam/"}
}

// do sends one signed request and returns the status and body.
func (h *harness) do(t *testing.T, secret string, params map[string]string) (int, string) {
	t.Helper()
	form := url.Values{"Version": {Version}}
	for k, v := range params {
		form.Set(k, v)
	}
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, h.url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if secret != "" {
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: secret}
		if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) call(t *testing.T, params map[string]string) (int, string) {
	t.Helper()
	return h.do(t, testSecret, params)
}

func errorCode(t *testing.T, body string) (typ, code string) {
	t.Helper()
	var e struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}
	if err := xml.Unmarshal([]byte(body), &e); err != nil || e.RequestID == "" || e.Message == "" {
		t.Fatalf("not IAM's error body (%v): %s", err, body)
	}
	return e.Type, e.Code
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestAuthentication shows the signature checks: unsigned, unknown key, wrong secret.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	if st, body := h.do(t, "", map[string]string{"Action": "ListUsers"}); st != 403 {
		t.Errorf("unsigned: %d %s", st, body)
	} else if _, code := errorCode(t, body); code != "MissingAuthenticationToken" {
		t.Errorf("unsigned: code %s", code)
	}
	st, body := h.do(t, "wrong", map[string]string{"Action": "ListUsers"})
	if _, code := errorCode(t, body); st != 403 || code != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %d %s", st, code)
	}
	other := New(Options{AccessKeyID: "AKIAOTHER0000000000", SecretAccessKey: testSecret})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=ListUsers&Version=2010-05-08"))
	sum := sha256.Sum256([]byte("Action=ListUsers&Version=2010-05-08"))
	mustDo(t, v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()))
	other.ServeHTTP(rec, req)
	if _, code := errorCode(t, rec.Body.String()); rec.Code != 403 || code != "InvalidClientTokenId" {
		t.Errorf("unknown key: %d %s", rec.Code, code)
	}
	if st, body := h.call(t, map[string]string{"Action": "ListUsers"}); st != 200 || !strings.Contains(body, "<ListUsersResponse") {
		t.Errorf("signed under the /iam prefix: %d %s", st, body)
	}
}

// TestEnvelopesAndErrors shows the success envelope, NoSuchEntity for a missing login
// profile, the URL-encoded policy document and 501 for what is not implemented.
func TestEnvelopesAndErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	mustDo(t, h.s.AddUser(User{Name: "ann", Tags: []Tag{{"email", "ann@x.example"}}}))
	st, body := h.call(t, map[string]string{"Action": "GetUser", "UserName": "ANN"})
	for _, want := range []string{`<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">`, "<GetUserResult><User>", "<UserName>ann</UserName>",
		"<Tags><member><Key>email</Key><Value>ann@x.example</Value></member></Tags>", "<ResponseMetadata><RequestId>"} {
		if st != 200 || !strings.Contains(body, want) {
			t.Errorf("GetUser (names are case-insensitive): %d, missing %s in %s", st, want, body)
		}
	}
	st, body = h.call(t, map[string]string{"Action": "GetLoginProfile", "UserName": "ann"})
	if typ, code := errorCode(t, body); st != 404 || code != "NoSuchEntity" || typ != "Sender" {
		t.Errorf("no login profile: %d %s %s", st, typ, code)
	}
	mustDo(t, h.s.PutInlinePolicy("ann", "p", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}`))
	_, body = h.call(t, map[string]string{"Action": "GetUserPolicy", "UserName": "ann", "PolicyName": "p"})
	if !strings.Contains(body, "%7B%22Version%22%3A%222012-10-17%22") {
		t.Errorf("policy document not URL-encoded: %s", body)
	}
	if st, _ := h.call(t, map[string]string{"Action": "CreateUser", "UserName": "x"}); st != 501 {
		t.Errorf("unimplemented action: %d", st)
	}
	if st, _ := h.call(t, map[string]string{"Action": "ListUsers", "MaxItems": "0"}); st != 400 {
		t.Errorf("MaxItems 0: %d", st)
	}
	if st, _ := h.call(t, map[string]string{"Action": "ListGroupsForUser"}); st != 400 {
		t.Errorf("missing required UserName: %d", st)
	}
}

// TestPaging shows Marker/IsTruncated paging, capped by PageLimit below MaxItems.
func TestPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{PageLimit: 2})
	for _, n := range []string{"u1", "u2", "u3", "u4"} {
		mustDo(t, h.s.AddUser(User{Name: n}))
	}
	var names []string
	marker := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		params := map[string]string{"Action": "ListUsers", "MaxItems": "100"}
		if marker != "" {
			params["Marker"] = marker
		}
		_, body := h.call(t, params)
		var out struct {
			Users       []string `xml:"ListUsersResult>Users>member>UserName"`
			IsTruncated bool     `xml:"ListUsersResult>IsTruncated"`
			Marker      string   `xml:"ListUsersResult>Marker"`
		}
		mustDo(t, xml.Unmarshal([]byte(body), &out))
		if len(out.Users) > 2 {
			t.Errorf("page of %d, want at most 2", len(out.Users))
		}
		names = append(names, out.Users...)
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if strings.Join(names, ",") != "offboard-automation,u1,u2,u3,u4" {
		t.Errorf("users = %v", names)
	}
}

// TestDeleteConflictUntilEverythingIsGone shows DeleteUser's refusal while anything is
// attached, and DeleteVirtualMFADevice's while the device is assigned.
func TestDeleteConflictUntilEverythingIsGone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	mustDo(t, h.s.AddUser(User{Name: "ann"}))
	mustDo(t, h.s.AddLoginProfile("ann"))
	serial, err := h.s.AddMFADevice("ann", MFADevice{Virtual: true})
	mustDo(t, err)
	st, body := h.call(t, map[string]string{"Action": "DeleteUser", "UserName": "ann"})
	if _, code := errorCode(t, body); st != 409 || code != "DeleteConflict" {
		t.Fatalf("delete with a login profile: %d %s", st, code)
	}
	st, body = h.call(t, map[string]string{"Action": "DeleteVirtualMFADevice", "SerialNumber": serial})
	if _, code := errorCode(t, body); st != 409 || code != "DeleteConflict" {
		t.Errorf("delete an assigned virtual device: %d %s", st, code)
	}
	for _, p := range []map[string]string{
		{"Action": "DeleteLoginProfile", "UserName": "ann"},
		{"Action": "DeactivateMFADevice", "UserName": "ann", "SerialNumber": serial},
		{"Action": "DeleteVirtualMFADevice", "SerialNumber": serial},
		{"Action": "DeleteUser", "UserName": "ann"},
	} {
		if st, body := h.call(t, p); st != 200 {
			t.Fatalf("%s: %d %s", p["Action"], st, body)
		}
	}
	if st, _ := h.call(t, map[string]string{"Action": "DeleteUser", "UserName": "ann"}); st != 404 {
		t.Errorf("second delete: %d, want 404 NoSuchEntity", st)
	}
}

// TestThrottlingAndDenied shows IAM's throttle (400 Throttling "Rate exceeded", from Faults
// and per action) and AccessDenied for a permission the caller lacks.
func TestThrottlingAndDenied(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.s.Faults.ThrottleNext(1)
	st, body := h.call(t, map[string]string{"Action": "ListUsers"})
	if _, code := errorCode(t, body); st != 400 || code != "Throttling" || !strings.Contains(body, "Rate exceeded") {
		t.Errorf("injected throttle: %d %s", st, body)
	}
	h.s.ThrottleAction("GetUser", 1)
	if st, _ := h.call(t, map[string]string{"Action": "GetUser"}); st != 400 {
		t.Errorf("per-action throttle: %d", st)
	}
	h.s.Deny("ListUsers")
	st, body = h.call(t, map[string]string{"Action": "ListUsers"})
	if _, code := errorCode(t, body); st != 403 || code != "AccessDenied" || !strings.Contains(body, "iam:ListUsers") {
		t.Errorf("denied: %d %s", st, body)
	}
	calls := h.s.Recorder.Calls()
	if ActionOf(calls[0]) != "ListUsers" || !ReadOnly(calls[0]) {
		t.Errorf("recorded call does not name its action: %+v", calls[0])
	}
}

// TestSessionsAndHoldings shows how live sessions end: deleting the password or the keys
// does not end them; a deny-everything policy covering their issue time does; a policy that
// does not cover them (a narrower deny, an earlier cutoff) does not.
func TestSessionsAndHoldings(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	mustDo(t, h.s.AddUser(User{Name: "ann"}))
	mustDo(t, h.s.AddLoginProfile("ann"))
	issued := time.Now().Add(-time.Hour).UTC()
	mustDo(t, h.s.AddSession("ann", Session{ID: "s1", IssuedAt: issued}))
	if _, body := h.call(t, map[string]string{"Action": "DeleteLoginProfile", "UserName": "ann"}); strings.Contains(body, "Error") {
		t.Fatal(body)
	}
	deny := func(cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"` + cond + `}]}`
	}
	for _, tc := range []struct {
		doc   string
		valid bool
	}{
		{`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}`, true},
		{deny(`,"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + issued.Add(-time.Minute).Format(time.RFC3339) + `"}}`), true},
		{deny(`,"Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}`), true},
		{deny(`,"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + issued.Add(time.Minute).Format(time.RFC3339) + `"}}`), false},
		{deny(""), false},
	} {
		st, body := h.call(t, map[string]string{"Action": "PutUserPolicy", "UserName": "ann", "PolicyName": "d", "PolicyDocument": tc.doc})
		if st != 200 {
			t.Fatalf("put %s: %d %s", tc.doc, st, body)
		}
		if got := h.s.Sessions("ann")["s1"]; got != tc.valid {
			t.Errorf("with %s the session is valid=%v, want %v", tc.doc, got, tc.valid)
		}
		held := strings.Join(h.s.Holdings("ann"), "; ")
		if strings.Contains(held, "session s1") != tc.valid {
			t.Errorf("holdings %q disagree with the session's validity %v", held, tc.valid)
		}
	}
	if held := h.s.Holdings("ann"); len(held) != 0 {
		t.Errorf("deny-only policies are not holdings: %q", held)
	}
	st, body := h.call(t, map[string]string{"Action": "PutUserPolicy", "UserName": "ann", "PolicyName": "bad", "PolicyDocument": "{nope"})
	if _, code := errorCode(t, body); st != 400 || code != "MalformedPolicyDocument" {
		t.Errorf("malformed: %d %s", st, code)
	}
}

// TestInlineQuotaAndTags shows the inline policy quota and TagUser's replace-by-key.
func TestInlineQuotaAndTags(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{InlinePolicyQuota: 120})
	mustDo(t, h.s.AddUser(User{Name: "ann", Tags: []Tag{{"team", "a"}}}))
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}}`
	if st, body := h.call(t, map[string]string{"Action": "PutUserPolicy", "UserName": "ann", "PolicyName": "one", "PolicyDocument": doc}); st != 200 {
		t.Fatal(body)
	}
	st, body := h.call(t, map[string]string{"Action": "PutUserPolicy", "UserName": "ann", "PolicyName": "two", "PolicyDocument": doc})
	if _, code := errorCode(t, body); st != 409 || code != "LimitExceeded" {
		t.Errorf("over quota: %d %s", st, code)
	}
	if st, body := h.call(t, map[string]string{"Action": "TagUser", "UserName": "ann", "Tags.member.1.Key": "team", "Tags.member.1.Value": "b",
		"Tags.member.2.Key": "offboarded-at", "Tags.member.2.Value": "2026-01-01T00:00:00Z"}); st != 200 {
		t.Fatal(body)
	}
	if got := h.s.TagsOf("ann"); len(got) != 2 || got[0] != (Tag{"team", "b"}) || got[1].Key != "offboarded-at" {
		t.Errorf("tags = %v", got)
	}
}

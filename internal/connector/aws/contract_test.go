package aws

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/offboard-dev/offboard/internal/apispec"
	"github.com/offboard-dev/offboard/internal/connector/aws/awssim"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
)

// The contract tests check the simulator's action table and the connector's requests against
// AWS's own Smithy model of IAM (aws/api-models-aws, iam-2010-05-08.json), so that neither
// can drift into an API IAM does not have.

const modelFile = "aws/iam-2010-05-08.json"

const shapePrefix = "com.amazonaws.iam#"

type smithyModel struct {
	Shapes map[string]smithyShape `json:"shapes"`
}

type smithyShape struct {
	Type    string                  `json:"type"`
	Input   *smithyRef              `json:"input"`
	Errors  []smithyRef             `json:"errors"`
	Members map[string]smithyMember `json:"members"`
	Traits  map[string]json.RawMessage
}

type smithyRef struct {
	Target string `json:"target"`
}

type smithyMember struct {
	Target string                     `json:"target"`
	Traits map[string]json.RawMessage `json:"traits"`
}

// operation is what the contract needs of one IAM operation.
type operation struct {
	inputs   []string
	required []string
	errors   map[string]int // awsQueryError code → HTTP status
}

func loadModel(t *testing.T) map[string]operation {
	t.Helper()
	path := filepath.Join(apispec.Dir(), filepath.FromSlash(modelFile))
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("IAM Smithy model not found at %s; set OFFBOARD_SPECS_DIR to the folder holding %s to run this contract test", path, modelFile)
	}
	must(t, err)
	var m smithyModel
	must(t, json.Unmarshal(raw, &m))
	ops := map[string]operation{}
	for id, sh := range m.Shapes {
		if sh.Type != "operation" {
			continue
		}
		op := operation{errors: map[string]int{}}
		if sh.Input != nil {
			for name, mem := range m.Shapes[sh.Input.Target].Members {
				op.inputs = append(op.inputs, name)
				if _, ok := mem.Traits["smithy.api#required"]; ok {
					op.required = append(op.required, name)
				}
			}
		}
		for _, e := range sh.Errors {
			var q struct {
				Code   string `json:"code"`
				Status int    `json:"httpResponseCode"`
			}
			if err := json.Unmarshal(m.Shapes[e.Target].Traits["aws.protocols#awsQueryError"], &q); err == nil {
				op.errors[q.Code] = q.Status
			}
		}
		ops[strings.TrimPrefix(id, shapePrefix)] = op
	}
	if len(ops) < 100 {
		t.Fatalf("only %d operations read from %s; is it the IAM model?", len(ops), path)
	}
	return ops
}

// TestContract checks the simulator and the connector against the model.
func TestContract(t *testing.T) {
	t.Parallel()
	ops := loadModel(t)
	t.Run("SimulatorImplementsOnlyModelledActions", func(t *testing.T) { simulatorActionsAreModelled(t, ops) })
	t.Run("ConnectorSendsOnlyModelledRequests", func(t *testing.T) { connectorRequestsAreModelled(t, ops) })
}

func simulatorActionsAreModelled(t *testing.T, ops map[string]operation) {
	for _, a := range awssim.Actions() {
		op, ok := ops[a.Name]
		if !ok {
			t.Errorf("the simulator implements %s, which IAM does not have", a.Name)
			continue
		}
		for _, p := range a.Params {
			if !slices.Contains(op.inputs, p) {
				t.Errorf("the simulator reads %s.%s, which is not an input member (members: %v)", a.Name, p, op.inputs)
			}
		}
		for _, code := range a.Errors {
			if _, ok := op.errors[code]; !ok {
				t.Errorf("the simulator may answer %s with %s, which the operation does not declare (declared: %v)", a.Name, code, op.errors)
			}
		}
		readOnly := strings.HasPrefix(a.Name, "List") || strings.HasPrefix(a.Name, "Get")
		if a.ReadOnly != readOnly {
			t.Errorf("%s is marked read-only=%v", a.Name, a.ReadOnly)
		}
	}
	for _, code := range awssim.CommonErrors() {
		for name, op := range ops {
			if _, declared := op.errors[code]; declared {
				t.Errorf("%s is treated as a common error but the model declares it for %s", code, name)
			}
		}
	}
}

// formRecorder keeps every form body sent to the simulator, with its action's answer status.
type formRecorder struct {
	mu    sync.Mutex
	forms []url.Values
}

func (f *formRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil {
			f.mu.Lock()
			f.forms = append(f.forms, form)
			f.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// connectorRequestsAreModelled runs whole offboardings (check, plan, apply and verify, a
// second apply, with and without deletion) and checks every request: the action exists and
// the simulator implements it, its parameters are input members, its required members are
// present, and every error status answered is one the operation (or AWS's common errors)
// documents.
func connectorRequestsAreModelled(t *testing.T, ops map[string]operation) {
	implemented := map[string]bool{}
	for _, a := range awssim.Actions() {
		implemented[a.Name] = true
	}
	used := map[string]bool{}
	for _, deleteUser := range []bool{false, true} {
		s := awssim.New(awssim.Options{AccessKeyID: accessKeyID, SecretAccessKey: secretKey, PageLimit: 1})
		rec := &formRecorder{}
		mux := http.NewServeMux()
		mux.Handle("/aws/", rec.wrap(http.StripPrefix("/aws", s)))
		ts := httptest.NewServer(mux)
		defer ts.Close()
		seedJane(t, s)
		e := &env{sim: s, url: ts.URL + "/aws/"}
		c := e.connector(t, secretKey, Config{MatchTag: "email", DeleteUser: deleteUser})
		must(t, c.Check(t.Context()))
		p, err := c.Plan(t.Context(), jane)
		must(t, err)
		connectortest.ApplyInOrder(t.Context(), t, c, p.Actions)
		for _, a := range p.Actions {
			must(t, c.Apply(t.Context(), a))
		}
		if _, err := c.Plan(t.Context(), jane); err != nil {
			t.Fatal(err)
		}
		for _, form := range rec.forms {
			action := form.Get("Action")
			used[action] = true
			op, ok := ops[action]
			switch {
			case !ok:
				t.Errorf("the connector called %s, which IAM does not have", action)
				continue
			case !implemented[action]:
				t.Errorf("the connector called %s, which the simulator does not implement", action)
			}
			sent := map[string]bool{}
			for k := range form {
				if k == "Action" || k == "Version" {
					continue
				}
				member, _, _ := strings.Cut(k, ".") // Tags.member.1.Key is the member Tags
				sent[member] = true
				if !slices.Contains(op.inputs, member) {
					t.Errorf("%s sends %s, which is not an input member", action, k)
				}
			}
			for _, r := range op.required {
				if !sent[r] {
					t.Errorf("%s is sent without its required member %s", action, r)
				}
			}
		}
		for _, call := range s.Recorder.Calls() {
			if call.Status < 300 {
				continue
			}
			action := awssim.ActionOf(call)
			documented := call.Status == http.StatusBadRequest || call.Status == http.StatusForbidden
			for _, status := range ops[action].errors {
				documented = documented || status == call.Status
			}
			if !documented {
				t.Errorf("%s answered %d, which no declared or common error has", action, call.Status)
			}
		}
	}
	for _, want := range []string{
		"ListUsers", "ListUserTags", "GetUser", "GetLoginProfile", "ListAccessKeys", "GetAccessKeyLastUsed",
		"ListMFADevices", "ListSSHPublicKeys", "ListSigningCertificates", "ListServiceSpecificCredentials",
		"ListGroupsForUser", "ListAttachedUserPolicies", "ListUserPolicies", "GetUserPolicy", "PutUserPolicy",
		"DeleteLoginProfile", "UpdateAccessKey", "DeleteAccessKey", "DeactivateMFADevice", "DeleteVirtualMFADevice",
		"DeleteSSHPublicKey", "DeleteSigningCertificate", "DeleteServiceSpecificCredential", "RemoveUserFromGroup",
		"DetachUserPolicy", "DeleteUserPolicy", "TagUser", "DeleteUser",
	} {
		if !used[want] {
			t.Errorf("the run never called %s; the contract check is missing it", want)
		}
	}
}

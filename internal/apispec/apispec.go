// Package apispec loads the vendors' own API descriptions (../shared/specs beside the
// repository) for contract tests: each test checks that the requests a client makes and the
// answers its simulator gives are operations and statuses the vendor documents. It is used by
// tests only.
package apispec

import (
	"fmt"
	"maps"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Spec is one loaded description: a router over its operations.
type Spec struct {
	router routers.Router
	ops    map[string]*openapi3.Operation // "METHOD /template"
	params map[string]openapi3.Parameters // the path item's and the operation's parameters
}

// Dir is the folder holding the descriptions: $OFFBOARD_SPECS_DIR, or ../shared/specs beside
// the repository root (the folder with go.mod above the working directory).
func Dir() string {
	if d := os.Getenv("OFFBOARD_SPECS_DIR"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "specs")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

type loaded struct {
	once sync.Once
	spec *Spec
	err  error
	path string
}

// cache keeps each description loaded once per test binary (some are megabytes of YAML).
var cache sync.Map

// Load returns the description at file (relative to Dir), or skips the test with a clear
// message when it is absent.
func Load(t *testing.T, file string) *Spec {
	t.Helper()
	v, _ := cache.LoadOrStore(file, &loaded{})
	l := v.(*loaded)
	l.once.Do(func() {
		l.path = filepath.Join(Dir(), file)
		if _, err := os.Stat(l.path); err != nil {
			return
		}
		l.spec, l.err = parse(l.path)
	})
	if l.spec == nil && l.err == nil {
		t.Skipf("API description not found at %s; set OFFBOARD_SPECS_DIR to the folder holding %s to run this contract test", l.path, file)
	}
	if l.err != nil {
		t.Fatalf("load %s: %v", l.path, l.err)
	}
	return l.spec
}

// parse loads the description and routes over a skeleton of it (paths, methods, path
// parameters, response codes): routing needs no more, and whole vendor documents do not
// always pass kin-openapi's validation. Templates that differ only in parameter names
// (Jira's /field/{id} and /field/{fieldId}), which a router refuses, are merged under the
// first.
func parse(path string) (*Spec, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, err
	}
	s := &Spec{ops: map[string]*openapi3.Operation{}, params: map[string]openapi3.Parameters{}}
	skeleton := &openapi3.T{OpenAPI: doc.OpenAPI, Info: &openapi3.Info{Title: filepath.Base(path), Version: "1"}, Paths: openapi3.NewPaths()}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	first := map[string]string{}
	for _, p := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(p)
		shape := param.ReplaceAllString(p, "{}")
		at, seen := first[shape]
		if !seen {
			first[shape], at = p, p
			skeleton.Paths.Set(p, &openapi3.PathItem{})
		}
		bare := skeleton.Paths.Value(at)
		for method, op := range item.Operations() {
			if bare.GetOperation(method) != nil {
				continue
			}
			key := method + " " + at
			s.ops[key] = op
			s.params[key] = append(slices.Clone(item.Parameters), op.Parameters...)
			shell := openapi3.NewOperation()
			shell.OperationID = op.OperationID
			shell.Responses = openapi3.NewResponses()
			for code := range op.Responses.Map() {
				shell.Responses.Set(code, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(code)})
			}
			for _, m := range param.FindAllStringSubmatch(at, -1) {
				shell.AddParameter(openapi3.NewPathParameter(m[1]).WithSchema(openapi3.NewStringSchema()))
			}
			bare.SetOperation(method, shell)
		}
	}
	if s.router, err = legacy.NewRouter(skeleton); err != nil {
		return nil, fmt.Errorf("route %s: %w", path, err)
	}
	return s, nil
}

// Operation finds the operation a request resolves to: its key ("METHOD /template") and
// description.
func (s *Spec) Operation(method, path string) (key string, op *openapi3.Operation, ok bool) {
	route, _, err := s.router.FindRoute(httptest.NewRequest(method, (&url.URL{Path: path}).EscapedPath(), nil))
	if err != nil {
		return "", nil, false
	}
	key = method + " " + route.Path
	return key, s.ops[key], true
}

// Query lists the query parameters the operation declares.
func (s *Spec) Query(key string) []string {
	var names []string
	for _, p := range s.params[key] {
		if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
			names = append(names, p.Value.Name)
		}
	}
	return names
}

// Documented reports whether the operation documents the status as a response.
func Documented(op *openapi3.Operation, status int) bool {
	return op.Responses.Value(strconv.Itoa(status)) != nil
}

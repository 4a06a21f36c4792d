package app

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// repoRoot walks up from the package directory to the folder holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// TestEverySystemHasDocsAndConformance keeps the promise that adding a system means its docs
// page and its conformance run exist too.
func TestEverySystemHasDocsAndConformance(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	seen := map[string]bool{}
	for _, s := range Systems {
		t.Run(s.Name, func(t *testing.T) {
			if seen[s.Name] {
				t.Fatalf("system %q listed twice", s.Name)
			}
			seen[s.Name] = true
			doc, err := os.ReadFile(filepath.Join(root, s.Doc))
			if err != nil {
				t.Fatalf("docs page missing: %v", err)
			}
			for _, section := range []string{"ermission", "ction", "erif"} {
				if !strings.Contains(string(doc), section) {
					t.Errorf("%s does not cover %q (permissions, actions, verification)", s.Doc, section)
				}
			}
			tests, _ := filepath.Glob(filepath.Join(root, s.Package, "*_test.go"))
			found := false
			for _, f := range tests {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), "connectortest.Run(") {
					found = true
				}
			}
			if !found {
				t.Errorf("no test in %s runs connectortest.Run against the simulator", s.Package)
			}
			if s.RealServer {
				return
			}
			if _, err := os.Stat(filepath.Join(root, s.Package, s.Name+"sim")); err != nil {
				t.Errorf("no simulator beside the connector: %v", err)
			}
		})
	}
}

// TestVendorClientKeepsCredentialsOnTheVendorsHost protects credentials from a vendor (or an
// attacker in its place) answering with a redirect to another host.
func TestVendorClientKeepsCredentialsOnTheVendorsHost(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
	}))
	defer elsewhere.Close()
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/here" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		target := elsewhere.URL
		if r.URL.Path == "/same" {
			target = "/here"
		}
		http.Redirect(w, r, target, http.StatusFound)
	}))
	defer vendor.Close()
	hc := Options{}.httpClient()
	for path, wantErr := range map[string]bool{"/away": true, "/same": false} {
		req, _ := http.NewRequest(http.MethodGet, vendor.URL+path, nil)
		req.Header.Set("Authorization", "SSWS secret-token")
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if (err != nil) != wantErr {
			t.Errorf("GET %s: err = %v, want error %v", path, err, wantErr)
		}
	}
	if leaked.Load() {
		t.Error("a credential header reached another host through a redirect")
	}
}

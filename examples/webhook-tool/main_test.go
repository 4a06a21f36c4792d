package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/offboard-dev/offboard/examples/webhook-tool/tool"
)

// TestSecretIsRequired protects against running the tool with no or a guessable secret.
func TestSecretIsRequired(t *testing.T) {
	t.Setenv("WEBHOOK_TOOL_SECRET", "short")
	if _, err := readSecret(""); err == nil {
		t.Error("a short secret was accepted")
	}
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("file-secret-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := readSecret(file); err != nil || s != "file-secret-0123456789abcdef" {
		t.Errorf("readSecret(file) = %q, %v", s, err)
	}
}

// TestDemoSeed protects the README's walkthrough: dana holds two roles and a key.
func TestDemoSeed(t *testing.T) {
	a := tool.NewAdmin()
	if err := seed(a); err != nil {
		t.Fatal(err)
	}
	if h := a.Holdings("dana@acme.example"); len(h) != 4 {
		t.Errorf("dana's holdings %q", h)
	}
}

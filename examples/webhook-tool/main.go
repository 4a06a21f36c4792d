// Command webhook-tool is an example internal admin tool that offboard offboards people from
// through its webhook protocol. Copy this folder, replace tool/admin.go with calls to your own
// tool, and point a connectors.webhook entry of offboard's configuration at it.
//
//	WEBHOOK_TOOL_SECRET=$(openssl rand -hex 32) go run ./examples/webhook-tool -demo
//
// The secret is read from the environment (or a file) so it never appears in a process list.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/examples/webhook-tool/tool"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8088", "address to listen on")
	secretFile := flag.String("secret-file", "", "file holding the shared secret (default: $WEBHOOK_TOOL_SECRET)")
	demo := flag.Bool("demo", false, "seed two demo accounts (dana and sam)")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *secretFile, *demo, log); err != nil {
		log.Error("webhook-tool stopped", "error", err)
		os.Exit(1)
	}
}

func run(addr, secretFile string, demo bool, log *slog.Logger) error {
	secret, err := readSecret(secretFile)
	if err != nil {
		return err
	}
	admin := tool.NewAdmin()
	if demo {
		if err := seed(admin); err != nil {
			return err
		}
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           tool.NewHandler(tool.Options{Secret: secret, Admin: admin, Log: log}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
	}
	log.Info("webhook-tool listening", "addr", addr, "demo", demo)
	return srv.ListenAndServe()
}

func readSecret(file string) (string, error) {
	secret := os.Getenv("WEBHOOK_TOOL_SECRET")
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read secret: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	if len(secret) < 16 {
		return "", errors.New("set WEBHOOK_TOOL_SECRET (or -secret-file) to the secret shared with offboard, at least 16 characters")
	}
	return secret, nil
}

// seed creates dana (a leaver with roles and keys) and sam (a colleague who stays).
func seed(a *tool.Admin) error {
	if _, err := a.AddAccount("dana", "dana@acme.example", "Dana Leaver"); err != nil {
		return err
	}
	if _, err := a.AddAccount("sam", "sam@acme.example", "Sam Stays"); err != nil {
		return err
	}
	for _, step := range []func() error{
		func() error { return a.GrantRole("dana", "admin") },
		func() error { return a.GrantRole("dana", "billing") },
		func() error { _, err := a.AddAPIKey("dana", "ci-deploy"); return err },
		func() error { return a.GrantRole("sam", "admin") },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/offboard-dev/offboard/internal/app"
	"github.com/offboard-dev/offboard/internal/connector"
)

func newCheckCmd(e *env) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Check every configured system's credentials and permissions; changes nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := openApp(ctx, configPath, app.Options{LogTo: e.stderr})
			if err != nil {
				return err
			}
			defer a.Close()
			type check struct {
				name string
				run  func(context.Context) error
			}
			var checks []check
			for _, c := range a.Connectors {
				if ch, ok := c.(connector.Checker); ok {
					checks = append(checks, check{c.System(), ch.Check})
				} else {
					checks = append(checks, check{c.System(), nil})
				}
			}
			if ch, ok := a.Tracker.(connector.Checker); ok {
				checks = append(checks, check{"ticket (jira)", ch.Check})
			}
			if a.Poller != nil {
				checks = append(checks, check{"hr (workday report)", func(ctx context.Context) error {
					_, err := a.Poller.Fetch(ctx)
					return err
				}})
			}
			failed := 0
			for _, c := range checks {
				if c.run == nil {
					fmt.Fprintf(e.stdout, "  ?  %s: this connector has no self-check\n", c.name)
					continue
				}
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := c.run(cctx)
				cancel()
				if err != nil {
					failed++
					// Connectors' errors already start with their system's name.
					msg := strings.TrimPrefix(err.Error(), c.name+": ")
					fmt.Fprintf(e.stdout, "  ✗  %s: %s\n", c.name, a.Redactor.Redact(msg))
					continue
				}
				fmt.Fprintf(e.stdout, "  ✓  %s\n", c.name)
			}
			if failed > 0 {
				return withCode(ExitError, fmt.Errorf("%d of %d checks failed", failed, len(checks)))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file (required)")
	return cmd
}

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"

	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/offboard-dev/offboard/internal/app"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/workflow"
)

// personFlags are the ways a command names the leaver.
type personFlags struct {
	email    string
	workerID string
	name     string
	manager  string
	handles  map[string]string
}

func (p *personFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.email, "email", "", "the leaver's work email")
	cmd.Flags().StringVar(&p.workerID, "worker-id", "", "the leaver's HR worker ID (looked up in the Workday report when no email is given)")
	cmd.Flags().StringVar(&p.name, "name", "", "the leaver's name, for the ticket (optional)")
	cmd.Flags().StringVar(&p.manager, "manager", "", "the leaver's manager's email, who receives handed-over data (optional)")
	cmd.Flags().StringToStringVar(&p.handles, "handle", nil, "the leaver's identity in a system where it is not the email, e.g. --handle github=octocat (repeatable)")
}

func (p *personFlags) check() error {
	if strings.TrimSpace(p.email) == "" && strings.TrimSpace(p.workerID) == "" {
		return usageErr("give --email or --worker-id")
	}
	if m := strings.TrimSpace(p.manager); m != "" {
		if a, err := mail.ParseAddress(m); err != nil || a.Address != m {
			return usageErr("--manager %q is not an email address", m)
		}
	}
	if problems := hr.HandleProblems(p.handles); len(problems) > 0 {
		return usageErr("--handle: %s", strings.Join(problems, "; "))
	}
	return nil
}

// person resolves the leaver named by the flags, with the handles given.
func (p *personFlags) person(ctx context.Context, a *app.Planner) (connector.Person, error) {
	person, err := a.ResolvePerson(ctx, p.email, p.workerID, p.name)
	if len(p.handles) > 0 {
		person.Handles = p.handles
	}
	if m := strings.TrimSpace(p.manager); m != "" {
		person.Manager = m
	}
	return person, err
}

func checkOutput(output string) error {
	if output != "text" && output != "json" {
		return usageErr("--output must be text or json, not %q", output)
	}
	return nil
}

func stdinIsTerminal() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

func newPlanCmd(e *env) *cobra.Command {
	var configPath, output string
	var who personFlags
	cmd := &cobra.Command{
		Use:   "plan --config FILE (--email E | --worker-id W)",
		Short: "Print every access that would be removed or kept for a person; changes nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := who.check(); err != nil {
				return err
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			cfg, err := loadConfig(configPath)
			if err != nil {
				return err
			}
			a, err := app.NewPlanner(cfg, e.stderr)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			ctx := cmd.Context()
			person, err := who.person(ctx, a)
			if err != nil {
				return err
			}
			plans, err := workflow.PlanAll(ctx, a.Connectors, person, workflow.PlanOptions{Redact: a.Redactor.Redact})
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(e, map[string]any{"person": person, "plans": plans})
			}
			printPlan(e.stdout, person, plans)
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	who.register(cmd)
	return cmd
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func loadConfig(path string) (*app.Config, error) {
	if path == "" {
		return nil, usageErr("--config is required (try `offboard demo` to run without one)")
	}
	cfg, err := app.LoadConfig(path)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	return cfg, nil
}

// plannedActions counts the actions across plans.
func plannedActions(plans []connector.Plan) int {
	n := 0
	for _, p := range plans {
		n += len(p.Actions)
	}
	return n
}

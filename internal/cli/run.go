package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/offboard-dev/offboard/internal/app"
	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/workflow"
)

func newRunCmd(e *env) *cobra.Command {
	var configPath, output, reason string
	var yes, involuntary bool
	var who personFlags
	cmd := &cobra.Command{
		Use:   "run --config FILE (--email E | --worker-id W) [--yes]",
		Short: "Offboard one person now: plan, confirm, apply, verify, update the ticket",
		Long: `run plans, shows the plan and asks for confirmation (it refuses without --yes when stdin
is not a terminal), then applies and verifies every action and updates the ticket.

Exit status: 0 when every action is verified; 3 when the case is left partial (it stays open
and 'offboard serve' keeps retrying it); 2 for usage or configuration errors; 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := who.check(); err != nil {
				return err
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			if !yes && !e.isTerminal() {
				return usageErr("refusing to change anything without --yes: stdin is not a terminal to confirm on")
			}
			ctx := cmd.Context()
			a, err := openApp(ctx, configPath, app.Options{LogTo: e.stderr})
			if err != nil {
				return err
			}
			defer a.Close()
			person, err := who.person(ctx, &a.Planner)
			if err != nil {
				return err
			}
			plans, err := a.Engine.PlanAll(ctx, person, false)
			if err != nil {
				return err
			}
			progressOut := e.stdout
			if output == "json" {
				progressOut = e.stderr
			}
			printPlan(progressOut, person, plans)
			if !yes && !confirm(e.stdin, progressOut, plannedActions(plans)) {
				return withCode(ExitError, errors.New("not confirmed; nothing was changed"))
			}
			if err := a.Engine.Start(ctx); err != nil {
				return err
			}
			defer func() {
				// Let jobs in flight finish; what remains (retries of a partial case) waits in the
				// store for the next `offboard serve`.
				stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_ = a.Engine.Stop(stop)
			}()
			ev := hr.Event{
				ID:     fmt.Sprintf("cli:%s:%s", firstNonEmpty(person.WorkerID, person.Email), time.Now().UTC().Format(time.RFC3339Nano)),
				Source: "cli", Actor: "cli:" + currentUser(), Type: hr.Termination,
				WorkerID: person.WorkerID, Email: person.Email, Name: person.Name, Manager: person.Manager,
				EffectiveAt: time.Now(), Reason: reason, Involuntary: involuntary,
			}
			receipt, err := a.Engine.Open(ctx, ev, plans)
			if err != nil {
				return err
			}
			if receipt.Outcome == hr.Duplicate {
				fmt.Fprintf(progressOut, "%s; following case %d\n", receipt.Note, receipt.CaseID)
			}
			v, err := follow(ctx, a.Engine, receipt.CaseID, newProgress(progressOut))
			if err != nil {
				return err
			}
			flushTicket(ctx, a.Engine, v.ID, progressOut)
			if v, err = a.Engine.Case(ctx, v.ID); err != nil {
				return err
			}
			if output == "json" {
				if err := writeJSON(e, v); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(e.stdout)
				printCase(e.stdout, v)
			}
			switch v.State {
			case store.CaseCompleted:
				return nil
			case store.CasePartial:
				return withCode(ExitPartial, fmt.Errorf("case %d is partial: it stays open and `offboard serve` keeps retrying it", v.ID))
			default:
				return fmt.Errorf("case %d ended %s", v.ID, v.State)
			}
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json (the case with every step's state and evidence)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the ticket and audit log")
	cmd.Flags().BoolVar(&involuntary, "involuntary", false, "an involuntary termination (runs on the urgent queue)")
	who.register(cmd)
	return cmd
}

func confirm(in io.Reader, out io.Writer, actions int) bool {
	fmt.Fprintf(out, "\nApply these %d actions now? Type 'yes' to continue: ", actions)
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.TrimSpace(strings.ToLower(line)) == "yes"
}

// follow watches a case until it is completed, partial or cancelled, printing progress.
func follow(ctx context.Context, eng *workflow.Engine, id int64, p *progress) (workflow.CaseView, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		v, err := eng.Case(ctx, id)
		if err != nil {
			return v, err
		}
		p.update(v)
		switch v.State {
		case store.CaseCompleted, store.CasePartial, store.CaseCancelled:
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("interrupted; case %d is %s and resumes when offboard runs again: %w", id, v.State, ctx.Err())
		case <-t.C:
		}
	}
}

// flushTicket waits a little for the ticket outbox to drain so the ticket matches what run
// printed; whatever is left is delivered by the next offboard serve.
func flushTicket(ctx context.Context, eng *workflow.Engine, id int64, out io.Writer) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		n, err := eng.PendingTicketUpdates(ctx, id)
		if err != nil || n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	fmt.Fprintln(out, "the ticket system is slow or down; its updates are queued and `offboard serve` will deliver them")
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

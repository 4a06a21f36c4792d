package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/offboard-dev/offboard/internal/app"
	"github.com/offboard-dev/offboard/internal/hr"
)

func newImportCmd(e *env) *cobra.Command {
	var configPath string
	var yes bool
	cmd := &cobra.Command{
		Use:   "import --config FILE TERMINATIONS.csv",
		Short: "Open cases for many terminations at once from a CSV file (all or nothing)",
		Long: `import reads a CSV of terminations (docs/hr.md, "Door 3: CSV"). If any row is bad, nothing
is imported and every bad row is listed. Otherwise each row becomes an HR event: a case opens
now or is scheduled for its effective time, and a row imported before opens nothing new.
The cases are worked by 'offboard serve'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes && !e.isTerminal() {
				return usageErr("refusing to open cases without --yes: stdin is not a terminal to confirm on")
			}
			if _, err := loadConfig(configPath); err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			defer f.Close()
			events, err := hr.ReadCSV(f, "csv:"+filepath.Base(args[0]), time.Now())
			if err != nil {
				return withCode(ExitUsage, fmt.Errorf("%s: nothing was imported: %w", args[0], err))
			}
			fmt.Fprintf(e.stdout, "%d events in %s\n", len(events), args[0])
			if !yes && !confirm(e.stdin, e.stdout, len(events)) {
				return withCode(ExitError, errors.New("not confirmed; nothing was imported"))
			}
			ctx := cmd.Context()
			a, err := openApp(ctx, configPath, app.Options{LogTo: e.stderr})
			if err != nil {
				return err
			}
			defer a.Close()
			tw := tabwriter.NewWriter(e.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "EVENT\tPERSON\tOUTCOME\tCASE\tNOTE")
			failed := 0
			for _, ev := range events {
				ev.Actor = "cli:" + currentUser()
				r, err := a.Engine.Receive(ctx, ev)
				if err != nil {
					failed++
					fmt.Fprintf(tw, "%s\t%s\terror\t-\t%v\n", ev.ID, firstNonEmpty(ev.Email, ev.WorkerID), err)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", ev.ID, firstNonEmpty(ev.Email, ev.WorkerID), r.Outcome, r.CaseID, r.Note)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d events were not stored (see above); importing the file again is safe", failed, len(events))
			}
			fmt.Fprintln(e.stdout, "Stored. `offboard serve` works the cases.")
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file (required)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

package cli

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/offboard-dev/offboard/internal/app"
	"github.com/offboard-dev/offboard/internal/audit"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/workflow"
)

func newStatusCmd(e *env) *cobra.Command {
	var configPath, output string
	cmd := &cobra.Command{
		Use:   "status --config FILE [CASE]",
		Short: "Show recent cases, or one case with every step and its evidence",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := openStore(ctx, configPath)
			if err != nil {
				return err
			}
			defer st.Close()
			if len(args) == 1 {
				id, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil || id < 1 {
					return usageErr("CASE must be a case number, not %q", args[0])
				}
				v, err := workflow.LoadCase(ctx, st, id)
				if err != nil {
					return err
				}
				if output == "json" {
					return writeJSON(e, v)
				}
				printCase(e.stdout, v)
				return nil
			}
			var cases []store.Case
			err = st.InTx(ctx, func(tx store.Tx) error {
				cases, err = tx.ListCases(ctx, store.CaseFilter{Limit: 50})
				return err
			})
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(e, cases)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "CASE\tSTATE\tPERSON\tEFFECTIVE\tTICKET")
			for _, c := range cases {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", c.ID, c.State, personLine(c.Person), c.EffectiveAt.Format(time.RFC3339), c.TicketKey)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func newAuditCmd(e *env) *cobra.Command {
	audit := &cobra.Command{Use: "audit", Short: "Work with the audit log"}
	var configPath string
	verify := &cobra.Command{
		Use:   "verify --config FILE",
		Short: "Check the audit hash chain: exit 0 if intact, 1 naming every broken record",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := openStore(ctx, configPath)
			if err != nil {
				return err
			}
			defer st.Close()
			n, problems, err := verifyAudit(ctx, st)
			if err != nil {
				return err
			}
			if len(problems) == 0 {
				fmt.Fprintf(e.stdout, "audit chain intact: %d records\n", n)
				return nil
			}
			for _, p := range problems {
				fmt.Fprintf(e.stdout, "record %d: %s\n", p.Seq, p.What)
			}
			return withCode(ExitError, fmt.Errorf("audit chain broken: %d problems in %d records", len(problems), n))
		},
	}
	verify.Flags().StringVar(&configPath, "config", "", "configuration file (required)")
	audit.AddCommand(verify)
	return audit
}

// openApp loads the configuration (a problem there is a usage error, exit 2) and opens the
// whole app on it; failing to reach the store or build the app after that is exit 1.
func openApp(ctx context.Context, configPath string, o app.Options) (*app.App, error) {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, o)
}

// openStore opens the store a configuration names, for commands that only read it.
func openStore(ctx context.Context, configPath string) (store.Store, error) {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return nil, err
	}
	return app.OpenStore(ctx, cfg)
}

// verifyAudit streams the audit log page by page through the chain verifier. The head is read
// first, so records appended while it runs (by a live server) are not mistaken for tampering.
func verifyAudit(ctx context.Context, st store.Store) (int, []audit.Problem, error) {
	var headSeq int64
	var headHash string
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		headSeq, headHash, err = tx.AuditHead(ctx)
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("read audit head: %w", err)
	}
	var v audit.Verifier
	var after int64
	n := 0
	for {
		var page []audit.Record
		err := st.InTx(ctx, func(tx store.Tx) error {
			var err error
			page, err = tx.ListAudit(ctx, after, 1000)
			return err
		})
		if err != nil {
			return n, nil, fmt.Errorf("read audit log: %w", err)
		}
		done := len(page) == 0
		for _, r := range page {
			if r.Seq > headSeq {
				done = true
				break
			}
			v.Add(r)
			n++
			after = r.Seq
		}
		if done {
			break
		}
	}
	return n, v.Finish(headSeq, headHash), nil
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/offboard-dev/offboard/internal/app"
	"github.com/offboard-dev/offboard/internal/config"
	"github.com/offboard-dev/offboard/internal/simenv"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/workflow"
)

func newDemoCmd(e *env) *cobra.Command {
	var once bool
	var dbs realDBs
	var directory demoLDAP
	cmd := &cobra.Command{
		Use:   "demo [--once]",
		Short: "Run the whole product on a simulated company; nothing to configure",
		Long: `demo starts the simulators (Okta, GitHub, AWS, Docker Hub, Jenkins, SCIM apps, Google
Workspace, Entra ID, Slack, an internal tool, Workday and Jira) with a seeded company, an
SQLite store in a temporary directory and the server, then terminates a seeded person in the simulated Workday and shows
the case moving through plan, apply and verify, with where to look afterwards.

With --once it exits 0 once the case is verified (non-zero otherwise); without it, it keeps
serving until interrupted so you can look around.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), e, once, &dbs, &directory)
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "exit once the case is finished: 0 if every action is verified")
	cmd.Flags().StringVar(&dbs.Postgres, "postgres", "", "also lock a throwaway login on this real PostgreSQL server (a superuser's URL)")
	cmd.Flags().BoolVar(&directory.enabled, "slapd", false, "also offboard from a throwaway OpenLDAP directory (needs Debian's slapd installed)")
	cmd.Flags().StringVar(&dbs.MySQL, "mysql", "", "also lock a throwaway login on this real MySQL/MariaDB server (DSN of an account that may create users)")
	return cmd
}

func runDemo(ctx context.Context, e *env, once bool, dbs *realDBs, directory *demoLDAP) error {
	out := e.stdout
	dir, err := os.MkdirTemp("", "offboard-demo-")
	if err != nil {
		return fmt.Errorf("demo: temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)

	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: listen for simulators: %w", err)
	}
	env := simenv.New(simenv.Options{})
	info := env.Info("http://" + simLn.Addr().String())
	simSrv := &http.Server{Handler: env.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = simSrv.Serve(simLn) }()
	defer simSrv.Close()

	yaml := strings.Replace(info.Config, "store: sqlite://offboard.db", "store: sqlite://"+filepath.Join(dir, "offboard.db"), 1)
	cfg, err := config.Parse([]byte(yaml), config.Options{LookupEnv: func(string) (string, bool) { return "", false }, BaseDir: dir})
	if err != nil {
		return fmt.Errorf("demo: configuration: %w", err)
	}
	if err := dbs.seed(ctx, env, cfg); err != nil {
		dbs.close()
		return err
	}
	defer dbs.close()
	defer directory.close()
	if err := directory.seed(ctx, dir, cfg); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "offboard.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("demo: log file: %w", err)
	}
	defer logFile.Close()
	a, err := app.Open(ctx, cfg, app.Options{LogTo: logFile, Tuning: workflow.Tuning{PollInterval: 50 * time.Millisecond, TicketSweep: 2 * time.Second}})
	if err != nil {
		return err
	}
	defer a.Close()
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: listen for the API: %w", err)
	}
	api := "http://" + apiLn.Addr().String()
	leaver := env.Person(simenv.DemoLeaver)

	fmt.Fprintf(out, "offboard demo\n\n")
	for _, system := range append(env.Systems(), "jira", "workday") {
		fmt.Fprintf(out, "  simulated %-11s %s\n", system, info.BaseURLs[system])
	}
	fmt.Fprintf(out, "  store                 %s\n  API                   %s\n  log                   %s\n\n", cfg.Store, api, logPath)
	fmt.Fprintf(out, "HR terminates %s <%s> (%s) in Workday; offboard picks it up on its next report poll.\n\n", leaver.Name, leaver.Email, leaver.WorkerID)
	env.Terminate(simenv.DemoLeaver, time.Now())

	serveCtx, stopServe := context.WithCancel(ctx)
	defer stopServe()
	served := make(chan error, 1)
	go func() { served <- serve(serveCtx, a, apiLn) }()

	id, err := waitForCase(ctx, a.Store)
	if err != nil {
		return err
	}
	if _, err := follow(ctx, a.Engine, id, newProgress(out)); err != nil {
		return err
	}
	flushTicket(ctx, a.Engine, id, out)
	v, err := a.Engine.Case(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	printCase(out, v)
	printHoldings(out, env, leaver)
	dbs.print(ctx, out)
	directory.print(ctx, out)
	n, problems, err := verifyAudit(ctx, a.Store)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nWhere to look:\n")
	fmt.Fprintf(out, "  the case (API)       curl -s %s/v1/cases/%d\n", api, id)
	if v.TicketKey != "" {
		fmt.Fprintf(out, "  the ticket (Jira)    curl -s -u %s %s/rest/api/3/issue/%s\n", info.Credentials["jira_basic_auth"], info.BaseURLs["jira"], v.TicketKey)
		fmt.Fprintf(out, "%s", indent(env.TicketText(v.TicketKey), "                       "))
	}
	fmt.Fprintf(out, "  Okta's own read-back curl -s -H 'Authorization: SSWS %s' %s/api/v1/users/%s\n", info.Credentials["okta_token"], info.BaseURLs["okta"], leaver.Email)
	if len(problems) == 0 {
		fmt.Fprintf(out, "  the audit chain      intact: %d hash-chained records (offboard audit verify)\n", n)
	} else {
		fmt.Fprintf(out, "  the audit chain      BROKEN: %d problems\n", len(problems))
	}
	if once {
		stopServe()
		<-served
		for _, st := range v.Steps {
			if st.State != store.StepVerified {
				return withCode(ExitPartial, fmt.Errorf("the demo case ended %s: %s is %s", v.State, st.Action.Key(), st.State))
			}
		}
		if len(v.NeedsHuman) > 0 {
			// Work only a person can do (Jenkins web sessions cannot be read back) keeps the
			// case open on purpose; the demo shows it rather than hiding the system.
			fmt.Fprintf(out, "\nEvery action verified; %d item(s) only a person can do are listed above and on the ticket.\n", len(v.NeedsHuman))
			return nil
		}
		fmt.Fprintln(out, "\nEvery action verified.")
		return nil
	}
	fmt.Fprintln(out, "\nStill serving so you can look around; Ctrl-C to stop.")
	err = <-served
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// waitForCase waits for the Workday poll to open the demo's case.
func waitForCase(ctx context.Context, st store.Store) (int64, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var cases []store.Case
		err := st.InTx(ctx, func(tx store.Tx) error {
			var err error
			cases, err = tx.ListCases(ctx, store.CaseFilter{Limit: 1})
			return err
		})
		if err != nil {
			return 0, err
		}
		if len(cases) > 0 {
			return cases[0].ID, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return 0, errors.New("demo: the Workday poll opened no case within two minutes; see the log")
}

func indent(s, prefix string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// printHoldings shows, from each simulator's own state rather than offboard's records, what
// the leaver still holds in every system.
func printHoldings(out io.Writer, env *simenv.Env, p simenv.Person) {
	fmt.Fprintf(out, "\nWhat %s still holds, read from each simulator's own state:\n", p.Name)
	held := env.Holdings(p.WorkerID)
	for _, system := range env.Systems() {
		if len(held[system]) == 0 {
			fmt.Fprintf(out, "  %-13s nothing\n", system)
			continue
		}
		for _, h := range held[system] {
			fmt.Fprintf(out, "  %-13s %s\n", system, h)
		}
	}
}

// Package cli is offboard's command line: plan, run, serve, status, audit verify, sim and demo.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, part of the CLI's contract with scripts.
const (
	// ExitOK: everything asked for was done (for run: every action verified).
	ExitOK = 0
	// ExitError: anything else went wrong.
	ExitError = 1
	// ExitUsage: bad flags, arguments or configuration.
	ExitUsage = 2
	// ExitPartial: the case was left partial; it stays open and serve keeps retrying it.
	ExitPartial = 3
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// env is what every command may use: its streams and whether stdin is a terminal.
type env struct {
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
	isTerminal func() bool
}

// Main runs the command line and returns the process exit code. SIGINT and SIGTERM cancel
// the command's context, which every command honours (serve shuts down gracefully).
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, &env{stdin: stdin, stdout: stdout, stderr: stderr, isTerminal: stdinIsTerminal})
}

func run(ctx context.Context, args []string, e *env) int {
	stdin, stdout, stderr := e.stdin, e.stdout, e.stderr
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var xe *exitError
	if errors.As(err, &xe) {
		if xe.err != nil && xe.err.Error() != "" {
			fmt.Fprintln(stderr, "offboard:", xe.err)
		}
		return xe.code
	}
	fmt.Fprintln(stderr, "offboard:", err)
	return ExitError
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "offboard",
		Short: "Remove a departing person's access everywhere, prove it, and leave a truthful record",
		Long: `offboard removes a departing person's access from every connected system, verifies each
removal by reading it back, and records everything in a hash-chained audit log and a
deprovisioning ticket that tells the truth, failures included.

Try it with nothing configured:  offboard demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })
	root.AddCommand(
		newPlanCmd(e),
		newRunCmd(e),
		newImportCmd(e),
		newServeCmd(e),
		newStatusCmd(e),
		newCheckCmd(e),
		newAuditCmd(e),
		newSimCmd(e),
		newDemoCmd(e),
	)
	return root
}

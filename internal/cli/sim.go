package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/offboard-dev/offboard/internal/simenv"
)

func newSimCmd(e *env) *cobra.Command {
	var addr, output string
	cmd := &cobra.Command{
		Use:   "sim --addr 127.0.0.1:PORT",
		Short: "Serve the simulators (Okta, Jira, Workday) with a seeded demo company",
		Long: `sim serves every simulator on one loopback address — Okta under /okta, Jira under /jira,
Workday under /workday — seeded with a demo company, and prints the base URLs, the
credentials, the seeded people and a configuration that points offboard at them. With
--output json it prints all of that as one JSON object on the first line of stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usageErr("--addr must be host:port: %v", err)
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return usageErr("--addr must be a loopback address (127.0.0.1:PORT): the simulators accept well-known demo credentials")
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			env := simenv.New(simenv.Options{})
			info := env.Info("http://" + ln.Addr().String())
			srv := &http.Server{Handler: env.Handler(), ReadHeaderTimeout: 10 * time.Second}
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			if output == "json" {
				b, err := json.Marshal(info)
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, string(b))
			} else {
				printSimInfo(e, info)
			}
			select {
			case <-cmd.Context().Done():
				_ = srv.Close()
				return nil
			case err := <-errc:
				if errors.Is(err, http.ErrServerClosed) {
					return nil
				}
				return err
			}
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8089", "loopback address to serve on")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func printSimInfo(e *env, info simenv.Info) {
	w := e.stdout
	fmt.Fprintln(w, "Simulators serving (Ctrl-C to stop):")
	for _, name := range []string{"okta", "jira", "workday"} {
		fmt.Fprintf(w, "  %-8s %s\n", name, info.BaseURLs[name])
	}
	fmt.Fprintln(w, "\nCredentials:")
	for k, v := range info.Credentials {
		fmt.Fprintf(w, "  %-18s %s\n", k, v)
	}
	fmt.Fprintln(w, "\nPeople:")
	for _, p := range info.People {
		fmt.Fprintf(w, "  %s  %-22s %-30s manager %s\n", p.WorkerID, p.Name, p.Email, p.Manager)
	}
	fmt.Fprintf(w, "\nA configuration for these simulators (save as offboard.yaml):\n\n%s\n", info.Config)
	fmt.Fprintf(w, "Then: offboard plan --config offboard.yaml --email %s\n", info.People[0].Email)
}

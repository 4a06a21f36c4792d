package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/offboard-dev/offboard/internal/app"
)

func newServeCmd(e *env) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the daemon: Workday poller, signed HR webhook, workers and the API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := openApp(ctx, configPath, app.Options{LogTo: e.stderr, JSONLogs: true})
			if err != nil {
				return err
			}
			defer a.Close()
			ln, err := net.Listen("tcp", a.Config.Server.Listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", a.Config.Server.Listen, err)
			}
			return serve(ctx, a, ln)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file (required)")
	return cmd
}

// serve runs the engine and the API until ctx ends (SIGTERM or interrupt), then stops taking
// requests, lets running jobs finish for a while, and returns.
func serve(ctx context.Context, a *app.App, ln net.Listener) error {
	if err := a.Engine.Start(ctx); err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Server().Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Log.Info("offboard serving", "addr", ln.Addr().String(), "store", a.Store.Driver(), "systems", a.Engine.Systems())
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("api server: %w", err)
		}
	}
	a.Log.Info("offboard shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	return a.Engine.Stop(shutdown)
}

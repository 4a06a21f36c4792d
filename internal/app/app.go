// Package app wires offboard together from its configuration: the store, the connectors
// (systems.go lists them), the ticket tracker, the HR doors and the engine.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/offboard-dev/offboard/internal/config"
	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/hr/workday"
	"github.com/offboard-dev/offboard/internal/secret"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/store/postgres"
	"github.com/offboard-dev/offboard/internal/store/sqlite"
	"github.com/offboard-dev/offboard/internal/ticket"
	"github.com/offboard-dev/offboard/internal/ticket/jira"
	"github.com/offboard-dev/offboard/internal/web"
	"github.com/offboard-dev/offboard/internal/workflow"
)

// Config is offboard's configuration (see internal/config).
type Config = config.Config

// LoadConfig reads and validates a configuration file, reporting every problem at once.
func LoadConfig(path string) (*Config, error) { return config.Load(path) }

// Options adjust how the app runs.
type Options struct {
	// LogTo receives logs (with every configured secret redacted); nil discards them.
	LogTo io.Writer
	// JSONLogs selects JSON lines instead of text.
	JSONLogs bool
	// Tuning overrides the engine's timing (tests, the demo and benchmarks).
	Tuning workflow.Tuning
	// HTTP is the client for vendor APIs; nil means one with a 30 s timeout.
	HTTP *http.Client
}

// httpClient is the client for vendor APIs: Options.HTTP, or one with a 30 s timeout that
// follows redirects only within the same scheme and host.
func (o Options) httpClient() *http.Client {
	if o.HTTP != nil {
		return o.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second, CheckRedirect: sameHostRedirects}
}

// sameHostRedirects refuses a redirect to another host or scheme. Go drops Authorization on a
// redirect to another domain but re-sends every other header, including a vendor's custom
// credential header, and a vendor API has no reason to send offboard anywhere else.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if first := via[0].URL; req.URL.Host != first.Host || req.URL.Scheme != first.Scheme {
		return fmt.Errorf("refused a redirect from %s to another host (%s)", first.Host, req.URL.Host)
	}
	return nil
}

// Planner is the part of the app that reads systems without a store: enough for `plan`.
type Planner struct {
	Config     *Config
	Connectors []connector.Connector
	Poller     *workday.Poller
	Redactor   *secret.Redactor
	Log        *slog.Logger
}

// App is a running offboard: store, engine and everything they need.
type App struct {
	Planner
	Store   store.Store
	Engine  *workflow.Engine
	Tracker ticket.Tracker
	// Metrics holds the engine's series and the Go runtime's, served at /metrics.
	Metrics *prometheus.Registry
}

// NewPlanner builds the connectors and HR poller from the configuration.
func NewPlanner(cfg *Config, logTo io.Writer) (*Planner, error) {
	return newPlanner(cfg, Options{LogTo: logTo})
}

func newPlanner(cfg *Config, o Options) (*Planner, error) {
	red := &secret.Redactor{}
	red.Add(cfg.Secrets()...)
	hc := o.httpClient()
	p := &Planner{Config: cfg, Redactor: red, Log: newLogger(o, red)}
	for _, s := range Systems {
		cs, err := s.Build(cfg, hc)
		if err != nil {
			return nil, fmt.Errorf("connectors.%s: %w", s.Name, err)
		}
		p.Connectors = append(p.Connectors, cs...)
	}
	if len(p.Connectors) == 0 {
		return nil, errors.New("no systems are configured under connectors:; offboard has nothing to offboard from")
	}
	if w := cfg.HR.Workday; w != nil {
		p.Poller = workday.New(workday.Config{
			ReportURL: w.ReportURL, Username: w.Username, Password: w.Password.Reveal(),
			Fields: workday.Fields{
				WorkerID: w.Fields.WorkerID, Email: w.Fields.Email, Name: w.Fields.Name, ManagerEmail: w.Fields.ManagerEmail,
				TerminationDate: w.Fields.TerminationDate, Involuntary: w.Fields.Involuntary, Rescinded: w.Fields.Rescinded,
				Reason: w.Fields.Reason, Handles: w.Fields.Handles,
			},
			Location: w.Location(), HTTP: hc,
		})
	}
	return p, nil
}

func newLogger(o Options, red *secret.Redactor) *slog.Logger {
	if o.LogTo == nil {
		return slog.New(slog.DiscardHandler)
	}
	var h slog.Handler
	if o.JSONLogs {
		h = slog.NewJSONHandler(o.LogTo, nil)
	} else {
		h = slog.NewTextHandler(o.LogTo, nil)
	}
	return slog.New(secret.NewHandler(h, red))
}

// OpenStore opens the configured database and brings its schema up to date.
func OpenStore(ctx context.Context, cfg *Config) (store.Store, error) {
	st, _, err := openStore(ctx, cfg.Store)
	return st, err
}

func openStore(ctx context.Context, url string) (store.Store, workflow.Backend, error) {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		pg, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, nil, fmt.Errorf("open store: %w", err)
		}
		return pg, workflow.Postgres(pg.Pool()), nil
	default:
		sq, err := sqlite.Open(ctx, url)
		if err != nil {
			return nil, nil, fmt.Errorf("open store: %w", err)
		}
		return sq, workflow.SQLite(sq.DB()), nil
	}
}

// Open builds the whole app; call Engine.Start to begin working and Close when done.
func Open(ctx context.Context, cfg *Config, o Options) (*App, error) {
	p, err := newPlanner(cfg, o)
	if err != nil {
		return nil, err
	}
	st, backend, err := openStore(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	a := &App{Planner: *p, Store: st, Metrics: prometheus.NewRegistry()}
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	done := ""
	if j := cfg.Ticket.Jira; j != nil {
		a.Tracker = jira.New(jira.Config{BaseURL: j.BaseURL, Email: j.Email, Token: j.Token.Reveal(), Project: j.Project,
			IssueType: j.IssueType, DoneTransition: j.DoneTransition, HTTP: o.httpClient()})
		done = j.DoneTransition
	}
	var periodic []workflow.Periodic
	// The poll's closure names the engine before it exists; periodic jobs run only after Start.
	var eng *workflow.Engine
	if a.Poller != nil {
		poller := a.Poller
		periodic = append(periodic, workflow.Periodic{
			Name: "workday_poll", Interval: cfg.HR.Workday.PollInterval,
			Run: func(ctx context.Context) error {
				res, err := poller.Sync(ctx, eng)
				a.Log.Info("workday poll", "result", fmt.Sprintf("%+v", res))
				return err
			},
		})
	}
	eng, err = workflow.New(workflow.Config{
		Store: st, Backend: backend, Connectors: a.Connectors, Tracker: a.Tracker, DoneTransition: done,
		Log: a.Log, Redact: a.Redactor.Redact, Periodic: periodic, Tuning: o.Tuning, Metrics: a.Metrics,
	})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	a.Engine = eng
	return a, nil
}

// Close stops nothing that is running (stop the engine first) and closes the store.
func (a *App) Close() error { return a.Store.Close() }

// Server returns the HTTP API for this app.
func (a *App) Server() *web.Server {
	s := &web.Server{Store: a.Store, Intake: a.Engine, Log: a.Log, Metrics: promhttp.HandlerFor(a.Metrics, promhttp.HandlerOpts{})}
	if a.Config.Server.APIToken.Reveal() != "" {
		s.APIToken = a.Config.Server.APIToken.Reveal()
	}
	if w := a.Config.HR.Webhook; w != nil {
		secrets := [][]byte{[]byte(w.Secret.Reveal())}
		if prev := w.PreviousSecret.Reveal(); prev != "" {
			secrets = append(secrets, []byte(prev))
		}
		s.Webhook = hr.NewWebhook(a.Engine, secrets, a.Log)
	}
	return s
}

// ResolvePerson names the leaver from the flags: the email as given, or the worker ID looked up
// in the Workday report when no email is given.
func (p *Planner) ResolvePerson(ctx context.Context, email, workerID, name string) (connector.Person, error) {
	person := connector.Person{Email: strings.TrimSpace(email), WorkerID: strings.TrimSpace(workerID), Name: strings.TrimSpace(name)}
	if person.Email != "" {
		return person, nil
	}
	if p.Poller == nil {
		return person, fmt.Errorf("worker %s: no email given and no Workday report configured to look it up; pass --email", person.WorkerID)
	}
	events, err := p.Poller.Fetch(ctx)
	if err != nil && len(events) == 0 {
		return person, fmt.Errorf("worker %s: look up in the Workday report: %w", person.WorkerID, err)
	}
	for _, ev := range events {
		if ev.WorkerID == person.WorkerID && ev.Type == hr.Termination {
			person.Email, person.Manager, person.Handles = ev.Email, ev.Manager, ev.Handles
			if person.Name == "" {
				person.Name = ev.Name
			}
			return person, nil
		}
	}
	return person, fmt.Errorf("worker %s is not in the Workday termination report; pass --email", person.WorkerID)
}

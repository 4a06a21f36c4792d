package app

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/config"
	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/simenv"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/workflow"
)

// BenchmarkOffboardDemoCompany offboards the demo company's developer from every simulated
// system at once (Okta, Docker Hub, Jenkins, two SCIM apps, Google Workspace with a data
// handover, Entra ID, Slack and the internal tool, plus whatever else simenv mounts), each
// simulator answering every call after 50 ms, on SQLite. It reports the time from the
// termination to every step verified (ms-to-verified), and how many steps that was.
func BenchmarkOffboardDemoCompany(b *testing.B) {
	const latency = 50 * time.Millisecond
	var total time.Duration
	steps := 0
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		env := simenv.New(simenv.Options{Latency: latency})
		srv := httptest.NewServer(env.Handler())
		info := env.Info(srv.URL)
		yaml := strings.Replace(info.Config, "store: sqlite://offboard.db", "store: sqlite://"+filepath.Join(b.TempDir(), "offboard.db"), 1)
		cfg, err := config.Parse([]byte(yaml), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
		if err != nil {
			b.Fatal(err)
		}
		cfg.HR.Workday = nil // the benchmark hands the termination in directly
		a, err := Open(context.Background(), cfg, Options{Tuning: workflow.Tuning{PollInterval: 20 * time.Millisecond}})
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Engine.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		p := env.Person(simenv.DemoLeaver)
		ev := hr.Event{ID: fmt.Sprintf("bench-%d", i), Source: "bench", Type: hr.Termination, WorkerID: p.WorkerID,
			Email: p.Email, Name: p.Name, Manager: p.Manager, EffectiveAt: time.Now(), Involuntary: true,
			Handles: map[string]string{"dockerhub": p.Identities["dockerhub"], "jenkins": p.Identities["jenkins"]}}
		b.StartTimer()

		start := time.Now()
		r, err := a.Engine.Receive(context.Background(), ev)
		if err != nil {
			b.Fatal(err)
		}
		v := waitAllVerified(b, a, r.CaseID)
		total += time.Since(start)
		steps = len(v.Steps)

		b.StopTimer()
		_ = a.Engine.Stop(context.Background())
		a.Close()
		srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-verified")
	b.ReportMetric(float64(steps), "steps")
}

// waitAllVerified waits until the case has settled with every step verified.
func waitAllVerified(b *testing.B, a *App, id int64) workflow.CaseView {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		v, err := a.Engine.Case(context.Background(), id)
		if err == nil && (v.State == store.CaseCompleted || v.State == store.CasePartial) {
			for _, s := range v.Steps {
				if s.State != store.StepVerified {
					b.Fatalf("step %s ended %s: %s", s.Action.Key(), s.State, s.LastError)
				}
			}
			return v
		}
		if time.Now().After(deadline) {
			b.Fatalf("case %d did not settle: %v %v", id, v.State, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

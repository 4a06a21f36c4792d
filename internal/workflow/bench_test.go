package workflow_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/okta"
	"github.com/offboard-dev/offboard/internal/connector/okta/oktasim"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/store/postgres"
	"github.com/offboard-dev/offboard/internal/store/sqlite"
	"github.com/offboard-dev/offboard/internal/store/storetest"
	"github.com/offboard-dev/offboard/internal/ticket/jira"
	"github.com/offboard-dev/offboard/internal/ticket/jira/jirasim"
	"github.com/offboard-dev/offboard/internal/workflow"
)

// BenchmarkOffboardFortyGroups offboards one leaver holding 40 Okta groups, two factors, an
// admin role and OAuth grants, through the Okta and Jira simulators at 50 ms per API call,
// end to end: plan, apply, verify, ticket. It reports the time to a fully verified case
// (ms-to-verified) and to the ticket's last update (ms-to-ticket-final); a sequential client
// needs about 45 round trips (~2.3 s) for the first. The postgres variant runs when
// OFFBOARD_TEST_POSTGRES_URL is set.
func BenchmarkOffboardFortyGroups(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchmarkOffboard(b, func(b *testing.B) (store.Store, workflow.Backend) {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "offboard.db"))
			if err != nil {
				b.Fatal(err)
			}
			return st, workflow.SQLite(st.DB())
		})
	})
	b.Run("postgres", func(b *testing.B) {
		url := storetest.PostgresURL(b)
		benchmarkOffboard(b, func(b *testing.B) (store.Store, workflow.Backend) {
			st, err := postgres.Open(context.Background(), storetest.NewPostgresSchema(b, url))
			if err != nil {
				b.Fatal(err)
			}
			return st, workflow.Postgres(st.Pool())
		})
	})
}

func benchmarkOffboard(b *testing.B, open func(*testing.B) (store.Store, workflow.Backend)) {
	const latency = 50 * time.Millisecond
	var verified, ticketed time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		okt := oktasim.New(oktasim.Options{Token: "bench-okta-token-000000"})
		okt.Faults.SetLatency(latency)
		jr := jirasim.New(jirasim.Options{Email: "bot@acme.example", Token: "bench-jira-token-000000"})
		jr.Faults.SetLatency(latency)
		oktaSrv, jiraSrv := httptest.NewServer(okt), httptest.NewServer(jr)
		email := "leaver@acme.example"
		seedLeaver(b, okt, "00ubenchleaver000001", email, 40)
		st, backend := open(b)
		eng, err := workflow.New(workflow.Config{
			Store: st, Backend: backend,
			Connectors: []connector.Connector{okta.New(okta.Config{BaseURL: oktaSrv.URL, Token: "bench-okta-token-000000"})},
			Tracker: jira.New(jira.Config{BaseURL: jiraSrv.URL, Email: "bot@acme.example", Token: "bench-jira-token-000000",
				Project: "SEC", IssueType: "Task", DoneTransition: "Done"}),
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := eng.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		start := time.Now()
		r, err := eng.Receive(context.Background(), termination(fmt.Sprintf("bench-%d", i), email, time.Now()))
		if err != nil {
			b.Fatal(err)
		}
		if state := waitSettled(b, st, r.CaseID); state != store.CaseCompleted {
			v, _ := eng.Case(context.Background(), r.CaseID)
			b.Fatalf("case ended %s:\n%s", state, describe(v))
		}
		verified += time.Since(start)
		for {
			n, err := eng.PendingTicketUpdates(context.Background(), r.CaseID)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		ticketed += time.Since(start)

		b.StopTimer()
		_ = eng.Stop(context.Background())
		_ = st.Close()
		oktaSrv.Close()
		jiraSrv.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(verified.Milliseconds())/float64(b.N), "ms-to-verified")
	b.ReportMetric(float64(ticketed.Milliseconds())/float64(b.N), "ms-to-ticket-final")
}

// waitSettled polls the case's state (lightly, so the measurement does not compete with the
// engine for the database) until it is completed or partial.
func waitSettled(b *testing.B, st store.Store, id int64) store.CaseState {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var c store.Case
		err := st.InTx(context.Background(), func(tx store.Tx) error {
			var err error
			c, err = tx.GetCase(context.Background(), id)
			return err
		})
		if err == nil && (c.State == store.CaseCompleted || c.State == store.CasePartial) {
			return c.State
		}
		if time.Now().After(deadline) {
			b.Fatalf("case %d did not finish: %s (%v)", id, c.State, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func seedLeaver(b *testing.B, okt *oktasim.Server, id, email string, groups int) {
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(okt.AddUser(oktasim.User{ID: id, Login: email, Email: email, FirstName: "Lee", LastName: "Ver", Sessions: 1}))
	for g := range groups {
		gid := fmt.Sprintf("00gbench%012d", g)
		must(okt.AddGroup(oktasim.Group{ID: gid, Name: fmt.Sprintf("Team %d", g), Type: "OKTA_GROUP"}))
		must(okt.AddMember(gid, id))
	}
	must(okt.AddFactor(id, oktasim.Factor{ID: "opfbench000000000001", Type: "push"}))
	must(okt.AddFactor(id, oktasim.Factor{ID: "fwfbench000000000002", Type: "webauthn"}))
	must(okt.AddRole(id, oktasim.Role{ID: "rabench0000000000001", Type: "APP_ADMIN"}))
	must(okt.AddGrant(id, oktasim.Grant{ID: "oagbench000000000001", ClientID: "0oabenchclient000001", ClientName: "Slack", ScopeID: "okta.users.read.self"}))
}

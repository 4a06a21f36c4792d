package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/offboard-dev/offboard/internal/config"
	"github.com/offboard-dev/offboard/internal/secret"
	"github.com/offboard-dev/offboard/internal/simenv"
)

// realDBs are the real database servers the demo was pointed at (--postgres, --mysql), each
// given a throwaway login for the leaver with an open session.
type realDBs struct {
	Postgres, MySQL string
	seeded          []seededDB
}

type seededDB struct {
	system string
	db     *simenv.RealDB
}

// Demo system names for the real servers.
const (
	demoPostgres = "demo-postgres"
	demoMySQL    = "demo-mysql"
)

// seed creates the leaver's logins on the servers given and adds each server to cfg, matched
// by the leaver's handle so that no role the server already had is touched.
func (r *realDBs) seed(ctx context.Context, env *simenv.Env, cfg *config.Config) error {
	add := func(system, dsn string, seed func(context.Context, string) (*simenv.RealDB, error), list *[]config.DatabaseRole) error {
		if dsn == "" {
			return nil
		}
		db, err := seed(ctx, dsn)
		if err != nil {
			return err
		}
		r.seeded = append(r.seeded, seededDB{system: system, db: db})
		*list = append(*list, config.DatabaseRole{Name: system, DSN: secret.New(dsn), Role: "handle"})
		env.SetHandle(simenv.DemoLeaver, system, simenv.DemoDBRole)
		if w := cfg.HR.Workday; w != nil {
			if w.Fields.Handles == nil {
				w.Fields.Handles = map[string]string{}
			}
			w.Fields.Handles[system] = simenv.HandleColumn(system)
		}
		return nil
	}
	if err := add(demoPostgres, r.Postgres, simenv.SeedPostgres, &cfg.Connectors.Postgres); err != nil {
		return err
	}
	return add(demoMySQL, r.MySQL, simenv.SeedMySQL, &cfg.Connectors.MySQL)
}

// print shows what the leaver's logins still hold on the real servers, read from the servers.
func (r *realDBs) print(ctx context.Context, out io.Writer) {
	for _, s := range r.seeded {
		held, err := s.db.Holdings(ctx)
		switch {
		case err != nil:
			fmt.Fprintf(out, "  %-13s could not read the server: %v\n", s.system, err)
		case len(held) == 0:
			fmt.Fprintf(out, "  %-13s nothing (login %s is refused, no session left)\n", s.system, simenv.DemoDBRole)
		default:
			for _, h := range held {
				fmt.Fprintf(out, "  %-13s %s\n", s.system, h)
			}
		}
	}
}

// close drops the demo's logins.
func (r *realDBs) close() {
	for _, s := range r.seeded {
		s.db.Close()
	}
}

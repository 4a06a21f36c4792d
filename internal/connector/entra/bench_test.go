package entra

import (
	"fmt"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/offboard-dev/offboard/internal/connector/entra/entrasim"
)

// BenchmarkOffboardFortyGroups measures planning for a leaver in 40 groups, then applying and
// verifying the removals in parallel, as the engine runs independent steps.
func BenchmarkOffboardFortyGroups(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, entrasim.Options{})
		for i := range 37 {
			id := fmt.Sprintf("g-30-bench-%02d", i)
			must(b, e.sim.AddGroup(entrasim.Group{ID: id, DisplayName: id}))
			must(b, e.sim.AddMember(id, janeID))
		}
		b.StartTimer()
		pl, err := e.conn.Plan(b.Context(), jane)
		must(b, err)
		var g errgroup.Group
		for _, a := range byKind(pl, KindRemoveGroup) {
			g.Go(func() error {
				if err := e.conn.Apply(b.Context(), a); err != nil {
					return err
				}
				ev, err := e.conn.Verify(b.Context(), a)
				if err == nil && !ev.Verified {
					err = fmt.Errorf("%s not verified", a.Key())
				}
				return err
			})
		}
		must(b, g.Wait())
	}
}

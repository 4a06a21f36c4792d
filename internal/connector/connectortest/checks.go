package connectortest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/sim"
)

// plan runs Plan for p and records the result. It fails when Plan does.
func plan(ctx context.Context, c connector.Connector, p connector.Person, tr *record, where string) (connector.Plan, error) {
	pl, err := c.Plan(ctx, p)
	tr.error(where, err)
	if err != nil {
		return pl, fmt.Errorf("%s: %w", where, err)
	}
	if err := tr.json(where, pl); err != nil {
		return pl, err
	}
	return pl, nil
}

// planWithActions is plan for the fixture's leaver, who must have something to remove.
func planWithActions(ctx context.Context, f Fixture, tr *record, where string) (connector.Plan, error) {
	pl, err := plan(ctx, f.Connector, f.Person, tr, where)
	if err != nil {
		return pl, err
	}
	if len(pl.Actions) == 0 {
		return pl, fmt.Errorf("%s returned no actions; Fixture.Person must hold access to remove (not found: %v, notes: %q)", where, pl.NotFound, pl.Notes)
	}
	return pl, nil
}

// unchanged runs fn and reports whether the real server's state for the fixture's people is
// the same afterwards, naming what changed when it is not.
func unchanged(ctx context.Context, f Fixture, what string, fn func() error) error {
	before, err := f.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("snapshot before %s: %w", what, err)
	}
	if err := fn(); err != nil {
		return err
	}
	after, err := f.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("snapshot after %s: %w", what, err)
	}
	if before != after {
		return fmt.Errorf("%s changed the server:\n before: %s\n after:  %s", what, before, after)
	}
	return nil
}

func checkPlanReadsOnly(ctx context.Context, f Fixture, tr *record) error {
	if f.realServer() {
		return unchanged(ctx, f, "planning", func() error {
			_, err := planWithActions(ctx, f, tr, "Plan(Person)")
			return err
		})
	}
	before := len(f.Recorder.Calls())
	if _, err := planWithActions(ctx, f, tr, "Plan(Person)"); err != nil {
		return err
	}
	calls := f.Recorder.Calls()[before:]
	if len(calls) == 0 {
		return errors.New("the Recorder saw no request during Plan; is it wired in front of the simulator the connector talks to?")
	}
	var writes []string
	for _, c := range calls {
		if !f.readOnly(c) {
			writes = append(writes, c.Method+" "+c.Path)
		}
	}
	if len(writes) > 0 {
		return fmt.Errorf("planning made %d call(s) that are not read-only: %s", len(writes), strings.Join(writes, ", "))
	}
	return nil
}

func checkUnknownPerson(ctx context.Context, f Fixture, tr *record) error {
	var problems []string
	var pl connector.Plan
	planUnknown := func() error {
		var err error
		pl, err = plan(ctx, f.Connector, f.Unknown, tr, "Plan(Unknown)")
		if err != nil {
			return fmt.Errorf("%w (a person with no account is a finding: return a Plan with NotFound, not an error)", err)
		}
		return nil
	}
	if f.realServer() {
		if err := unchanged(ctx, f, "planning for Unknown", planUnknown); err != nil {
			return err
		}
	} else {
		before := len(f.Recorder.Calls())
		if err := planUnknown(); err != nil {
			return err
		}
		for _, c := range f.Recorder.Calls()[before:] {
			if !f.readOnly(c) {
				problems = append(problems, "planning wrote: "+c.Method+" "+c.Path)
			}
		}
	}
	if !pl.NotFound {
		problems = append(problems, "NotFound is false")
	}
	if len(pl.Notes) == 0 {
		problems = append(problems, "no note explains what was looked up")
	}
	if len(pl.Actions) > 0 {
		problems = append(problems, fmt.Sprintf("%d action(s) planned", len(pl.Actions)))
	}
	if len(problems) > 0 {
		return fmt.Errorf("Plan(Unknown): %s", strings.Join(problems, "; "))
	}
	return nil
}

// checkPlanShape enforces the rules every plan follows.
//
// The rule for After: it names kinds of the same system that must all be verified before the
// action runs. A kind with no action in the plan is satisfied (the person holds nothing of that
// kind, such as no MFA factor to remove before deactivation), so After may name kinds that are
// absent. A kind may not wait on itself, and the kinds present may not wait on each other in a
// cycle, or the plan could never finish.
func checkPlanShape(ctx context.Context, f Fixture, tr *record) error {
	first, err := planWithActions(ctx, f, tr, "first Plan(Person)")
	if err != nil {
		return err
	}
	second, err := plan(ctx, f.Connector, f.Person, tr, "second Plan(Person)")
	if err != nil {
		return err
	}
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(second)
	if !bytes.Equal(a, b) {
		return fmt.Errorf("two Plans of unchanged state differ; plans must be deterministic (sort them):\n first:  %s\n second: %s", a, b)
	}

	system := f.Connector.System()
	var problems []string
	if first.System != system {
		problems = append(problems, fmt.Sprintf("Plan.System is %q, want %q", first.System, system))
	}
	seen := make(map[string]bool)
	kinds := make(map[string][]string)
	for i, act := range first.Actions {
		name := fmt.Sprintf("action %d (%s)", i, act.Key())
		if act.System != system {
			problems = append(problems, fmt.Sprintf("%s: System is %q, want %q", name, act.System, system))
		}
		for field, v := range map[string]string{"Kind": act.Kind, "Target": act.Target, "Detail": act.Detail} {
			if strings.TrimSpace(v) == "" {
				problems = append(problems, fmt.Sprintf("%s: %s is empty", name, field))
			}
		}
		if seen[act.Key()] {
			problems = append(problems, fmt.Sprintf("%s: key %s is not unique", name, act.Key()))
		}
		seen[act.Key()] = true
		for _, k := range act.After {
			switch {
			case strings.TrimSpace(k) == "":
				problems = append(problems, name+": After holds an empty kind")
			case k == act.Kind:
				problems = append(problems, fmt.Sprintf("%s: waits on its own kind %q", name, k))
			}
		}
		kinds[act.Kind] = append(kinds[act.Kind], act.After...)
	}
	if cycle := findCycle(kinds); cycle != "" {
		problems = append(problems, "kinds wait on each other in a cycle: "+cycle)
	}
	for i, k := range first.Kept {
		if k.System != system || k.Target == "" || strings.TrimSpace(k.Reason) == "" {
			problems = append(problems, fmt.Sprintf("kept item %d (%q) needs System %q, a Target and a Reason", i, k.Target, system))
		}
	}
	for i, m := range first.Manual {
		if strings.TrimSpace(m.Detail) == "" {
			problems = append(problems, fmt.Sprintf("manual item %d has no Detail", i))
		}
	}
	if len(problems) > 0 {
		return errors.New("plan problems:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

// findCycle returns a dependency cycle among the kinds present, as "a -> b -> a", or "".
// Kinds that are absent from the plan are satisfied and end every path.
func findCycle(after map[string][]string) string {
	const (
		unseen = iota
		onPath
		done
	)
	state := make(map[string]int)
	var path []string
	var visit func(k string) string
	visit = func(k string) string {
		state[k] = onPath
		path = append(path, k)
		for _, dep := range after[k] {
			if _, present := after[dep]; !present || dep == k {
				continue
			}
			switch state[dep] {
			case onPath:
				i := indexOf(path, dep)
				return strings.Join(append(append([]string(nil), path[i:]...), dep), " -> ")
			case unseen:
				if c := visit(dep); c != "" {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[k] = done
		return ""
	}
	for _, k := range sortedKeys(after) {
		if state[k] == unseen {
			if c := visit(k); c != "" {
				return c
			}
		}
	}
	return ""
}

func checkApplyAndVerify(ctx context.Context, f Fixture, tr *record) error {
	pl, err := planWithActions(ctx, f, tr, "Plan(Person)")
	if err != nil {
		return err
	}
	_, err = applyAll(ctx, f, tr, pl.Actions)
	return err
}

func checkIdempotent(ctx context.Context, f Fixture, tr *record) error {
	pl, err := planWithActions(ctx, f, tr, "Plan(Person)")
	if err != nil {
		return err
	}
	applied, err := applyAll(ctx, f, tr, pl.Actions)
	if err != nil {
		return fmt.Errorf("first pass: %w", err)
	}
	for _, a := range applied {
		a, err := roundTrip(a)
		if err != nil {
			return err
		}
		err = f.Connector.Apply(ctx, a)
		tr.error("second Apply "+a.Key(), err)
		if err != nil {
			return fmt.Errorf("applying %s a second time failed (an action whose effect is in place must succeed): %w", a.Key(), err)
		}
		ev, err := f.Connector.Verify(ctx, a)
		tr.error("Verify after second Apply "+a.Key(), err)
		if err != nil {
			return fmt.Errorf("reading %s back after the second Apply: %w", a.Key(), err)
		}
		if err := tr.json("evidence after second Apply "+a.Key(), ev); err != nil {
			return err
		}
		if !ev.Verified {
			return fmt.Errorf("after applying %s a second time Verify says it is no longer in place (observed %q)", a.Key(), ev.Observed)
		}
	}
	again, err := plan(ctx, f.Connector, f.Person, tr, "Plan(Person) after offboarding")
	if err != nil {
		return err
	}
	if len(again.Actions) > 0 {
		keys := make([]string, len(again.Actions))
		for i, a := range again.Actions {
			keys[i] = a.Key()
		}
		return fmt.Errorf("a fresh Plan after every action was verified still has %d action(s): %s", len(keys), strings.Join(keys, ", "))
	}
	return nil
}

func checkRateLimit(ctx context.Context, f Fixture, tr *record) error {
	if f.realServer() {
		return notApplicable{"a real server has no rate limit to inject; the connector's connection limits are its own tests' concern"}
	}
	status := f.throttleStatus()
	throttled := func() int { return countStatus(f.Recorder.Calls(), status) }
	f.Faults.ThrottleNext(3)
	if _, err := planWithActions(ctx, f, tr, "Plan(Person) while throttled"); err != nil {
		return fmt.Errorf("%w (a throttled request must be waited out, never fail)", err)
	}
	if n := throttled(); n < 3 {
		return fmt.Errorf("after ThrottleNext(3) and a Plan the Recorder saw %d response(s) with status %d, want 3; does the Recorder wrap the Faults, and is Fixture.ThrottleStatus right?", n, status)
	}
	f.Faults.ThrottleNext(3)
	pl, err := planWithActions(ctx, f, tr, "Plan(Person) before applying while throttled")
	if err != nil {
		return err
	}
	if _, err := applyAll(ctx, f, tr, pl.Actions); err != nil {
		return fmt.Errorf("apply and verify while throttled: %w", err)
	}
	if n := throttled(); n < 6 {
		return fmt.Errorf("the Recorder saw %d throttled response(s) in all, want at least 6", n)
	}
	return nil
}

func checkUnauthorized(ctx context.Context, f Fixture, tr *record) error {
	_, err := f.BadCredentials.Plan(ctx, f.Person)
	tr.error("BadCredentials.Plan(Person)", err)
	if err == nil {
		return errors.New("BadCredentials.Plan succeeded; a wrong secret must fail")
	}
	if !connector.IsPermanent(err) {
		return fmt.Errorf("BadCredentials.Plan failed with an error that is not connector.Permanent, so it would be retried forever: %w", err)
	}
	return nil
}

func checkServerError(ctx context.Context, f Fixture, tr *record) error {
	if f.realServer() {
		return checkUnreachable(ctx, f, tr)
	}
	f.Faults.FailNext(50, http.StatusServiceUnavailable)
	pl, err := f.Connector.Plan(ctx, f.Person)
	tr.error("Plan(Person) during an outage", err)
	if err == nil {
		_ = tr.json("Plan(Person) during an outage", pl)
		return fmt.Errorf("planning succeeded while every request answered 503 (not found: %v, %d actions); an outage must be an error, never a finding", pl.NotFound, len(pl.Actions))
	}
	if connector.IsPermanent(err) {
		return fmt.Errorf("a 503 was reported as permanent, so the step would stop instead of retrying: %w", err)
	}
	if n := countStatus(f.Recorder.Calls(), http.StatusServiceUnavailable); n == 0 {
		return errors.New("the Recorder saw no 503; does it wrap the Faults?")
	}
	f.Faults.FailNext(0, 0)
	if _, err := planWithActions(ctx, f, tr, "Plan(Person) after the outage"); err != nil {
		return fmt.Errorf("after the outage ended: %w", err)
	}
	return nil
}

func countStatus(calls []sim.Call, status int) int {
	n := 0
	for _, c := range calls {
		if c.Status == status {
			n++
		}
	}
	return n
}

// checkUnreachable is the outage check for real-server fixtures: no server at the address.
func checkUnreachable(ctx context.Context, f Fixture, tr *record) error {
	pl, err := f.Unreachable.Plan(ctx, f.Person)
	tr.error("Unreachable.Plan(Person)", err)
	if err == nil {
		_ = tr.json("Unreachable.Plan(Person)", pl)
		return fmt.Errorf("planning succeeded with no server to talk to (not found: %v, %d actions); an outage must be an error, never a finding", pl.NotFound, len(pl.Actions))
	}
	if connector.IsPermanent(err) {
		return fmt.Errorf("an unreachable server was reported as permanent, so the step would stop instead of retrying: %w", err)
	}
	if _, err := planWithActions(ctx, f, tr, "Plan(Person) with the server reachable"); err != nil {
		return fmt.Errorf("the connector with the right address: %w", err)
	}
	return nil
}

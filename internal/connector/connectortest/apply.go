package connectortest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// verifyReads bounds how often Verify is read after an Apply before the check gives up. Some
// vendors apply changes asynchronously (Okta's transitioningToStatus), so one read too soon
// may legitimately still show the old state.
const verifyReads = 10

// applyAll applies and verifies every action in dependency order and returns them in the order
// they ran. An action runs once every action of each kind in its After has been verified.
// Actions that are ready together run in reverse plan order, so that a dependency a connector
// forgot to declare is exposed rather than hidden by the order it happened to list them in.
func applyAll(ctx context.Context, f Fixture, tr *record, actions []connector.Action) ([]connector.Action, error) {
	left := make(map[string]int)
	for _, a := range actions {
		left[a.Kind]++
	}
	var ran []connector.Action
	pending := slices.Clone(actions)
	for len(pending) > 0 {
		var ready, blocked []connector.Action
		for _, a := range pending {
			if waitsOn(a, left) {
				blocked = append(blocked, a)
			} else {
				ready = append(ready, a)
			}
		}
		if len(ready) == 0 {
			kinds := make([]string, 0, len(blocked))
			for _, a := range blocked {
				kinds = append(kinds, fmt.Sprintf("%s (after %s)", a.Key(), strings.Join(a.After, ", ")))
			}
			return ran, fmt.Errorf("no action can run, they wait on each other: %s", strings.Join(kinds, "; "))
		}
		for i := len(ready) - 1; i >= 0; i-- {
			a := ready[i]
			if err := applyOne(ctx, f, tr, a); err != nil {
				return ran, err
			}
			left[a.Kind]--
			ran = append(ran, a)
		}
		pending = blocked
	}
	return ran, nil
}

// waitsOn reports whether some kind a must follow still has unverified actions.
func waitsOn(a connector.Action, left map[string]int) bool {
	for _, k := range a.After {
		if left[k] > 0 {
			return true
		}
	}
	return false
}

// applyOne checks that the action is not in place yet, applies it and reads it back.
func applyOne(ctx context.Context, f Fixture, tr *record, a connector.Action) error {
	a, err := roundTrip(a)
	if err != nil {
		return err
	}
	ev, err := f.Connector.Verify(ctx, a)
	tr.error("Verify before Apply "+a.Key(), err)
	if err != nil {
		return fmt.Errorf("reading %s back before Apply: %w", a.Key(), err)
	}
	if err := tr.json("evidence before Apply "+a.Key(), ev); err != nil {
		return err
	}
	if ev.Verified {
		return fmt.Errorf("before Apply, Verify already says %s is in place (observed %q); Verify must read the system, and a plan must not list done work", a.Key(), ev.Observed)
	}
	err = f.Connector.Apply(ctx, a)
	tr.error("Apply "+a.Key(), err)
	if err != nil {
		return fmt.Errorf("applying %s: %w", a.Key(), err)
	}
	ev, err = verifyEventually(ctx, f, tr, a)
	if err != nil {
		return err
	}
	if strings.TrimSpace(ev.Observed) == "" {
		return fmt.Errorf("evidence for %s has no Observed summary", a.Key())
	}
	if ev.CheckedAt.IsZero() {
		return fmt.Errorf("evidence for %s has no CheckedAt time", a.Key())
	}
	return nil
}

// verifyEventually reads a back until it is verified, at most verifyReads times.
func verifyEventually(ctx context.Context, f Fixture, tr *record, a connector.Action) (connector.Evidence, error) {
	delay := 10 * time.Millisecond
	for read := 1; ; read++ {
		ev, err := f.Connector.Verify(ctx, a)
		tr.error("Verify after Apply "+a.Key(), err)
		if err != nil {
			return ev, fmt.Errorf("reading %s back after Apply: %w", a.Key(), err)
		}
		if err := tr.json("evidence after Apply "+a.Key(), ev); err != nil {
			return ev, err
		}
		if ev.Verified {
			return ev, nil
		}
		if read == verifyReads {
			return ev, fmt.Errorf("%s applied without error but %d reads later Verify still says it is not in place (observed %q)", a.Key(), read, ev.Observed)
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ev, ctx.Err()
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// roundTrip passes a through JSON, as the engine does when it stores a plan and later runs a
// step, so a connector relying on anything JSON does not keep fails here.
func roundTrip(a connector.Action) (connector.Action, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return a, fmt.Errorf("action %s does not encode as JSON: %w", a.Key(), err)
	}
	var out connector.Action
	if err := json.Unmarshal(b, &out); err != nil {
		return a, fmt.Errorf("action %s does not decode from its JSON: %w", a.Key(), err)
	}
	return out, nil
}

func indexOf(list []string, s string) int { return slices.Index(list, s) }

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

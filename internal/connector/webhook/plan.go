package webhook

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// personParam is the Params key under which a planned action carries the leaver, because
// Apply and Verify receive only the action and the protocol sends the person with every
// request. Keys starting with "offboard." are offboard's; a tool may not use them.
const personParam = "offboard.person"

const reservedPrefix = "offboard."

// Limits on what a tool may put in a plan. Identifiers beyond them are refused (they are
// stored in keys and indexes); free text is cut instead.
const (
	maxTarget     = 512
	maxParamKey   = 64
	maxParamValue = 2048
	maxText       = 1000
	maxActions    = 5000
)

// Plan asks the tool what the person holds ("plan" phase), validates the answer and returns
// it with System stamped on every item. An invalid plan is refused as a whole, permanently:
// applying part of a plan the tool got wrong could remove the wrong things.
func (c *Connector) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	person := c.wirePerson(p)
	if person.Email == "" && person.Handle == "" {
		return connector.Plan{System: c.name, NotFound: true, Actions: []connector.Action{},
			Notes: []string{"the person has no email and no " + c.name + " handle to look them up by"}}, nil
	}
	var resp planResponse
	if err := c.call(ctx, request{Phase: PhasePlan, Person: &person}, &resp); err != nil {
		return connector.Plan{}, fmt.Errorf("%s: plan for %s: %w", c.name, who(person), err)
	}
	pl, err := c.toPlan(resp, person)
	if err != nil {
		return connector.Plan{}, fmt.Errorf("%s: plan for %s: %w", c.name, who(person), err)
	}
	return pl, nil
}

func (c *Connector) wirePerson(p connector.Person) wirePerson {
	return wirePerson{WorkerID: p.WorkerID, Email: p.Email, Name: p.Name, Manager: p.Manager, Handle: p.Handle(c.name)}
}

func who(p wirePerson) string {
	if p.Handle != "" {
		return p.Handle
	}
	return p.Email
}

// toPlan checks the tool's plan against the protocol's rules and converts it, listing every
// problem found rather than the first.
func (c *Connector) toPlan(resp planResponse, person wirePerson) (connector.Plan, error) {
	v := &validation{}
	pl := connector.Plan{System: c.name, NotFound: resp.NotFound, Actions: []connector.Action{}}
	var actions []wireAction
	if resp.Actions != nil {
		actions = *resp.Actions
	}
	if resp.NotFound {
		if len(actions) > 0 {
			v.addf("not_found is true but %d action(s) are listed", len(actions))
		}
	} else {
		if pl.Account = clean(resp.Account, maxText); pl.Account == "" {
			v.addf("an account was found (not_found is false) but \"account\" does not describe it")
		}
		if resp.Actions == nil {
			v.addf("no \"actions\" list (send [] when there is nothing to remove)")
		}
	}
	if len(actions) > maxActions {
		v.addf("%d actions, more than the %d allowed", len(actions), maxActions)
	}
	personJSON, _ := json.Marshal(person)
	kinds := make(map[string]bool)
	for _, a := range actions {
		kinds[a.Kind] = true
	}
	seen := make(map[string]bool)
	for i, a := range actions {
		act, ok := c.toAction(v, i, a, kinds)
		if !ok {
			continue
		}
		if seen[act.Key()] {
			v.addf("action %d: %s %q is listed twice (kind and target must identify one action)", i, act.Kind, act.Target)
		}
		seen[act.Key()] = true
		act.Params[personParam] = string(personJSON)
		pl.Actions = append(pl.Actions, act)
	}
	if cycle := findCycle(pl.Actions); cycle != "" {
		v.addf("kinds wait on each other in a cycle (%s), so the plan could never finish", cycle)
	}
	c.addExtras(v, resp, &pl)
	if err := v.err(); err != nil {
		return connector.Plan{}, err
	}
	if pl.NotFound && len(pl.Notes) == 0 {
		pl.Notes = []string{fmt.Sprintf("%s found no account for %s", c.name, who(person))}
	}
	sortActions(pl.Actions)
	slices.SortFunc(pl.Kept, func(a, b connector.Kept) int { return cmp.Compare(a.Target, b.Target) })
	return pl, nil
}

// toAction validates one planned action and converts it, with System stamped.
func (c *Connector) toAction(v *validation, i int, a wireAction, kinds map[string]bool) (connector.Action, bool) {
	name := fmt.Sprintf("action %d", i)
	bad := len(v.problems)
	if a.System != "" && a.System != c.name {
		v.addf("%s: system %q is not this connector's %q", name, clean(a.System, 64), c.name)
	}
	if !validKind(a.Kind) {
		v.addf("%s: kind %q must be a lower-case identifier (a-z, 0-9, '_', '-', '.'), at most 64 characters", name, clean(a.Kind, 64))
	}
	switch {
	case strings.TrimSpace(a.Target) == "":
		v.addf("%s: target is empty", name)
	case len(a.Target) > maxTarget || clean(a.Target, maxTarget) != a.Target:
		v.addf("%s: target must be at most %d characters of printable text without surrounding spaces", name, maxTarget)
	}
	detail := clean(a.Detail, maxText)
	if detail == "" {
		v.addf("%s: detail is empty (people read it in the plan and the ticket)", name)
	}
	params := make(map[string]string, len(a.Params)+1)
	for k, val := range a.Params {
		switch {
		case k == "" || len(k) > maxParamKey:
			v.addf("%s: a params key is empty or longer than %d characters", name, maxParamKey)
		case strings.HasPrefix(k, reservedPrefix):
			v.addf("%s: params key %q uses the prefix %q, which is reserved for offboard", name, clean(k, maxParamKey), reservedPrefix)
		case len(val) > maxParamValue:
			v.addf("%s: params %q is longer than %d characters", name, k, maxParamValue)
		}
		params[k] = val
	}
	var after []string
	for _, k := range a.After {
		switch {
		case k == a.Kind:
			v.addf("%s: waits on its own kind %q", name, clean(k, 64))
		case !kinds[k]:
			v.addf("%s: after names kind %q, which has no action in this plan (name only kinds the plan holds)", name, clean(k, 64))
		case !slices.Contains(after, k):
			after = append(after, k)
		}
	}
	if len(v.problems) > bad {
		return connector.Action{}, false
	}
	slices.Sort(after)
	return connector.Action{
		System: c.name, Kind: a.Kind, Target: a.Target, Detail: detail,
		Params: params, After: after, Before: clean(a.Before, maxText),
	}, true
}

// addExtras converts what the plan keeps, what a human must do, secrets to rotate and notes.
func (c *Connector) addExtras(v *validation, resp planResponse, pl *connector.Plan) {
	for i, k := range resp.Kept {
		kept := connector.Kept{System: c.name, Target: clean(k.Target, maxTarget), Detail: clean(k.Detail, maxText), Reason: clean(k.Reason, maxText)}
		if kept.Target == "" || kept.Reason == "" {
			v.addf("kept item %d needs a target and a reason", i)
		}
		pl.Kept = append(pl.Kept, kept)
	}
	for i, m := range resp.Manual {
		d := clean(m.Detail, maxText)
		if d == "" {
			v.addf("manual item %d has no detail", i)
		}
		pl.Manual = append(pl.Manual, connector.Manual{System: c.name, Detail: d})
	}
	for i, r := range resp.Rotate {
		rot := connector.Rotation{System: c.name, Location: clean(r.Location, maxText), Name: clean(r.Name, maxText), Reason: clean(r.Reason, maxText)}
		if rot.Location == "" || rot.Name == "" {
			v.addf("rotate item %d needs a location and a name", i)
		}
		pl.Rotate = append(pl.Rotate, rot)
	}
	for _, n := range resp.Notes {
		if n = clean(n, maxText); n != "" {
			pl.Notes = append(pl.Notes, n)
		}
	}
}

// validation collects the problems of one answer.
type validation struct{ problems []string }

func (v *validation) addf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

// err is nil for a valid answer, and otherwise a permanent error listing at most the first
// ten problems: the same tool code would answer the same, so retrying cannot help.
func (v *validation) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	list := v.problems
	more := ""
	if len(list) > 10 {
		more = fmt.Sprintf("; and %d more", len(list)-10)
		list = list[:10]
	}
	return permanentAnswer("the tool's plan breaks the protocol: %s%s", strings.Join(list, "; "), more)
}

// findCycle returns a dependency cycle among the kinds of actions, as "a -> b -> a", or "".
func findCycle(actions []connector.Action) string {
	after := make(map[string][]string)
	for _, a := range actions {
		after[a.Kind] = append(after[a.Kind], a.After...)
	}
	state := make(map[string]int) // 0 unseen, 1 on the path, 2 done
	var path []string
	var visit func(k string) string
	visit = func(k string) string {
		state[k] = 1
		path = append(path, k)
		for _, d := range after[k] {
			switch state[d] {
			case 1:
				i := slices.Index(path, d)
				return strings.Join(append(slices.Clone(path[i:]), d), " -> ")
			case 0:
				if cyc := visit(d); cyc != "" {
					return cyc
				}
			}
		}
		path = path[:len(path)-1]
		state[k] = 2
		return ""
	}
	keys := make([]string, 0, len(after))
	for k := range after {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if state[k] == 0 {
			if cyc := visit(k); cyc != "" {
				return cyc
			}
		}
	}
	return ""
}

// sortActions orders a plan the way it can run (kinds nothing waits for first, then those
// that wait on them), then by kind and target, so the same state always gives the same plan
// whatever order the tool listed it in. The plan must be free of cycles.
func sortActions(actions []connector.Action) {
	after := make(map[string][]string)
	for _, a := range actions {
		after[a.Kind] = append(after[a.Kind], a.After...)
	}
	depth := make(map[string]int)
	var depthOf func(k string) int
	depthOf = func(k string) int {
		if d, ok := depth[k]; ok {
			return d
		}
		d := 0
		for _, dep := range after[k] {
			d = max(d, depthOf(dep)+1)
		}
		depth[k] = d
		return d
	}
	slices.SortStableFunc(actions, func(a, b connector.Action) int {
		return cmp.Or(cmp.Compare(depthOf(a.Kind), depthOf(b.Kind)), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Target, b.Target))
	})
}

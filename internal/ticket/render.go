package ticket

import (
	"fmt"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/store"
)

// The rendering below turns a case and its steps into what the ticket says. It is pure: the
// same case and steps always render the same text, so an update queued in the outbox says what
// was true when it was queued. One rule holds throughout: a step is called verified only when
// it is StepVerified with a verification time (see isVerified); anything else is described by
// what it is (failed, retrying, not started) and, when it is not verified, with its last error.

// Labels every offboarding ticket carries.
const (
	LabelOffboarding = "offboarding"
	LabelPartial     = "offboarding-partial"
)

// Summary is the ticket's title: "Deprovisioning: <name> <<email>>".
func Summary(p connector.Person) string {
	name := p.Name
	if name == "" {
		name = "worker " + p.WorkerID
	}
	if p.Email == "" {
		return "Deprovisioning: " + name
	}
	return fmt.Sprintf("Deprovisioning: %s <%s>", name, p.Email)
}

// Ref is the reference that identifies case c's ticket, so a retried Create finds the ticket
// instead of opening a second one.
func Ref(c store.Case) string { return fmt.Sprintf("offboard-case-%d", c.ID) }

// Open is the ticket a case opens with: who is leaving, when, why, where the request came
// from, and whether it is urgent.
func Open(c store.Case) NewTicket {
	urgent := "Urgent: no"
	if c.Urgent {
		urgent = "Urgent: yes (involuntary termination, handled ahead of other work)"
	}
	facts := []string{
		"Person: " + personName(c.Person),
		"Worker ID: " + orNone(c.Person.WorkerID),
		"Email: " + orNone(c.Person.Email),
		"Manager: " + orNone(c.Person.Manager),
		"Effective: " + stamp(c.EffectiveAt),
		"Reason: " + orNone(c.Reason),
		fmt.Sprintf("Source: %s (event %s)", orNone(c.Source), orNone(c.EventID)),
		urgent,
		fmt.Sprintf("Offboard case: %d", c.ID),
	}
	intro := "offboard is removing this person's access from every connected system. Each removal is proven by reading the system back; this ticket is updated as that happens, failures included."
	if c.State == store.CaseScheduled {
		intro = "offboard will remove this person's access at the effective time below. Each removal will be proven by reading the system back; this ticket is updated as that happens, failures included."
	}
	return NewTicket{
		Summary:     Summary(c.Person),
		Description: Doc{Blocks: []Block{{Paragraph: intro}, {Bullets: facts}}},
		Labels:      []string{LabelOffboarding},
		Ref:         Ref(c),
	}
}

// PlanComment lists, per system, the account found, every action in order with what it waits
// for, what is kept and why, what only a human can do, and the findings. A system where no
// account was found says so plainly.
func PlanComment(c store.Case, steps []store.Step) Doc {
	d := Doc{Blocks: []Block{
		{Heading: "Plan"},
		{Paragraph: fmt.Sprintf("%s in %s. Nothing is marked done until a fresh read of the system shows it.",
			count(len(steps), "action"), count(len(systemsOf(c, steps)), "system"))},
	}}
	for _, system := range systemsOf(c, steps) {
		p := planOf(c, system)
		own := stepsOf(steps, system)
		head := system
		switch {
		case p.NotFound:
			head += ": no account found"
		case p.Account != "":
			head += ": " + p.Account
		}
		var items []string
		if p.NotFound {
			items = append(items, fmt.Sprintf("No %s account was found for %s, so nothing will be removed there. If they use another identity there, give it as a handle.", system, personName(c.Person)))
		}
		for i, s := range own {
			item := fmt.Sprintf("%d. %s", i+1, s.Action.Detail)
			if after := waitsFor(s, own); after != "" {
				item += " (after " + after + ")"
			}
			items = append(items, item)
		}
		for _, k := range p.Kept {
			items = append(items, fmt.Sprintf("Kept: %s (%s)", k.Detail, k.Reason))
		}
		for _, m := range p.Manual {
			items = append(items, "For a human: "+m.Detail)
		}
		for _, r := range p.Rotate {
			items = append(items, "Secret to rotate: "+rotationLine(r))
		}
		for _, n := range p.Notes {
			items = append(items, "Note: "+n)
		}
		if len(items) == 0 {
			items = []string{"Nothing to remove."}
		}
		d.Blocks = append(d.Blocks, Block{Heading: head}, Block{Bullets: items})
	}
	return d
}

// systemListCap bounds the list of actions in a system's "all verified" comment; the final
// comment lists every action.
const systemListCap = 20

// SystemComment announces that one system finished: every action verified (with a short list),
// or how many failed and why.
func SystemComment(c store.Case, system string, steps []store.Step) Doc {
	own := stepsOf(steps, system)
	p := planOf(c, system)
	if p.NotFound {
		return Doc{Blocks: []Block{{Paragraph: fmt.Sprintf("%s: no account found for %s; nothing was removed there. If they use another identity there, give it as a handle.", system, personName(c.Person))}}}
	}
	var verified, failed, waiting []store.Step
	for _, s := range own {
		switch {
		case isVerified(s):
			verified = append(verified, s)
		case s.State == store.StepFailed || s.State == store.StepRetrying:
			failed = append(failed, s)
		default:
			waiting = append(waiting, s)
		}
	}
	if len(verified) == len(own) && len(p.Manual) == 0 {
		if len(own) == 0 {
			return Doc{Blocks: []Block{{Paragraph: fmt.Sprintf("%s: nothing needed removing.", system)}}}
		}
		items := make([]string, 0, min(len(own), systemListCap+1))
		for i, s := range own {
			if i == systemListCap {
				items = append(items, fmt.Sprintf("… and %d more (the final comment lists every action)", len(own)-systemListCap))
				break
			}
			items = append(items, verifiedLine(s))
		}
		return Doc{Blocks: []Block{
			{Paragraph: fmt.Sprintf("%s: all %s verified by reading %s back.", system, count(len(own), "action"), system)},
			{Bullets: items},
		}}
	}
	var head string
	switch {
	case len(failed) > 0:
		head = fmt.Sprintf("%s: %d of %s failed.", system, len(failed), count(len(own), "action"))
	case len(waiting) > 0:
		head = fmt.Sprintf("%s: %d of %s did not finish.", system, len(waiting), count(len(own), "action"))
	default:
		head = fmt.Sprintf("%s: all %s verified, but %s a human.", system, count(len(own), "action"), needWord(len(p.Manual)))
	}
	if len(verified) > 0 && len(verified) < len(own) {
		head += fmt.Sprintf(" %d verified.", len(verified))
	}
	var items []string
	for _, s := range failed {
		items = append(items, stepProblem(s, steps))
	}
	for _, s := range waiting {
		items = append(items, stepProblem(s, steps))
	}
	for _, m := range p.Manual {
		items = append(items, "For a human: "+m.Detail)
	}
	return Doc{Blocks: []Block{{Paragraph: head}, {Bullets: items}}}
}

// FinalComment is the closing table of every action with its result and, when not everything
// is verified, what a human must do. Nothing is called verified unless the step is verified
// with a verification time.
func FinalComment(c store.Case, steps []store.Step) Doc {
	verified, needs, complete := outcome(c, steps)
	d := Doc{}
	switch {
	case complete && len(steps) == 0:
		d.Blocks = append(d.Blocks, Block{Heading: "Offboarding complete"},
			Block{Paragraph: "Every connected system was read and held no access to remove."})
	case complete:
		d.Blocks = append(d.Blocks, Block{Heading: "Offboarding complete"},
			Block{Paragraph: fmt.Sprintf("All %s verified by reading each system back. The evidence is attached.", count(len(steps), "action"))})
	default:
		d.Blocks = append(d.Blocks, Block{Heading: "Offboarding NOT complete"},
			Block{Paragraph: fmt.Sprintf("%d of %s verified. Some access may remain until the items below are done. offboard keeps retrying what can be retried.", verified, count(len(steps), "action"))})
	}
	if len(steps) > 0 {
		rows := make([][]string, 0, len(steps))
		for _, s := range steps {
			verifiedAt := "—"
			if isVerified(s) {
				verifiedAt = stamp(*s.VerifiedAt)
			}
			applied := "—"
			if s.AppliedAt != nil {
				applied = stamp(*s.AppliedAt)
			}
			rows = append(rows, []string{s.Action.System, s.Action.Detail, stateLabel(s), applied, verifiedAt, readBack(s)})
		}
		d.Blocks = append(d.Blocks, Block{Table: &Table{Header: []string{"System", "Action", "State", "Applied", "Verified", "Read-back"}, Rows: rows}})
	}
	var kept []string
	for _, p := range c.Plans {
		for _, k := range p.Kept {
			kept = append(kept, fmt.Sprintf("%s: %s (%s)", p.System, k.Detail, k.Reason))
		}
	}
	if len(kept) > 0 {
		d.Blocks = append(d.Blocks, Block{Heading: "Kept on purpose"}, Block{Bullets: kept})
	}
	if len(needs) > 0 {
		d.Blocks = append(d.Blocks, Block{Heading: "What a human must do"}, Block{Bullets: needs})
	}
	var absent []string
	for _, p := range c.Plans {
		if p.NotFound {
			line := p.System
			if len(p.Notes) > 0 {
				line += ": " + strings.Join(p.Notes, " ")
			}
			absent = append(absent, line)
		}
	}
	if len(absent) > 0 {
		d.Blocks = append(d.Blocks, Block{Heading: "No account found"},
			Block{Paragraph: "These systems were searched and hold no account for the person, so nothing was removed there. If the person used another identity in one of them, give it as a handle and plan again."},
			Block{Bullets: absent})
	}
	var rotate []string
	for _, p := range c.Plans {
		for _, r := range p.Rotate {
			rotate = append(rotate, rotationLine(r))
		}
	}
	if len(rotate) > 0 {
		// Rotation does not hold the case open: the leaver's access is gone either way. These
		// are secrets they could read and may have copied, for their owners to replace.
		d.Blocks = append(d.Blocks, Block{Heading: "Secrets to rotate"},
			Block{Paragraph: "The leaver could read these secrets and may have kept a copy. Their access is removed; the secrets themselves should be replaced by their owners. Only names are listed, never values."},
			Block{Bullets: rotate})
	}
	return d
}

// rotationLine describes one secret to rotate.
func rotationLine(r connector.Rotation) string {
	line := fmt.Sprintf("%s: %s in %s", r.System, r.Name, r.Location)
	if r.Reason != "" {
		line += " (" + r.Reason + ")"
	}
	return line
}

// NeedsHuman lists what a person must do for the case to be complete: each step that is not
// verified (with its last error), each manual item, and each system where no account was
// found.
func NeedsHuman(c store.Case, steps []store.Step) []string {
	var out []string
	for _, s := range steps {
		if !isVerified(s) {
			out = append(out, stepProblem(s, steps))
		}
	}
	foundNowhere := len(c.Plans) > 0
	for _, p := range c.Plans {
		foundNowhere = foundNowhere && p.NotFound
	}
	for _, p := range c.Plans {
		if p.NotFound && foundNowhere {
			out = append(out, fmt.Sprintf("Confirm %s has no %s account (none was found).", personName(c.Person), p.System))
		}
		for _, m := range p.Manual {
			out = append(out, fmt.Sprintf("%s: %s", p.System, m.Detail))
		}
	}
	if len(c.Plans) == 0 && len(steps) == 0 && planned(c.State) {
		out = append(out, "No system was checked; confirm the configuration and plan the case again.")
	}
	return out
}

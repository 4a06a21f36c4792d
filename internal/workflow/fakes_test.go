package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/ticket"
)

// fakeSystem is an in-memory system with one account per email: a session to revoke, some
// groups to remove (after the session), and the account to close (after the groups). Faults
// can be set per action key.
type fakeSystem struct {
	name string

	mu       sync.Mutex
	accounts map[string]*fakeAccount
	applied  []string // action keys in the order Apply changed something
	calls    map[string]int
	// permanent makes Apply of the key fail permanently; transient fails it that many times.
	permanent map[string]bool
	transient map[string]int
	// neverGone makes Verify of the key always see the access.
	neverGone map[string]bool
}

type fakeAccount struct {
	session bool
	groups  map[string]bool
	open    bool
}

func newFakeSystem(name string) *fakeSystem {
	return &fakeSystem{name: name, accounts: map[string]*fakeAccount{}, calls: map[string]int{},
		permanent: map[string]bool{}, transient: map[string]int{}, neverGone: map[string]bool{}}
}

func (f *fakeSystem) add(email string, groups ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := &fakeAccount{session: true, groups: map[string]bool{}, open: true}
	for _, g := range groups {
		a.groups[g] = true
	}
	f.accounts[email] = a
}

func (f *fakeSystem) System() string { return f.name }

func (f *fakeSystem) Plan(_ context.Context, p connector.Person) (connector.Plan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.accounts[p.Email]
	if !ok {
		return connector.Plan{System: f.name, NotFound: true, Notes: []string{"not found in " + f.name}}, nil
	}
	plan := connector.Plan{System: f.name, Account: p.Email}
	mk := func(kind, target string, after ...string) connector.Action {
		return connector.Action{System: f.name, Kind: kind, Target: target, Detail: kind + " " + target,
			Params: map[string]string{"email": p.Email}, After: after}
	}
	if a.session {
		plan.Actions = append(plan.Actions, mk("revoke_session", p.Email))
	}
	for g := range a.groups {
		plan.Actions = append(plan.Actions, mk("remove_group", g, "revoke_session"))
	}
	if a.open {
		plan.Actions = append(plan.Actions, mk("close", p.Email, "revoke_session", "remove_group"))
	}
	return plan, nil
}

func (f *fakeSystem) Apply(_ context.Context, a connector.Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := a.Key()
	f.calls[key]++
	if f.permanent[key] {
		return connector.Permanent(fmt.Errorf("%s: refused %s", f.name, key))
	}
	if f.transient[key] > 0 {
		f.transient[key]--
		return fmt.Errorf("%s: %s: HTTP 503", f.name, key)
	}
	acc := f.accounts[a.Param("email")]
	if acc == nil {
		return nil
	}
	changed := false
	switch a.Kind {
	case "revoke_session":
		changed, acc.session = acc.session, false
	case "remove_group":
		changed = acc.groups[a.Target]
		delete(acc.groups, a.Target)
	case "close":
		changed, acc.open = acc.open, false
	}
	if changed {
		f.applied = append(f.applied, key)
	}
	return nil
}

func (f *fakeSystem) Verify(_ context.Context, a connector.Action) (connector.Evidence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	acc := f.accounts[a.Param("email")]
	if acc == nil {
		return connector.Evidence{}, errors.New("account vanished")
	}
	var present bool
	switch a.Kind {
	case "revoke_session":
		present = acc.session
	case "remove_group":
		present = acc.groups[a.Target]
	case "close":
		present = acc.open
	}
	if f.neverGone[a.Key()] {
		present = true
	}
	obs := a.Key() + " gone"
	if present {
		obs = a.Key() + " still present"
	}
	return connector.Evidence{Verified: !present, Observed: obs, CheckedAt: time.Now()}, nil
}

func (f *fakeSystem) appliedOrder() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.applied...)
}

func (f *fakeSystem) applyCalls(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

// fakeTracker is an in-memory ticket system that can be made to fail.
type fakeTracker struct {
	mu       sync.Mutex
	down     bool
	tickets  map[string]*fakeTicket
	sequence int
}

type fakeTicket struct {
	summary     string
	labels      map[string]bool
	comments    []string
	attachments map[string][]byte
	status      string
}

func newFakeTracker() *fakeTracker { return &fakeTracker{tickets: map[string]*fakeTicket{}} }

func (f *fakeTracker) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

var errTrackerDown = errors.New("tracker: HTTP 503 service unavailable")

func (f *fakeTracker) Create(_ context.Context, t ticket.NewTicket) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return "", errTrackerDown
	}
	f.sequence++
	key := fmt.Sprintf("SEC-%d", f.sequence)
	ft := &fakeTicket{summary: t.Summary, labels: map[string]bool{}, attachments: map[string][]byte{}, status: "To Do"}
	for _, l := range t.Labels {
		ft.labels[l] = true
	}
	f.tickets[key] = ft
	return key, nil
}

func (f *fakeTracker) Comment(_ context.Context, key string, body ticket.Doc) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errTrackerDown
	}
	f.tickets[key].comments = append(f.tickets[key].comments, body.Text())
	return nil
}

func (f *fakeTracker) Attach(_ context.Context, key, name string, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errTrackerDown
	}
	f.tickets[key].attachments[name] = data
	return nil
}

func (f *fakeTracker) Label(_ context.Context, key string, add, remove []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errTrackerDown
	}
	for _, l := range add {
		f.tickets[key].labels[l] = true
	}
	for _, l := range remove {
		delete(f.tickets[key].labels, l)
	}
	return nil
}

func (f *fakeTracker) Transition(_ context.Context, key, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errTrackerDown
	}
	f.tickets[key].status = name
	return nil
}

func (f *fakeTracker) ticket(key string) fakeTicket {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tickets[key]
	if t == nil {
		return fakeTicket{}
	}
	cp := *t
	cp.comments = append([]string(nil), t.comments...)
	cp.labels = map[string]bool{}
	for k, v := range t.labels {
		cp.labels[k] = v
	}
	return cp
}

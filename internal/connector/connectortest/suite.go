package connectortest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// checkTimeout bounds one check, so a connector that hangs fails instead of stalling the run.
const checkTimeout = 2 * time.Minute

// Check is one conformance check: its name, what it protects, and a function that runs it
// against a fresh fixture and says what is wrong. Checks are plain functions returning errors,
// rather than code calling testing.T, so the suite's own tests can prove each one fails
// against a connector with the defect it guards against.
type Check struct {
	Name     string
	Protects string
	run      func(ctx context.Context, f Fixture, log *record) error
}

// Run checks f and records everything the connector produced in tr, for the leak check.
func (c Check) Run(ctx context.Context, f Fixture, tr *Transcript) error {
	if err := f.validate(); err != nil {
		return err
	}
	tr.watch(f)
	return c.run(ctx, f, &record{tr: tr, check: c.Name})
}

// Checks returns the conformance checks in the order they are reported. The secret-leak check
// is not among them: it looks at the Transcript all of them fill (see Transcript.Leaks).
func Checks() []Check {
	return []Check{
		{"PlanReadsOnly", "a plan is shown before anything changes, so planning must never write", checkPlanReadsOnly},
		{"UnknownPersonIsAFinding", "a person with no account is reported, not failed, and nothing is planned for them", checkUnknownPerson},
		{"PlanIsDeterministicAndComplete", "plans are stored, shown and applied as data: every action is complete, unique, and can be ordered", checkPlanShape},
		{"ApplyAndVerifyInDependencyOrder", "green means verified: each change is read back, in the order the connector declares", checkApplyAndVerify},
		{"ApplyIsIdempotent", "a resumed or re-run case repeats actions; repeating one must succeed and change nothing", checkIdempotent},
		{"RateLimitPaces", "a rate limit is a budget, not an error: throttled requests are waited out", checkRateLimit},
		{"UnauthorizedIsPermanent", "bad credentials stop the step and ask a human instead of retrying forever", checkUnauthorized},
		{"ServerErrorIsRetryable", "a vendor outage is retried, never mistaken for a finding or a permanent refusal", checkServerError},
	}
}

// Run runs every check against its own fresh fixture from newFixture, each as a parallel
// subtest of "conformance", then the NoSecretLeaks subtest over everything they produced.
// newFixture must be safe to call from several goroutines at once and should register its
// simulator's shutdown with t.Cleanup.
func Run(t *testing.T, newFixture func(t *testing.T) Fixture) {
	t.Helper()
	tr := &Transcript{}
	t.Run("conformance", func(t *testing.T) {
		for _, c := range Checks() {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				ctx, cancel := context.WithTimeout(t.Context(), checkTimeout)
				defer cancel()
				err := c.Run(ctx, f, tr)
				var na notApplicable
				if errors.As(err, &na) {
					// Logged rather than skipped: CI fails on skipped real-server tests,
					// and a check that cannot apply is not a missing server.
					t.Logf("not applicable: %s", na.why)
					return
				}
				if err != nil {
					t.Errorf("%s\n(this check protects: %s)", tr.redact(err.Error()), c.Protects)
				}
			})
		}
	})
	t.Run("NoSecretLeaks", func(t *testing.T) {
		if tr.empty() {
			t.Skip("no other check ran (filtered by -run?); nothing to inspect for secrets")
		}
		if err := tr.Leaks(); err != nil {
			t.Errorf("%v\n(this check protects: secrets never leave, not in errors, plans or evidence)", err)
		}
	})
}

func (f Fixture) validate() error {
	var missing []string
	if f.Connector == nil {
		missing = append(missing, "Connector")
	}
	if f.BadCredentials == nil {
		missing = append(missing, "BadCredentials")
	}
	switch {
	case f.realServer():
		if f.Snapshot == nil {
			missing = append(missing, "Snapshot (a real-server fixture, with no Faults or Recorder, needs it to prove planning reads only)")
		}
		if f.Unreachable == nil {
			missing = append(missing, "Unreachable (a real-server fixture needs it to prove an outage is retryable)")
		}
	case f.Faults == nil:
		missing = append(missing, "Faults")
	case f.Recorder == nil:
		missing = append(missing, "Recorder")
	}
	if f.Secret == "" {
		missing = append(missing, "Secret (the leak check needs the credential to look for)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("fixture is incomplete: missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// notApplicable is returned by a check that has nothing to test for the fixture.
type notApplicable struct{ why string }

func (n notApplicable) Error() string { return "not applicable: " + n.why }

func (f Fixture) readOnly(c sim.Call) bool {
	if f.ReadOnly != nil {
		return f.ReadOnly(c)
	}
	return c.Method == http.MethodGet || c.Method == http.MethodHead
}

func (f Fixture) throttleStatus() int {
	if f.ThrottleStatus != 0 {
		return f.ThrottleStatus
	}
	return http.StatusTooManyRequests
}

// Transcript collects every text a connector produced during the checks (error messages,
// plans and evidence as JSON) and the secrets of every fixture, so that one check can look
// for any secret in all of it. It is safe for concurrent use; the zero value is ready.
type Transcript struct {
	mu      sync.Mutex
	entries []entry
	secrets []string
}

type entry struct{ where, text string }

func (tr *Transcript) watch(f Fixture) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, s := range append([]string{f.Secret}, f.OtherSecrets...) {
		if s != "" && !slices.Contains(tr.secrets, s) {
			tr.secrets = append(tr.secrets, s)
		}
	}
}

func (tr *Transcript) add(where, text string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.entries = append(tr.entries, entry{where, text})
}

// record is one check's view of the Transcript: everything it adds is labelled with the check.
type record struct {
	tr    *Transcript
	check string
}

// error records err's text, if err is not nil.
func (r *record) error(where string, err error) {
	if err != nil {
		r.tr.add(r.check+": "+where+" error", err.Error())
	}
}

// json records v as JSON; it fails when v cannot be encoded, as plans and evidence are stored
// as JSON.
func (r *record) json(where string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s does not encode as JSON: %w", where, err)
	}
	r.tr.add(r.check+": "+where, string(b))
	return nil
}

func (tr *Transcript) empty() bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.entries) == 0
}

// Leaks reports every recorded text that contains one of the fixtures' secrets, naming where
// it was seen but never the secret itself.
func (tr *Transcript) Leaks() error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var found []string
	for _, e := range tr.entries {
		for i, s := range tr.secrets {
			if strings.Contains(e.text, s) {
				found = append(found, fmt.Sprintf("secret #%d appears in %s", i+1, e.where))
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	return errors.New("secrets leaked:\n  " + strings.Join(found, "\n  "))
}

// redact hides the watched secrets in a message about to be printed.
func (tr *Transcript) redact(s string) string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, secret := range tr.secrets {
		s = strings.ReplaceAll(s, secret, "[SECRET]")
	}
	return s
}

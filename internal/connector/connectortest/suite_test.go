package connectortest_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector/connectortest"
)

// TestSoundConnectorPassesTheSuite runs the suite the way every connector's test does.
func TestSoundConnectorPassesTheSuite(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, func(t *testing.T) connectortest.Fixture { return newAcmeFixture(t, sound) })
}

const leakCheck = "NoSecretLeaks"

// runChecks runs every check against its own fixture, as Run does, but returns the failures
// by check name instead of reporting them, with the leak check's result under leakCheck.
func runChecks(t *testing.T, f flaw) map[string]error {
	tr := &connectortest.Transcript{}
	failures := make(map[string]error)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range connectortest.Checks() {
		wg.Go(func() {
			err := c.Run(t.Context(), newAcmeFixture(t, f), tr)
			if err != nil {
				mu.Lock()
				failures[c.Name] = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := tr.Leaks(); err != nil {
		failures[leakCheck] = err
	}
	return failures
}

// TestEveryCheckPassesASoundConnector is the control for TestSuiteCatchesFlaws: the harness
// that finds the flaws finds nothing wrong with the sound connector.
func TestEveryCheckPassesASoundConnector(t *testing.T) {
	t.Parallel()
	for name, err := range runChecks(t, sound) {
		t.Errorf("%s failed on the sound connector: %v", name, err)
	}
}

// TestSuiteCatchesFlaws proves each check can fail: a connector with the defect the check
// guards against is reported, by that check, for that reason.
func TestSuiteCatchesFlaws(t *testing.T) {
	t.Parallel()
	cases := []struct {
		flaw  flaw
		check string
		why   string
	}{
		{writesInPlan, "PlanReadsOnly", "not read-only: DELETE /api/users/u1/sessions"},
		{unknownIsError, "UnknownPersonIsAFinding", "is a finding"},
		{outageIsNotFound, "ServerErrorIsRetryable", "never a finding"},
		{unstablePlan, "PlanIsDeterministicAndComplete", "differ"},
		{duplicateActions, "PlanIsDeterministicAndComplete", "acme/remove_group/g-eng is not unique"},
		{dependencyCycle, "PlanIsDeterministicAndComplete", "cycle: deactivate -> revoke_sessions -> deactivate"},
		{dependencyCycle, "ApplyAndVerifyInDependencyOrder", "wait on each other"},
		{keptWithoutReason, "PlanIsDeterministicAndComplete", "a Target and a Reason"},
		{undeclaredOrder, "ApplyAndVerifyInDependencyOrder", "HTTP 409"},
		{verifyWithoutRead, "ApplyAndVerifyInDependencyOrder", "already says acme/revoke_sessions/u1 is in place"},
		{noEvidence, "ApplyAndVerifyInDependencyOrder", "no Observed summary"},
		{goneIsFailure, "ApplyIsIdempotent", "a second time failed"},
		{throttleIsError, "RateLimitPaces", "rate limited"},
		{authIsRetryable, "UnauthorizedIsPermanent", "not connector.Permanent"},
		{everythingPermanent, "ServerErrorIsRetryable", "reported as permanent"},
		{leaksToken, leakCheck, "secret #1 appears in"},
		{leaksToken, leakCheck, "secret #2 appears in UnauthorizedIsPermanent"},
	}
	for _, tc := range cases {
		t.Run(string(tc.flaw)+"/"+tc.check, func(t *testing.T) {
			t.Parallel()
			err := runChecks(t, tc.flaw)[tc.check]
			if err == nil {
				t.Fatalf("%s passed a connector whose %s", tc.check, tc.flaw)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("%s failed for another reason than expected (%q):\n%v", tc.check, tc.why, err)
			}
			for _, secret := range []string{goodToken, badToken} {
				if tc.check == leakCheck && strings.Contains(err.Error(), secret) {
					t.Errorf("the leak report repeats the secret it found: %v", err)
				}
			}
		})
	}
}

func TestIncompleteFixtureIsRejected(t *testing.T) {
	t.Parallel()
	f := newAcmeFixture(t, sound)
	f.Secret = ""
	f.Recorder = nil
	for _, c := range connectortest.Checks() {
		err := c.Run(t.Context(), f, &connectortest.Transcript{})
		if err == nil || !strings.Contains(err.Error(), "missing Recorder, Secret") {
			t.Errorf("%s with no Recorder and no Secret: got %v, want the missing fields named", c.Name, err)
		}
	}
}

func TestEveryCheckSaysWhatItProtects(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range connectortest.Checks() {
		if c.Name == "" || c.Protects == "" || seen[c.Name] {
			t.Errorf("check %q needs a unique name and a Protects sentence", c.Name)
		}
		seen[c.Name] = true
	}
}

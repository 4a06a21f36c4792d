// Package storetest is the one test suite every store.Store implementation passes, plus the
// helpers other packages use to run their own tests on PostgreSQL.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/store"
)

// Run runs the suite against the stores open returns. open must give each call its own empty
// database (a fresh file, a fresh schema), because the tests run in parallel and count rows;
// Run closes each store when its test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"EventInsertAndDuplicate", testEventInsertAndDuplicate},
		{"EventOutcomeAndList", testEventOutcomeAndList},
		{"CaseRoundTrip", testCaseRoundTrip},
		{"CaseMissing", testCaseMissing},
		{"FindOpenCase", testFindOpenCase},
		{"FindOpenCaseStates", testFindOpenCaseStates},
		{"ListCases", testListCases},
		{"ListCasesDefaultLimit", testListCasesDefaultLimit},
		{"StepsRoundTrip", testStepsRoundTrip},
		{"StepsMissing", testStepsMissing},
		{"AuditChain", testAuditChain},
		{"AuditRejectsInvalidData", testAuditRejectsInvalidData},
		{"AuditConcurrentAppends", testAuditConcurrentAppends},
		{"LockCaseSerialises", testLockCaseSerialises},
		{"RollbackOnError", testRollbackOnError},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"TicketOutbox", testTicketOutbox},
		{"TicketLease", testTicketLease},
		{"RawAndDriver", testRawAndDriver},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

// inTx runs fn in a transaction and fails the test if it returns an error.
func inTx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.InTx(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("transaction: %v", err)
	}
}

// norm is a time as every store must return it.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// requireEqual fails with both values shown in full when got differs from want in any field,
// including the exact bytes of raw JSON and the location of times.
func requireEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s differs after the round trip\n got: %s\nwant: %s", what, show(got), show(want))
	}
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return fmt.Sprintf("%s %+v", b, v)
}

// zone is a non-UTC location with an odd offset, so that a store keeping local times or
// dropping the offset shows.
var zone = time.FixedZone("UTC-05:30", -(5*3600 + 30*60))

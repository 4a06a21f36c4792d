package connector

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPermanentSurvivesWrapping protects the engine's decision to stop and ask a human: a
// connector wraps errors with context, and the mark must still be found.
func TestPermanentSurvivesWrapping(t *testing.T) {
	t.Parallel()
	base := errors.New("missing scope okta.users.manage")
	wrapped := fmt.Errorf("okta: remove group: %w", Permanent(base))
	if !IsPermanent(wrapped) {
		t.Error("IsPermanent lost the mark through fmt.Errorf wrapping")
	}
	if !errors.Is(wrapped, base) {
		t.Error("Permanent hides the error it marks from errors.Is")
	}
	if wrapped.Error() != "okta: remove group: missing scope okta.users.manage" {
		t.Errorf("Permanent changed the message: %q", wrapped.Error())
	}
	if IsPermanent(base) || IsPermanent(nil) {
		t.Error("an unmarked error or nil reported permanent")
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) must stay nil so `return Permanent(err)` is safe")
	}
}

func TestRetryAfterCarriesTheWait(t *testing.T) {
	t.Parallel()
	base := errors.New("rate limited")
	err := fmt.Errorf("jira: comment: %w", RetryAfter(1500*time.Millisecond, base))
	d, ok := RetryDelay(err)
	if !ok || d != 1500*time.Millisecond {
		t.Errorf("RetryDelay = %v, %v; want 1.5s, true", d, ok)
	}
	if !errors.Is(err, base) {
		t.Error("RetryAfter hides the error it marks from errors.Is")
	}
	if !strings.Contains(err.Error(), "retry after 1.5s") {
		t.Errorf("message does not say when to retry: %q", err.Error())
	}
	if IsPermanent(err) {
		t.Error("a paced error must not be permanent")
	}
	if _, ok := RetryDelay(base); ok {
		t.Error("RetryDelay found a wait on an unmarked error")
	}
	if RetryAfter(time.Second, nil) != nil {
		t.Error("RetryAfter(d, nil) must stay nil")
	}
}

func TestAPIErrorHelpers(t *testing.T) {
	t.Parallel()
	notFound := &APIError{System: "okta", Method: "GET", Path: "/api/v1/users/00u1", Status: 404, Code: "E0000007", Summary: "Not found: Resource not found: 00u1 (User)"}
	wrapped := fmt.Errorf("okta: find user: %w", notFound)
	if got := notFound.Error(); got != "okta: GET /api/v1/users/00u1: HTTP 404 E0000007: Not found: Resource not found: 00u1 (User)" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(wrapped, ErrNotFound) {
		t.Error("a wrapped 404 is not ErrNotFound")
	}
	if StatusOf(wrapped) != 404 || CodeOf(wrapped) != "E0000007" {
		t.Errorf("StatusOf/CodeOf = %d/%q, want 404/E0000007", StatusOf(wrapped), CodeOf(wrapped))
	}
	gone := &APIError{System: "okta", Method: "DELETE", Path: "/x", Status: 410}
	if errors.Is(gone, ErrNotFound) {
		t.Error("a 410 must not count as ErrNotFound")
	}
	if got := gone.Error(); got != "okta: DELETE /x: HTTP 410" {
		t.Errorf("Error() without code or summary = %q", got)
	}
	plain := errors.New("dial tcp: connection refused")
	if StatusOf(plain) != 0 || CodeOf(plain) != "" {
		t.Error("StatusOf/CodeOf invented a status for a non-API error")
	}
	if StatusOf(Permanent(&APIError{Status: 403})) != 403 {
		t.Error("StatusOf does not see through Permanent")
	}
}

package connector

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotFound marks a target that does not exist in the system. For a removal it means the
// effect is already in place; for a lookup it is a finding.
var ErrNotFound = errors.New("not found")

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix (bad credentials, a missing permission, a
// request the system refuses): the step stops and asks a human.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type retryAfterError struct {
	after time.Duration
	err   error
}

func (e *retryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.err, e.after.Round(time.Millisecond))
}
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter marks err as transient with a known wait, such as a rate limit's reset time: the
// engine waits d before trying again and does not count it as a failure.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{after: d, err: err}
}

// RetryDelay returns the wait attached by RetryAfter, if any.
func RetryDelay(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// APIError is a vendor API's refusal, described without any credential: the method, the path
// (never the query string, which some vendors use for secrets), the status and the vendor's
// own error code and summary.
type APIError struct {
	System  string
	Method  string
	Path    string
	Status  int
	Code    string
	Summary string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s: %s %s: HTTP %d", e.System, e.Method, e.Path, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Summary != "" {
		msg += ": " + e.Summary
	}
	return msg
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.Status == 404
}

// StatusOf returns the HTTP status of an APIError within err, or 0.
func StatusOf(err error) int {
	var a *APIError
	if errors.As(err, &a) {
		return a.Status
	}
	return 0
}

// CodeOf returns the vendor error code of an APIError within err, or "".
func CodeOf(err error) string {
	var a *APIError
	if errors.As(err, &a) {
		return a.Code
	}
	return ""
}

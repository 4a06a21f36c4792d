package aws

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"github.com/offboard-dev/offboard/internal/connector"
)

// throttleCodes are the error codes AWS uses for "slow down" (aws-sdk-go-v2's
// DefaultThrottleErrorCodes, apis.md §8.4). IAM's own LimitExceeded is a quota, not a throttle.
var throttleCodes = []string{
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
	"BandwidthLimitExceeded", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
}

// credentialCodes mean the credentials themselves were refused: retrying cannot help.
var credentialCodes = []string{
	"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
	"IncompleteSignature", "MissingAuthenticationToken", "UnrecognizedClientException",
	"InvalidAccessKeyId", "AuthFailure",
}

// transientCodes are refusals that go away by themselves: IAM is busy or briefly holds the
// entity (apis.md §8.2).
var transientCodes = []string{
	"ServiceFailure", "ServiceUnavailable", "InternalFailure", "InternalError",
	"ConcurrentModification", "EntityTemporarilyUnmodifiable", "RequestTimeout",
}

func isAccessDenied(code string) bool {
	return code == "AccessDenied" || code == "AccessDeniedException"
}

// isNotFound reports whether err is IAM's NoSuchEntity: for a removal, the thing is gone.
func isNotFound(err error) bool { return errors.Is(err, connector.ErrNotFound) }

type errClass int

const (
	final errClass = iota
	throttled
	transient
)

// call makes one IAM call for operation op on the shared pacer. A Throttling answer pauses
// every call of this connector and is waited out with a growing backoff, several times,
// before the wait is handed to the engine as connector.RetryAfter; a 5xx or lost connection
// is retried twice and then returned as a plain (retryable) error. Errors come back
// classified and free of secrets (see classify).
func call[T any](ctx context.Context, c *Connector, op string, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	backoff := c.backoff
	throttles, retries := 0, 0
	for {
		release, err := c.pacer.Acquire(ctx)
		if err != nil {
			return zero, err
		}
		out, err := fn(ctx)
		release()
		if err == nil {
			return out, nil
		}
		class, cerr := c.classify(op, err)
		switch {
		case class == throttled && throttles < maxThrottleWaits:
			throttles++
			wait := jitter(backoff)
			// Observe with nothing remaining until now+wait pauses every request of the
			// connector, on the pacer's own clock.
			now := time.Now()
			c.pacer.Observe(connector.RateLimit{Limit: -1, Remaining: 0, Reset: now.Add(wait)}, now)
			backoff = min(2*backoff, 5*time.Second)
		case class == throttled:
			return zero, connector.RetryAfter(throttleRetryAfter, cerr)
		case class == transient && retries < maxTransientRetries:
			retries++
			if err := sleep(ctx, jitter(backoff)); err != nil {
				return zero, cerr
			}
			backoff = min(2*backoff, 5*time.Second)
		default:
			return zero, cerr
		}
	}
}

// jitter spreads waits between 75% and 125% of d so that parallel calls do not return in step.
func jitter(d time.Duration) time.Duration {
	return d*3/4 + time.Duration(rand.Int64N(int64(d)/2+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// classify turns an SDK error into one of ours: a connector.APIError (Method "IAM", Path the
// operation) carrying IAM's code, marked Permanent for refused credentials, missing
// permissions and requests IAM will never accept, and plain for NoSuchEntity (ErrNotFound),
// outages and transport failures. The secret key and session token are scrubbed from every
// message, though AWS never echoes them.
func (c *Connector) classify(op string, err error) (errClass, error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return final, err
	}
	var credErr *credentialsError
	if errors.As(err, &credErr) {
		return final, connector.Permanent(fmt.Errorf("%s: IAM %s: %s (configure access_key_id and secret_access_key, or the SDK's default credential chain)", c.name, op, c.scrub(credErr.Error())))
	}
	status := httpStatus(err)
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		if status >= 500 || status == 0 {
			// An outage answered without IAM's error body, or no answer at all.
			return transient, fmt.Errorf("%s: IAM %s: %s", c.name, op, c.scrub(err.Error()))
		}
		return final, &connector.APIError{System: c.name, Method: "IAM", Path: op, Status: status, Summary: "unreadable error response"}
	}
	code := ae.ErrorCode()
	if code == "NoSuchEntity" {
		status = http.StatusNotFound
	}
	apiErr := &connector.APIError{System: c.name, Method: "IAM", Path: op, Status: status, Code: code, Summary: c.scrub(ae.ErrorMessage())}
	switch {
	case slices.Contains(throttleCodes, code):
		return throttled, apiErr
	case slices.Contains(credentialCodes, code):
		return final, connector.Permanent(fmt.Errorf("the AWS credentials were refused (%s): check the access key ID, secret access key, session token and the clock: %w", code, apiErr))
	case isAccessDenied(code):
		return final, connector.Permanent(fmt.Errorf("missing permission iam:%s (grant it to the principal offboard runs as): %w", op, apiErr))
	case code == "NoSuchEntity", code == "DeleteConflict":
		// Not found is for the caller to judge; a conflict clears as IAM catches up.
		return final, apiErr
	case slices.Contains(transientCodes, code) || status >= 500:
		return transient, apiErr
	case status >= 400 && status < 500:
		return final, connector.Permanent(apiErr)
	}
	return final, apiErr
}

func httpStatus(err error) int {
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		return hs.HTTPStatusCode()
	}
	return 0
}

func (c *Connector) scrub(s string) string {
	for _, secret := range c.secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}

package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOkta429WaitsForTheResetAndSucceeds protects "a rate limit never fails a step": Okta's
// 429 carries the reset as epoch seconds, and the client waits until then and tries again.
func TestOkta429WaitsForTheResetAndSucceeds(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	reset := clk.Now().Add(30 * time.Second)
	srv := newTestServer(t, sequence(
		func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Rate-Limit-Limit", "600")
			w.Header().Set("X-Rate-Limit-Remaining", "0")
			w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
			status(http.StatusTooManyRequests, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}`)(w, r)
		},
		ok,
	))
	c := newTestClient(srv.Server, clk)
	c.RateHeaders = OktaRateHeaders
	resp, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/api/v1/users/00u1"})
	if err != nil {
		t.Fatalf("Do after a 429 = %v, want success", err)
	}
	if resp.Status != http.StatusOK || srv.calls.Load() != 2 {
		t.Errorf("status %d after %d calls, want 200 after 2", resp.Status, srv.calls.Load())
	}
	if got := clk.Total(); !within(got, 30*time.Second, 33*time.Second) {
		t.Errorf("waited %v, want until the reset 30s away (plus at most 10%% jitter)", got)
	}
}

// TestRetryAfterFormsAreWaitedOut covers the other vendors' throttle headers.
func TestRetryAfterFormsAreWaitedOut(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		header func(now time.Time) (string, string)
		want   time.Duration
	}{
		{"Retry-After seconds", func(time.Time) (string, string) { return "Retry-After", "7" }, 7 * time.Second},
		{"Retry-After HTTP date", func(now time.Time) (string, string) {
			return "Retry-After", now.Add(20 * time.Second).Format(http.TimeFormat)
		}, 20 * time.Second},
		{"X-Retry-After unix time", func(now time.Time) (string, string) {
			return "X-Retry-After", strconv.FormatInt(now.Add(12*time.Second).Unix(), 10)
		}, 12 * time.Second},
		{"no header: backoff", func(time.Time) (string, string) { return "X-Nothing", "" }, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock()
			srv := newTestServer(t, sequence(
				func(w http.ResponseWriter, r *http.Request) {
					k, v := tc.header(clk.Now())
					w.Header().Set(k, v)
					status(http.StatusTooManyRequests, `{"message":"slow down"}`)(w, r)
				},
				ok,
			))
			if _, err := newTestClient(srv.Server, clk).Do(t.Context(), Request{Method: http.MethodGet, Path: "/x"}); err != nil {
				t.Fatalf("Do = %v, want the 429 waited out", err)
			}
			if got := clk.Total(); !within(got, tc.want, tc.want+tc.want/10) {
				t.Errorf("waited %v, want %v (plus at most 10%% jitter)", got, tc.want)
			}
		})
	}
}

// TestThrottledHookIsAWait protects Google-style throttling: a 403 whose body says
// userRateLimitExceeded is a rate limit to wait out, while any other 403 is a refusal.
func TestThrottledHookIsAWait(t *testing.T) {
	t.Parallel()
	const throttled = `{"error":{"code":403,"message":"Rate Limit Exceeded","errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded"}]}}`
	const forbidden = `{"error":{"code":403,"message":"Not Authorized to access this resource/api","errors":[{"domain":"global","reason":"forbidden"}]}}`
	hook := func(status int, _ http.Header, body []byte) bool {
		return status == http.StatusForbidden && bytes.Contains(body, []byte(`"userRateLimitExceeded"`))
	}

	clk := newFakeClock()
	srv := newTestServer(t, sequence(status(http.StatusForbidden, throttled), status(http.StatusForbidden, throttled), ok))
	c := newTestClient(srv.Server, clk)
	c.Throttled = hook
	if _, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/admin/directory/v1/users/u1"}); err != nil {
		t.Fatalf("Do = %v, want the throttling 403s waited out", err)
	}
	if srv.calls.Load() != 3 || !within(clk.Total(), 3*time.Second, 3300*time.Millisecond) {
		t.Errorf("%d calls after waiting %v; want 3 calls after backing off 1s then 2s", srv.calls.Load(), clk.Total())
	}

	refusing := newTestServer(t, status(http.StatusForbidden, forbidden))
	c = newTestClient(refusing.Server, newFakeClock())
	c.Throttled = hook
	_, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/admin/directory/v1/users/u1"})
	if !IsPermanent(err) || refusing.calls.Load() != 1 {
		t.Errorf("plain 403: err %v after %d calls, want a permanent error at once", err, refusing.calls.Load())
	}
}

// TestSecondaryLimitWithBudgetLeftIsNotTheReset protects GitHub's secondary rate limits: a
// throttle that names no wait while the primary budget has requests left is backed off from
// the client's first backoff, not held until the primary budget's reset an hour away.
func TestSecondaryLimitWithBudgetLeftIsNotTheReset(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	reset := strconv.FormatInt(clk.Now().Add(50*time.Minute).Unix(), 10)
	srv := newTestServer(t, sequence(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "4000")
		w.Header().Set("X-RateLimit-Reset", reset)
		status(http.StatusForbidden, `{"message":"You have exceeded a secondary rate limit."}`)(w, r)
	}, ok))
	c := newTestClient(srv.Server, clk)
	c.RateHeaders = StandardRateHeaders
	c.ThrottleBackoff = time.Minute
	c.Throttled = func(status int, _ http.Header, body []byte) bool {
		return status == http.StatusForbidden && bytes.Contains(body, []byte("secondary rate limit"))
	}
	if _, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/orgs/acme/members"}); err != nil {
		t.Fatalf("Do = %v, want the secondary limit waited out", err)
	}
	if got := clk.Total(); !within(got, time.Minute, 66*time.Second) {
		t.Errorf("waited %v, want the one-minute backoff, not the 50 minutes to the reset", got)
	}
}

// TestServerErrorsAreRetriedThenTransient protects retries: a 5xx is tried Retries more times
// and then handed to the engine as an error that may be retried later.
func TestServerErrorsAreRetriedThenTransient(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	srv := newTestServer(t, status(http.StatusServiceUnavailable, `{"message":"down"}`))
	c := newTestClient(srv.Server, clk)
	_, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/x"})
	if err == nil || IsPermanent(err) || StatusOf(err) != http.StatusServiceUnavailable {
		t.Fatalf("err = %v (permanent %v, status %d), want a non-permanent 503", err, IsPermanent(err), StatusOf(err))
	}
	if got := srv.calls.Load(); got != int64(c.Retries)+1 {
		t.Errorf("%d calls, want 1 + %d retries", got, c.Retries)
	}
	if len(clk.Slept()) != c.Retries {
		t.Errorf("backed off %v, want one pause before each retry", clk.Slept())
	}

	recovering := newTestServer(t, sequence(status(http.StatusBadGateway, ""), status(http.StatusInternalServerError, ""), ok))
	if _, err := newTestClient(recovering.Server, newFakeClock()).Do(t.Context(), Request{Method: http.MethodGet, Path: "/x"}); err != nil {
		t.Errorf("two 5xx then 200 = %v, want success within the retries", err)
	}
}

// TestRefusalsArePermanent protects against retrying what cannot succeed: bad credentials,
// missing permissions and invalid requests stop the step at once.
func TestRefusalsArePermanent(t *testing.T) {
	t.Parallel()
	for _, code := range []int{400, 401, 403, 405, 409, 413, 422} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, status(code, `{"errorCode":"E0000006","errorSummary":"You do not have permission"}`))
			c := newTestClient(srv.Server, newFakeClock())
			c.DecodeError = func(_ int, body []byte) (string, string) {
				var e struct{ ErrorCode, ErrorSummary string }
				_ = json.Unmarshal(body, &e)
				return e.ErrorCode, e.ErrorSummary
			}
			_, err := c.Do(t.Context(), Request{Method: http.MethodDelete, Path: "/api/v1/groups/00g1/users/00u1"})
			if !IsPermanent(err) || StatusOf(err) != code || CodeOf(err) != "E0000006" {
				t.Errorf("err = %v, want a permanent HTTP %d E0000006", err, code)
			}
			if srv.calls.Load() != 1 {
				t.Errorf("%d calls, want no retry", srv.calls.Load())
			}
			if !strings.Contains(err.Error(), "DELETE /api/v1/groups/00g1/users/00u1: HTTP "+strconv.Itoa(code)+" E0000006: You do not have permission") {
				t.Errorf("error does not describe the refusal: %v", err)
			}
		})
	}
}

func TestNotFoundIsErrNotFoundAndNotPermanent(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, status(http.StatusNotFound, `{}`))
	_, err := newTestClient(srv.Server, newFakeClock()).Do(t.Context(), Request{Method: http.MethodDelete, Path: "/x/1"})
	if !errors.Is(err, ErrNotFound) || IsPermanent(err) || srv.calls.Load() != 1 {
		t.Errorf("404: err %v (permanent %v) after %d calls; want ErrNotFound, not permanent, no retry", err, IsPermanent(err), srv.calls.Load())
	}
}

// TestLinkToAnotherHostIsRefused protects the credentials: a pagination link the vendor (or
// an attacker in its data) points elsewhere must not receive our Authorization header.
func TestLinkToAnotherHostIsRefused(t *testing.T) {
	t.Parallel()
	home := newTestServer(t, ok)
	elsewhere := newTestServer(t, ok)
	homeURL, _ := url.Parse(home.URL)
	for name, link := range map[string]string{
		"other host":     elsewhere.URL + "/api/v1/users?after=x",
		"other scheme":   "https://" + homeURL.Host + "/api/v1/users?after=x",
		"with user info": "http://user:pw@" + homeURL.Host + "/api/v1/users",
	} {
		_, err := newTestClient(home.Server, newFakeClock()).Do(t.Context(), Request{Method: http.MethodGet, Path: link})
		if err == nil || !IsPermanent(err) {
			t.Errorf("%s: err = %v, want a permanent refusal", name, err)
		}
	}
	if home.calls.Load() != 0 || elsewhere.calls.Load() != 0 {
		t.Errorf("calls home %d, elsewhere %d; want none", home.calls.Load(), elsewhere.calls.Load())
	}
	sameHost := home.URL + "/api/v1/users?after=00u9&limit=2"
	if _, err := newTestClient(home.Server, newFakeClock()).Do(t.Context(), Request{Method: http.MethodGet, Path: sameHost}); err != nil || home.calls.Load() != 1 {
		t.Errorf("same-host link: %v after %d calls, want followed", err, home.calls.Load())
	}
}

// TestRequestURLs protects what reaches the vendor: escaped IDs stay escaped once, queries in
// paths and links survive, and a base path prefix is kept.
func TestRequestURLs(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RequestURI())
		mu.Unlock()
		ok(w, r)
	})
	cases := []struct {
		base string
		req  Request
		want string
	}{
		{srv.URL, Request{Path: "/users/" + url.PathEscape("guest_x.com#EXT#@acme.onmicrosoft.com")}, "/users/guest_x.com%23EXT%23@acme.onmicrosoft.com"},
		{srv.URL, Request{Path: "/groups/" + url.PathEscape("a/b c")}, "/groups/a%2Fb%20c"},
		{srv.URL, Request{Path: "users", Query: url.Values{"filter": {`status eq "ACTIVE"`}}}, "/users?filter=status+eq+%22ACTIVE%22"},
		{srv.URL + "/okta/", Request{Path: "/api/v1/users?limit=2", Query: url.Values{"after": {"00u9"}}}, "/okta/api/v1/users?after=00u9&limit=2"},
		{srv.URL, Request{Path: srv.URL + "/report?format=json&Prompt=a%2Cb"}, "/report?format=json&Prompt=a%2Cb"},
	}
	for _, tc := range cases {
		c := newTestClient(srv.Server, newFakeClock())
		c.BaseURL = tc.base
		tc.req.Method = http.MethodGet
		if _, err := c.Do(t.Context(), tc.req); err != nil {
			t.Fatalf("Do(%q) = %v", tc.req.Path, err)
		}
		mu.Lock()
		got := seen[len(seen)-1]
		mu.Unlock()
		if got != tc.want {
			t.Errorf("Path %q with base %q reached the server as %q, want %q", tc.req.Path, tc.base, got, tc.want)
		}
	}
}

// TestErrorsCarryNoSecrets protects "secrets never leave": the credential Authorize adds never
// appears in an error, in any form, even when the vendor echoes it back; and the query string
// (which some vendors use for secrets) is never repeated by the client.
func TestErrorsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	const querySecret = "q-secret-8c1d2e"
	const password = "pw-secret-5e7a9b"
	echo := func(code int) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			user, pass, _ := r.BasicAuth()
			// The connector's own query is not echoed: only what we send of our own accord is
			// ours to keep out of errors; the credential in any form is scrubbed even when echoed.
			status(code, fmt.Sprintf(`{"message":"rejected %s (user %s, password %s, key %s)"}`, r.Header.Get("Authorization"), user, pass, r.URL.Query().Get("key")))(w, r)
		}
	}
	closed := newTestServer(t, ok)
	closed.Close()
	servers := map[string]string{
		"401 echoing the request": newTestServer(t, echo(401)).URL,
		"500 echoing the request": newTestServer(t, echo(500)).URL,
		"404 echoing the request": newTestServer(t, echo(404)).URL,
		"connection refused":      closed.URL,
		"body that is not JSON":   newTestServer(t, status(200, "<html>"+querySecret)).URL,
	}
	auths := map[string]func(*http.Request) error{
		"bearer": func(r *http.Request) error { r.Header.Set("Authorization", "Bearer "+testToken); return nil },
		"basic":  func(r *http.Request) error { r.SetBasicAuth("svc-offboard", password); return nil },
		"SSWS":   func(r *http.Request) error { r.Header.Set("Authorization", "SSWS "+testToken); return nil },
		"query key": func(r *http.Request) error {
			q := r.URL.Query()
			q.Set("key", testToken)
			r.URL.RawQuery = q.Encode()
			return nil
		},
	}
	for sname, base := range servers {
		for aname, auth := range auths {
			c := &Client{System: "vendor", BaseURL: base, Authorize: auth, Retries: 1, Pacer: NewPacer(1)}
			c.Pacer.SetClock(time.Now, newFakeClock().Sleep)
			c.DecodeError = func(_ int, body []byte) (string, string) {
				var e struct{ Message string }
				_ = json.Unmarshal(body, &e)
				return "", e.Message
			}
			_, err := c.JSON(t.Context(), http.MethodGet, "/api/users?token="+querySecret, url.Values{"filter": {querySecret}}, nil, &struct{}{})
			if err == nil {
				t.Fatalf("%s/%s: no error", sname, aname)
			}
			text := fmt.Sprintf("%v %+v", err, err)
			for _, secret := range []string{testToken, password, querySecret, base64Basic("svc-offboard", password)} {
				if strings.Contains(text, secret) {
					t.Errorf("%s/%s: error carries a secret: %s", sname, aname, text)
				}
			}
		}
	}
}

func base64Basic(user, pass string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// TestContextEndsAWait protects shutdown and step timeouts: a request waiting out a long 429
// returns the context's error as soon as the context ends.
func TestContextEndsAWait(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		status(http.StatusTooManyRequests, "{}")(w, r)
	})
	waiting := make(chan struct{})
	c := newTestClient(srv.Server, newFakeClock())
	c.Pacer.SetClock(time.Now, func(ctx context.Context, d time.Duration) error {
		close(waiting)
		<-ctx.Done()
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/x"})
		done <- err
	}()
	<-waiting
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Do = %v, want context.Canceled", err)
	}
	if srv.calls.Load() != 1 {
		t.Errorf("%d calls, want the one that was throttled", srv.calls.Load())
	}
}

// TestLongThrottleIsHandedToTheEngine protects steps from a vendor (or a proxy in front of
// it) asking for a wait longer than the attempt may last, or than an hour: the call returns
// at once with the wait attached (capped at an hour) and says why, instead of running into
// its timeout.
func TestLongThrottleIsHandedToTheEngine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		retryAfter string
		deadline   time.Duration // of the attempt; 0 for none
		want       time.Duration
	}{
		{"90", 10 * time.Second, 90 * time.Second},
		{"86400", 0, time.Hour},
	} {
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", tc.retryAfter)
			status(http.StatusTooManyRequests, "{}")(w, r)
		})
		c := newTestClient(srv.Server, newFakeClock())
		ctx := t.Context()
		if tc.deadline > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, tc.deadline)
			defer cancel()
		}
		_, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/x"})
		wait, ok := RetryDelay(err)
		if !ok || wait != tc.want || IsPermanent(err) || !strings.Contains(err.Error(), "throttled") {
			t.Errorf("Retry-After %s: err %v (delay %v, %v), want a transient error to retry in %v", tc.retryAfter, err, wait, ok, tc.want)
		}
		if srv.calls.Load() != 1 {
			t.Errorf("Retry-After %s: %d calls, want 1", tc.retryAfter, srv.calls.Load())
		}
	}
}

// TestConcurrentCallsShareOnePacer protects the budget under parallel steps: a client made
// without a Pacer creates exactly one, safely, however many requests start at once.
func TestConcurrentCallsShareOnePacer(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, ok)
	c := &Client{System: "vendor", BaseURL: srv.URL, HTTP: srv.Client()}
	var wg sync.WaitGroup
	pacers := make([]*Pacer, 8)
	for i := range pacers {
		wg.Go(func() {
			if _, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/x"}); err != nil {
				t.Error(err)
			}
			pacers[i] = c.pacer()
		})
	}
	wg.Wait()
	for _, p := range pacers {
		if p != pacers[0] || p == nil {
			t.Fatal("concurrent requests created more than one pacer")
		}
	}
}

func TestJSONDecodesAndReportsBadReplies(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, sequence(
		func(w http.ResponseWriter, r *http.Request) {
			var in map[string]string
			_ = json.NewDecoder(r.Body).Decode(&in)
			if r.Header.Get("Content-Type") != "application/json" || in["name"] != "x" {
				status(400, "{}")(w, r)
				return
			}
			status(201, `{"id":"g1"}`)(w, r)
		},
		status(200, "not json"),
	))
	c := newTestClient(srv.Server, newFakeClock())
	var out struct{ ID string }
	if _, err := c.JSON(t.Context(), http.MethodPost, "/groups", nil, map[string]string{"name": "x"}, &out); err != nil || out.ID != "g1" {
		t.Fatalf("JSON = %+v, %v; want the body sent as JSON and the reply decoded", out, err)
	}
	_, err := c.JSON(t.Context(), http.MethodGet, srv.URL+"/groups?after=c1", nil, nil, &out)
	if err == nil || !strings.Contains(err.Error(), "GET /groups: decode reply") {
		t.Errorf("undecodable reply: %v, want a decode error naming the path without its query", err)
	}
}

// TestOversizeResponseIsRefusedNotTruncated protects read-backs: a list cut off at the size
// limit would look complete and hide access, so the whole call fails instead.
func TestOversizeResponseIsRefusedNotTruncated(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`["` + strings.Repeat("g", maxBody) + `"]`))
	}))
	defer srv.Close()
	c := &Client{System: "acme", BaseURL: srv.URL}
	_, err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/groups"})
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Fatalf("Do = %v, want a permanent refusal naming the limit", err)
	}
}

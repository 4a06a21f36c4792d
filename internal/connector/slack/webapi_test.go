package slack

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// stubWeb answers every Web API call with HTTP 200 and body, plus a Retry-After header when
// retryAfter is set.
func stubWeb(t *testing.T, body, retryAfter string) *Connector {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return New(Config{BaseURL: ts.URL, SCIMURL: ts.URL, Token: secretToken})
}

// TestOkFalseClassification protects the rule that Slack's HTTP 200 errors are not
// successes: each code stops for a human, is a finding, or is retried (paced when Slack says
// how long).
func TestOkFalseClassification(t *testing.T) {
	t.Parallel()
	type want struct {
		permanent, notFound bool
		wait                time.Duration
		mention             string
	}
	for _, tc := range []struct {
		body       string
		retryAfter string
		want       want
	}{
		{`{"ok":false,"error":"invalid_auth"}`, "", want{permanent: true, mention: "check connectors.slack.token"}},
		{`{"ok":false,"error":"not_authed"}`, "", want{permanent: true, mention: "not_authed"}},
		{`{"ok":false,"error":"account_inactive"}`, "", want{permanent: true, mention: "deactivated"}},
		{`{"ok":false,"error":"token_revoked"}`, "", want{permanent: true, mention: "revoked"}},
		{`{"ok":false,"error":"missing_scope","needed":"admin.users:write","provided":"users:read"}`, "", want{permanent: true, mention: "needs the scope admin.users:write (it has: users:read)"}},
		{`{"ok":false,"error":"feature_not_enabled"}`, "", want{permanent: true, mention: "Enterprise Grid"}},
		{`{"ok":false,"error":"cannot_reset_primary_owner"}`, "", want{permanent: true, mention: "Primary Owner"}},
		{`{"ok":false,"error":"users_not_found"}`, "", want{notFound: true, mention: "users_not_found"}},
		{`{"ok":false,"error":"user_not_found"}`, "", want{notFound: true, mention: "user_not_found"}},
		{`{"ok":false,"error":"ratelimited"}`, "7", want{wait: 7 * time.Second, mention: "ratelimited"}},
		{`{"ok":false,"error":"ratelimited"}`, "", want{wait: defaultRatelimitWait, mention: "ratelimited"}},
		{`{"ok":false,"error":"internal_error"}`, "", want{mention: "internal_error"}},
		{`{"ok":false,"error":"fatal_error"}`, "", want{mention: "fatal_error"}},
		{`{"ok":false,"error":"service_unavailable"}`, "", want{mention: "service_unavailable"}},
		{`{"ok":false,"error":"brand_new_code"}`, "", want{mention: "brand_new_code"}},
		{`{"ok":false}`, "", want{mention: "unknown_error"}},
	} {
		t.Run(tc.body, func(t *testing.T) {
			t.Parallel()
			c := stubWeb(t, tc.body, tc.retryAfter)
			_, err := c.call(t.Context(), "users.info", url.Values{"user": {"U1"}}, nil)
			if err == nil {
				t.Fatal("ok:false was taken for success")
			}
			wait, paced := connector.RetryDelay(err)
			got := want{permanent: connector.IsPermanent(err), notFound: errors.Is(err, connector.ErrNotFound), wait: wait}
			if got.permanent != tc.want.permanent || got.notFound != tc.want.notFound || paced != (tc.want.wait > 0) || got.wait != tc.want.wait {
				t.Errorf("got permanent=%v notFound=%v wait=%v, want %+v (err %v)", got.permanent, got.notFound, got.wait, tc.want, err)
			}
			if !strings.Contains(err.Error(), tc.want.mention) || !strings.Contains(err.Error(), "users.info") {
				t.Errorf("error %q should name the method and mention %q", err, tc.want.mention)
			}
			if strings.Contains(err.Error(), secretToken) {
				t.Error("token leaked")
			}
		})
	}
}

func TestEveryClassifiedCodeHasAKnownClass(t *testing.T) {
	t.Parallel()
	for code, class := range classes {
		if ClassOf(code) != class {
			t.Errorf("ClassOf(%s) = %v, want %v", code, ClassOf(code), class)
		}
	}
	if ClassOf("never_heard_of_it") != Retry {
		t.Error("an unknown code must be retried, not dropped")
	}
}

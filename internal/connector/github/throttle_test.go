package github

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/github/githubsim"
)

// TestPrimaryLimitIsWaitedOut protects the third throttle shape: a 403 with
// x-ratelimit-remaining: 0 and no retry-after is waited out until x-ratelimit-reset (epoch
// seconds) instead of failing as a permission refusal.
func TestPrimaryLimitIsWaitedOut(t *testing.T) {
	t.Parallel()
	s := githubsim.New(githubsim.Options{Token: secretToken, SAML: true})
	e := &env{sim: s, ids: map[string]int64{}}
	e.seed(t)
	var refused atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refused.Add(1) <= 2 {
			w.Header().Set("X-RateLimit-Limit", "5000")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest"}`))
			return
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	c, err := New(Config{BaseURL: ts.URL, Org: "acme", Token: secretToken})
	must(t, err)
	pl, err := c.Plan(t.Context(), dana)
	if err != nil {
		t.Fatalf("plan failed under the primary rate limit: %v (permanent: %v)", err, connector.IsPermanent(err))
	}
	if len(pl.Actions) != 4 {
		t.Errorf("actions = %v", kinds(pl))
	}
}

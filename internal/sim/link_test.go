package sim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestPageURLKeepsTheMountPrefix protects paging through simulators mounted under a prefix:
// a next link without the prefix would lead a connector to another simulator, or to a 404.
func TestPageURLKeepsTheMountPrefix(t *testing.T) {
	t.Parallel()
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, PageURL(r, url.Values{"after": {"a b/c"}, "limit": {"2"}}))
	})
	mux := http.NewServeMux()
	mux.Handle("/okta/", http.StripPrefix("/okta", inner))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/okta/api/v1/groups%2Fx/users?limit=2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	want := srv.URL + "/okta/api/v1/groups%2Fx/users?after=a+b%2Fc&limit=2"
	if got := strings.TrimSpace(string(b)); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

package connector

import (
	"net/http"
	"testing"
)

// TestNextLinkFormats protects pagination: a missed or misread next link silently truncates a
// listing, and a plan built from it would leave access behind.
func TestNextLinkFormats(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		links []string
		want  string
	}{
		{"none", nil, ""},
		{"GitHub: next and last in one header",
			[]string{`<https://api.github.com/orgs/acme/members?page=2>; rel="next", <https://api.github.com/orgs/acme/members?page=5>; rel="last"`},
			"https://api.github.com/orgs/acme/members?page=2"},
		{"GitHub: last page has prev and first only",
			[]string{`<https://api.github.com/x?page=4>; rel="prev", <https://api.github.com/x?page=1>; rel="first"`},
			""},
		{"Okta: self and next in separate headers",
			[]string{`<https://acme.okta.com/api/v1/users?limit=200>; rel="self"`, `<https://acme.okta.com/api/v1/users?after=00u5x&limit=200>; rel="next"`},
			"https://acme.okta.com/api/v1/users?after=00u5x&limit=200"},
		{"unquoted relation", []string{`<https://x.test/p?page=2>; rel=next`}, "https://x.test/p?page=2"},
		{"relation in another case", []string{`<https://x.test/p?page=2>; REL="Next"`}, "https://x.test/p?page=2"},
		{"several relations in one value", []string{`<https://x.test/p?page=9>; rel="last next"`}, "https://x.test/p?page=9"},
		{"comma inside the URL", []string{`<https://x.test/p?fields=id,name&page=2>; rel="next"`}, "https://x.test/p?fields=id,name&page=2"},
		{"quoted comma in another parameter",
			[]string{`<https://x.test/p?page=1>; title="first, really"; rel="prev", <https://x.test/p?page=3>; rel="next"`},
			"https://x.test/p?page=3"},
		{"spaces around everything", []string{` < https://x.test/p?page=2 >  ;  rel = "next" `}, "https://x.test/p?page=2"},
		{"relation that only starts with next", []string{`<https://x.test/p?page=2>; rel="nextpage"`}, ""},
		{"no angle brackets", []string{`https://x.test/p?page=2; rel="next"`}, ""},
		{"unterminated target", []string{`<https://x.test/p?page=2; rel="next"`}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, l := range tc.links {
				h.Add("Link", l)
			}
			if got := NextLink(h); got != tc.want {
				t.Errorf("NextLink = %q, want %q", got, tc.want)
			}
			if got := (&Response{Header: h}).NextLink(); got != tc.want {
				t.Errorf("Response.NextLink = %q, want %q", got, tc.want)
			}
		})
	}
}

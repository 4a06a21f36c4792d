package connector

import "testing"

// TestPathSegmentEscapesAllButUnreserved protects lookups by login or address: a bare '+',
// '/', '#' or '?' in a path would address another resource, or none.
func TestPathSegmentEscapesAllButUnreserved(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"dana.w-1_x~":            "dana.w-1_x~",
		"dana+test@example.com":  "dana%2Btest%40example.com",
		"a/b?c#d&e":              "a%2Fb%3Fc%23d%26e",
		"guest_ext#EXT#@acme.io": "guest_ext%23EXT%23%40acme.io",
		"zoë":                    "zo%C3%AB",
	} {
		if got := PathSegment(in); got != want {
			t.Errorf("PathSegment(%q) = %q, want %q", in, got, want)
		}
	}
}

package connector

import (
	"net/http"
	"strings"
)

// NextLink returns the rel="next" URL of an RFC 8288 Link header, or "". It accepts every
// link in one header or spread over several, relation types in any case and space-separated
// lists of them (rel="next last"), unquoted values, other parameters, and commas inside a URL.
func NextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for v != "" {
			open := strings.IndexByte(v, '<')
			if open < 0 {
				break
			}
			end := strings.IndexByte(v[open+1:], '>')
			if end < 0 {
				break
			}
			target := strings.TrimSpace(v[open+1 : open+1+end])
			var params string
			params, v = cutLinkParams(v[open+1+end+1:])
			if linkRelIs(params, "next") {
				return target
			}
		}
	}
	return ""
}

// cutLinkParams splits the parameters of one link from the links after it, at the first comma
// outside a quoted string.
func cutLinkParams(s string) (params, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// linkRelIs reports whether a link's parameters give it the relation type want.
func linkRelIs(params, want string) bool {
	for _, p := range strings.Split(params, ";") {
		name, value, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
			continue
		}
		for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(value), `"`)) {
			if strings.EqualFold(rel, want) {
				return true
			}
		}
	}
	return false
}

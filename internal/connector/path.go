package connector

import (
	"fmt"
	"strings"
)

// PathSegment escapes s for one path segment, leaving only RFC 3986's unreserved characters
// bare. url.PathEscape leaves '+', '@', ':' and '&' bare, which are legal in a path but read
// differently by some vendors' servers, and the identifiers put in paths (logins, addresses,
// guest UPNs holding '#') contain them.
func PathSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.' || ch == '_' || ch == '~' {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}

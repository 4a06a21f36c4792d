package sim

import (
	"net/http"
	"net/url"
)

// PageURL is the absolute URL of the request's resource with query q, for the next-page
// links simulators hand out. It is built from the request line, which http.StripPrefix
// leaves untouched, so a link keeps the prefix a simulator is mounted under (/okta, /github)
// and a client following it reaches the same simulator.
func PageURL(r *http.Request, q url.Values) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := r.URL.EscapedPath()
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && r.RequestURI != "" {
		path = u.EscapedPath()
	}
	u := url.URL{Scheme: scheme, Host: r.Host, RawQuery: q.Encode()}
	u.RawPath = path
	u.Path, _ = url.PathUnescape(path)
	return u.String()
}

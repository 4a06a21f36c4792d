package secret

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// MinLength is the shortest value a Redactor redacts. Shorter values are ignored: replacing
// every "admin", "2024" or "okta" in every log line would make logs unreadable while
// protecting almost nothing, because a secret that short can be guessed anyway. Configuration
// validation asks for far longer secrets where offboard chooses them.
const MinLength = 6

// Redactor replaces known secret values in text with "[redacted]". Its zero value redacts
// nothing and is ready to use; it is safe for concurrent use, and Redact never blocks on Add.
type Redactor struct {
	mu     sync.Mutex          // serialises Add
	values map[string]struct{} // guarded by mu
	rep    atomic.Pointer[strings.Replacer]
}

// Add registers secret values. Besides each value itself it registers the forms the value
// takes once escaped into a URL query, a URL path or a JSON string, since logged URLs and
// JSON audit data carry it in those forms. Values shorter than MinLength are ignored.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.values == nil {
		r.values = make(map[string]struct{})
	}
	changed := false
	for _, v := range values {
		for _, form := range forms(v) {
			if len(form) < MinLength {
				continue
			}
			if _, ok := r.values[form]; !ok {
				r.values[form] = struct{}{}
				changed = true
			}
		}
	}
	if !changed {
		return
	}
	all := make([]string, 0, len(r.values))
	for v := range r.values {
		all = append(all, v)
	}
	// strings.Replacer tries its patterns in argument order at each position, so the longest
	// go first: a secret that contains another secret is then redacted whole, not in part.
	slices.SortFunc(all, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(all))
	for _, v := range all {
		pairs = append(pairs, v, Redacted)
	}
	r.rep.Store(strings.NewReplacer(pairs...))
}

// forms returns v and its escaped forms.
func forms(v string) []string {
	out := []string{v, url.QueryEscape(v), url.PathEscape(v)}
	// Both JSON encodings: encoding/json escapes <, > and & by default, slog's JSON handler
	// does not.
	for _, escapeHTML := range []bool{true, false} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(escapeHTML)
		if err := enc.Encode(v); err == nil {
			s := strings.TrimSuffix(buf.String(), "\n")
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`))
		}
	}
	return out
}

// Redact returns s with every registered value replaced by "[redacted]".
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	rep := r.rep.Load()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// RedactBytes is Redact for a byte slice. It returns b itself when nothing was replaced and a
// new slice otherwise; b is never modified.
func (r *Redactor) RedactBytes(b []byte) []byte {
	if r == nil || r.rep.Load() == nil {
		return b
	}
	s := string(b)
	out := r.Redact(s)
	if out == s {
		return b
	}
	return []byte(out)
}

// Package secret keeps tokens and passwords out of logs, errors, tickets and audit records.
//
// Value wraps one secret so that every way Go has of printing or encoding it shows "[redacted]";
// only Reveal, called where the secret is sent to its system, returns the plain text. Redactor
// and NewHandler are the second line of defence: they scrub known secret values from any text
// (log lines, error messages, audit records) that was built by hand from a revealed secret.
package secret

import (
	"fmt"
	"io"
	"log/slog"
)

// Redacted is what a secret looks like wherever it would otherwise be shown.
const Redacted = "[redacted]"

// Value holds a secret string. Its zero value is the empty (unset) secret. Printing it with
// any fmt verb, encoding it as JSON or text, or logging it with slog yields "[redacted]", so a
// secret passed somewhere by mistake shows nothing.
type Value struct {
	s string
}

// New wraps s.
func New(s string) Value { return Value{s: s} }

// Reveal returns the plain secret. Call it only where the secret is handed to the system that
// needs it (an Authorization header, an HMAC key), never to build text for people.
func (v Value) Reveal() string { return v.s }

// IsZero reports whether the secret is empty (unset).
func (v Value) IsZero() bool { return v.s == "" }

// String returns "[redacted]".
func (v Value) String() string { return Redacted }

// GoString returns "[redacted]", so %#v shows nothing either.
func (v Value) GoString() string { return Redacted }

// Format writes "[redacted]" for every verb. Without it, verbs that fmt does not route through
// String (%d, %t, %08x with a struct...) would print the struct's field, and with it the secret.
func (v Value) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Redacted) }

// MarshalJSON encodes the secret as the JSON string "[redacted]".
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText returns "[redacted]" (used by encoders such as encoding/xml and YAML).
func (v Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue makes slog print "[redacted]" whatever the handler.
func (v Value) LogValue() slog.Value { return slog.StringValue(Redacted) }

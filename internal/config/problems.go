package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a configuration, at one place in it.
type Problem struct {
	// Path names the setting in dotted form, e.g. "connectors.okta.token"; empty for the file
	// as a whole.
	Path string
	// Message says what is wrong and, where it helps, what would be right. It never contains
	// a secret's value.
	Message string
	// Line is the line of the file the problem is on (1-based), or 0 when there is none, such
	// as a required setting that is absent altogether.
	Line int
}

// String renders the problem as "path: message (line N)".
func (p Problem) String() string {
	s := p.Message
	if p.Path != "" {
		s = p.Path + ": " + s
	}
	if p.Line > 0 {
		s += fmt.Sprintf(" (line %d)", p.Line)
	}
	return s
}

// Problems is every problem found in a configuration. Parse returns them all at once, as one
// error, so an operator fixes the file in one pass rather than one restart per mistake.
type Problems []Problem

// Error lists the problems, one per line, each with its path.
func (ps Problems) Error() string {
	var b strings.Builder
	if len(ps) == 1 {
		b.WriteString("1 configuration problem:")
	} else {
		fmt.Fprintf(&b, "%d configuration problems:", len(ps))
	}
	for _, p := range ps {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Package ticket keeps each case's deprovisioning ticket truthful: it renders what to say
// (the plan, each system's outcome, the final table of verified results, the evidence, what a
// human must do) as a Doc, and a Tracker (Jira, in jira/) writes it.
package ticket

import "context"

// Tracker writes to a ticket system. Every method is safe to retry: a failed call changed
// nothing the next call depends on, and callers retry with backoff.
type Tracker interface {
	// Create opens a ticket and returns its key (e.g. "SEC-42").
	Create(ctx context.Context, t NewTicket) (key string, err error)
	// Comment adds a comment.
	Comment(ctx context.Context, key string, body Doc) error
	// Attach uploads a file.
	Attach(ctx context.Context, key, filename string, data []byte) error
	// Label adds and removes labels.
	Label(ctx context.Context, key string, add, remove []string) error
	// Transition moves the ticket through the named transition (e.g. "Done"). Already being
	// in the transition's target status is success.
	Transition(ctx context.Context, key, name string) error
}

// NewTicket is what a ticket opens with.
type NewTicket struct {
	Summary     string
	Description Doc
	Labels      []string
	// Ref identifies the ticket uniquely (e.g. "offboard-case-42"). A tracker that can look
	// tickets up by it returns the ticket already opened with the same Ref and Summary instead
	// of opening a second one, so a Create retried after a lost reply or a crash does not
	// duplicate the ticket. Empty means no such lookup.
	Ref string `json:",omitempty"`
}

// Doc is rich text as a list of blocks, which each tracker renders in its own format (Jira's
// Atlassian Document Format, for one).
type Doc struct {
	Blocks []Block `json:"blocks"`
}

// Block is one paragraph, heading, bullet list or table. Exactly one field is set.
type Block struct {
	Heading   string   `json:"heading,omitempty"`
	Paragraph string   `json:"paragraph,omitempty"`
	Bullets   []string `json:"bullets,omitempty"`
	Table     *Table   `json:"table,omitempty"`
}

// Table is a table with a header row.
type Table struct {
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// Text returns the doc as plain text, for logs, the CLI and tests.
func (d Doc) Text() string {
	var out []byte
	for _, b := range d.Blocks {
		switch {
		case b.Heading != "":
			out = append(out, "## "+b.Heading+"\n"...)
		case b.Paragraph != "":
			out = append(out, b.Paragraph+"\n"...)
		case b.Bullets != nil:
			for _, s := range b.Bullets {
				out = append(out, "- "+s+"\n"...)
			}
		case b.Table != nil:
			out = append(out, joinRow(b.Table.Header)...)
			for _, r := range b.Table.Rows {
				out = append(out, joinRow(r)...)
			}
		}
	}
	return string(out)
}

func joinRow(cells []string) string {
	s := "|"
	for _, c := range cells {
		s += " " + c + " |"
	}
	return s + "\n"
}

package jira

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/offboard-dev/offboard/internal/ticket"
)

// Jira Cloud's v3 API takes rich text only as Atlassian Document Format (ADF); a plain string is
// refused with 400. ADF forbids empty text nodes, and Jira refuses a rich-text field over 32,767
// characters, so the conversion never emits empty text, and long documents are split into
// parts that each fit (counted on the ADF JSON, the strictest reading of the limit).

// maxField is Jira's limit on a rich-text field; budget leaves room below it for the part
// marker and the JSON around the document.
const (
	maxField = 32767
	budget   = 30000
)

// node is one ADF node.
type node struct {
	Type    string         `json:"type"`
	Version int            `json:"version,omitempty"`
	Text    string         `json:"text,omitempty"`
	Attrs   map[string]any `json:"attrs,omitempty"`
	Content []node         `json:"content,omitempty"`
}

// toADF converts a ticket.Doc to an ADF document. A doc with nothing in it becomes one
// paragraph with a dash, as an ADF document needs content.
func toADF(d ticket.Doc) node {
	doc := node{Type: "doc", Version: 1}
	for _, b := range d.Blocks {
		doc.Content = append(doc.Content, blockNodes(b)...)
	}
	if len(doc.Content) == 0 {
		doc.Content = []node{paragraph("-")}
	}
	return doc
}

// blockNodes converts one block; a block with nothing set converts to nothing.
func blockNodes(b ticket.Block) []node {
	switch {
	case b.Heading != "":
		return []node{{Type: "heading", Attrs: map[string]any{"level": 3}, Content: inline(b.Heading)}}
	case b.Paragraph != "":
		return []node{paragraph(b.Paragraph)}
	case len(b.Bullets) > 0:
		list := node{Type: "bulletList"}
		for _, item := range b.Bullets {
			list.Content = append(list.Content, listItem(item))
		}
		return []node{list}
	case b.Table != nil && (len(b.Table.Header) > 0 || len(b.Table.Rows) > 0):
		return []node{table(b.Table.Header, b.Table.Rows)}
	}
	return nil
}

func listItem(s string) node { return node{Type: "listItem", Content: []node{paragraph(s)}} }

func table(header []string, rows [][]string) node {
	width := len(header)
	for _, r := range rows {
		width = max(width, len(r))
	}
	t := node{Type: "table", Attrs: map[string]any{"isNumberColumnEnabled": false, "layout": "default"}}
	if len(header) > 0 {
		t.Content = append(t.Content, row("tableHeader", header, width))
	}
	for _, r := range rows {
		t.Content = append(t.Content, row("tableCell", r, width))
	}
	return t
}

// row converts a table row, padded to width cells: ADF tables are rectangular.
func row(cell string, cells []string, width int) node {
	r := node{Type: "tableRow"}
	for i := range width {
		c := ""
		if i < len(cells) {
			c = cells[i]
		}
		r.Content = append(r.Content, node{Type: cell, Content: []node{paragraph(c)}})
	}
	return r
}

func paragraph(s string) node { return node{Type: "paragraph", Content: inline(s)} }

// inline converts text to text nodes, with a hardBreak for each line break. Control characters
// other than line breaks and tabs are dropped, and empty text becomes a dash.
func inline(s string) []node {
	s = strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if r < 0x20 && r != '\n' || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ReplaceAll(s, "\r\n", "\n"))
	var out []node
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			out = append(out, node{Type: "hardBreak"})
		}
		if line != "" {
			out = append(out, node{Type: "text", Text: line})
		}
	}
	if len(out) == 0 || allBreaks(out) {
		return []node{{Type: "text", Text: "-"}}
	}
	return out
}

func allBreaks(ns []node) bool {
	for _, n := range ns {
		if n.Type != "hardBreak" {
			return false
		}
	}
	return true
}

// size is the length of v's JSON.
func size(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return len(b)
}

// docOverhead is the JSON around a document's content: {"type":"doc","version":1,"content":[]}.
var docOverhead = size(node{Type: "doc", Version: 1}) + len(contentKey)

// split breaks d into documents whose ADF each fits in limit bytes of JSON. Blocks are kept
// whole where they fit; a table or list that does not fit in what is left of a part fills it
// and continues in the next (a table repeating its header); a single text, list item or table
// row too long for any part is cut short and says so.
func split(d ticket.Doc, limit int) []ticket.Doc {
	var parts []ticket.Doc
	var cur ticket.Doc
	used := docOverhead
	flush := func() {
		parts = append(parts, cur)
		cur, used = ticket.Doc{}, docOverhead
	}
	for _, b := range d.Blocks {
		if len(blockNodes(b)) == 0 {
			continue
		}
		rest, shrunk := b, false
		for {
			if head, tail, n, done, ok := take(rest, limit-used); ok {
				cur.Blocks = append(cur.Blocks, head)
				used += n
				if done {
					break
				}
				flush()
				rest, shrunk = tail, false
				continue
			}
			if len(cur.Blocks) > 0 {
				flush()
				continue
			}
			if shrunk {
				// Only a table of very many columns gets here.
				rest = ticket.Block{Paragraph: "(A table row too large for a Jira comment was left out; offboard holds the full record.)"}
				continue
			}
			rest, shrunk = shrink(rest, limit-docOverhead), true
		}
	}
	if len(cur.Blocks) > 0 || len(parts) == 0 {
		parts = append(parts, cur)
	}
	return parts
}

// take returns the leading part of b whose JSON (with a separating comma) fits in room: all
// of b (done), or for a table or list its first rows or items and the rest. n is the size
// counted for the head, never less than its JSON. ok is false when nothing fits; text is
// never divided here.
func take(b ticket.Block, room int) (head, tail ticket.Block, n int, done, ok bool) {
	switch {
	case len(b.Bullets) > 0:
		used := size(node{Type: "bulletList"}) + len(contentKey) + 1
		k := 0
		for ; k < len(b.Bullets); k++ {
			item := size(listItem(b.Bullets[k])) + 1
			if used+item > room {
				break
			}
			used += item
		}
		if k == 0 {
			return b, b, 0, false, false
		}
		return ticket.Block{Bullets: b.Bullets[:k]}, ticket.Block{Bullets: b.Bullets[k:]}, used, k == len(b.Bullets), true
	case b.Table != nil:
		// Counted at the widest row's width, to which the table's rows (header included)
		// may be padded.
		width := tableWidth(b.Table)
		header := b.Table.Header
		if len(header) > 0 {
			header = append(slices.Clone(header), make([]string, width-len(header))...)
		}
		used := size(table(header, nil)) + len(contentKey) + 1
		k := 0
		for ; k < len(b.Table.Rows); k++ {
			r := size(row("tableCell", b.Table.Rows[k], width)) + 1
			if used+r > room {
				break
			}
			used += r
		}
		if k == 0 && (len(b.Table.Rows) > 0 || used > room) {
			return b, b, 0, false, false
		}
		return ticket.Block{Table: &ticket.Table{Header: b.Table.Header, Rows: b.Table.Rows[:k]}},
			ticket.Block{Table: &ticket.Table{Header: b.Table.Header, Rows: b.Table.Rows[k:]}}, used, k == len(b.Table.Rows), true
	}
	n = size(blockNodes(b)) - 1 // the array's brackets, less one for the comma
	if n > room {
		return b, b, 0, false, false
	}
	return b, b, n, true, true
}

// shrink cuts short the first unit of b (its text, first list item, or header and first
// table row) so that it fits alone in limit bytes of JSON.
func shrink(b ticket.Block, limit int) ticket.Block {
	switch {
	case b.Heading != "":
		return ticket.Block{Heading: clip(b.Heading, limit)}
	case b.Paragraph != "":
		return ticket.Block{Paragraph: clip(b.Paragraph, limit)}
	case len(b.Bullets) > 0:
		items := slices.Clone(b.Bullets)
		items[0] = clip(items[0], limit-size(node{Type: "bulletList"})-len(contentKey))
		return ticket.Block{Bullets: items}
	case b.Table != nil && len(b.Table.Rows) > 0:
		rows := slices.Clone(b.Table.Rows)
		rows[0] = clipAll(rows[0], limit/3)
		return ticket.Block{Table: &ticket.Table{Header: clipAll(b.Table.Header, limit/3), Rows: rows}}
	case b.Table != nil:
		return ticket.Block{Table: &ticket.Table{Header: clipAll(b.Table.Header, limit/2)}}
	}
	return b
}

func tableWidth(t *ticket.Table) int {
	w := len(t.Header)
	for _, r := range t.Rows {
		w = max(w, len(r))
	}
	return w
}

// contentKey is what a node's JSON gains when its first child arrives (the empty content
// list is omitted).
const contentKey = `,"content":[]`

const clipped = " … (cut short to fit Jira's size limit)"

// clip shortens s so that its ADF fits in limit bytes of JSON. JSON escaping at most doubles
// a character's bytes here (control characters are dropped), so half the limit, less room
// for the surrounding nodes, always fits.
func clip(s string, limit int) string {
	keep := max((limit-200)/2-len(clipped), 16)
	if len(s) <= keep {
		return s
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + clipped
}

// clipAll shortens each cell to share limit.
func clipAll(cells []string, limit int) []string {
	out := make([]string, len(cells))
	each := limit / max(len(cells), 1)
	for i, c := range cells {
		out[i] = clip(c, each)
	}
	return out
}

package jira

import "github.com/offboard-dev/offboard/internal/ticket"

// node is one Atlassian Document Format node. Jira Cloud's v3 API requires ADF for
// descriptions and comment bodies; a plain string is refused with 400.
type node struct {
	Type    string         `json:"type"`
	Version int            `json:"version,omitempty"`
	Text    string         `json:"text,omitempty"`
	Attrs   map[string]any `json:"attrs,omitempty"`
	Content []node         `json:"content,omitempty"`
}

// toADF converts a ticket.Doc to an ADF document. Empty text is replaced by a dash, because
// ADF refuses empty text nodes.
func toADF(d ticket.Doc) node {
	doc := node{Type: "doc", Version: 1}
	for _, b := range d.Blocks {
		switch {
		case b.Heading != "":
			doc.Content = append(doc.Content, node{Type: "heading", Attrs: map[string]any{"level": 3}, Content: []node{text(b.Heading)}})
		case b.Paragraph != "":
			doc.Content = append(doc.Content, paragraph(b.Paragraph))
		case b.Bullets != nil:
			list := node{Type: "bulletList"}
			for _, item := range b.Bullets {
				list.Content = append(list.Content, node{Type: "listItem", Content: []node{paragraph(item)}})
			}
			if len(list.Content) > 0 {
				doc.Content = append(doc.Content, list)
			}
		case b.Table != nil:
			table := node{Type: "table", Content: []node{row("tableHeader", b.Table.Header)}}
			for _, r := range b.Table.Rows {
				table.Content = append(table.Content, row("tableCell", r))
			}
			doc.Content = append(doc.Content, table)
		}
	}
	if len(doc.Content) == 0 {
		doc.Content = []node{paragraph("-")}
	}
	return doc
}

func text(s string) node {
	if s == "" {
		s = "-"
	}
	return node{Type: "text", Text: s}
}

func paragraph(s string) node { return node{Type: "paragraph", Content: []node{text(s)}} }

func row(cell string, cells []string) node {
	r := node{Type: "tableRow"}
	for _, c := range cells {
		r.Content = append(r.Content, node{Type: cell, Content: []node{paragraph(c)}})
	}
	return r
}

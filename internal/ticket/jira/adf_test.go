package jira

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/offboard-dev/offboard/internal/ticket"
)

// walk calls fn on n and every node under it.
func walk(n node, fn func(node)) {
	fn(n)
	for _, c := range n.Content {
		walk(c, fn)
	}
}

// noEmptyText fails when any text node is empty: Jira refuses such a document.
func noEmptyText(t *testing.T, n node) {
	t.Helper()
	walk(n, func(x node) {
		if x.Type == "text" && x.Text == "" {
			t.Errorf("empty text node in %s", mustJSON(n))
		}
		if x.Type == "paragraph" && len(x.Content) == 0 {
			t.Errorf("paragraph with no text in %s", mustJSON(n))
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestToADF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  ticket.Doc
		want string
	}{
		{"heading", ticket.Doc{Blocks: []ticket.Block{{Heading: "Plan"}}},
			`{"type":"doc","version":1,"content":[{"type":"heading","attrs":{"level":3},"content":[{"type":"text","text":"Plan"}]}]}`},
		{"paragraph with a line break", ticket.Doc{Blocks: []ticket.Block{{Paragraph: "a\r\nb"}}},
			`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"text","text":"b"}]}]}`},
		{"bullets, one empty", ticket.Doc{Blocks: []ticket.Block{{Bullets: []string{"x", ""}}}},
			`{"type":"doc","version":1,"content":[{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"x"}]}]},{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"-"}]}]}]}]}`},
		{"table with header and a short row", ticket.Doc{Blocks: []ticket.Block{{Table: &ticket.Table{Header: []string{"A", "B"}, Rows: [][]string{{"1"}}}}}},
			`{"type":"doc","version":1,"content":[{"type":"table","attrs":{"isNumberColumnEnabled":false,"layout":"default"},"content":[` +
				`{"type":"tableRow","content":[{"type":"tableHeader","content":[{"type":"paragraph","content":[{"type":"text","text":"A"}]}]},{"type":"tableHeader","content":[{"type":"paragraph","content":[{"type":"text","text":"B"}]}]}]},` +
				`{"type":"tableRow","content":[{"type":"tableCell","content":[{"type":"paragraph","content":[{"type":"text","text":"1"}]}]},{"type":"tableCell","content":[{"type":"paragraph","content":[{"type":"text","text":"-"}]}]}]}]}]}`},
		{"nothing at all", ticket.Doc{},
			`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"-"}]}]}`},
		{"blocks with nothing set are dropped", ticket.Doc{Blocks: []ticket.Block{{}, {Bullets: []string{}}, {Table: &ticket.Table{}}, {Paragraph: "kept"}}},
			`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"kept"}]}]}`},
		{"control characters dropped, tabs become spaces", ticket.Doc{Blocks: []ticket.Block{{Paragraph: "a\x00b\tc\x1b"}}},
			`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"ab c"}]}]}`},
		{"only line breaks", ticket.Doc{Blocks: []ticket.Block{{Paragraph: "\n\n"}}},
			`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"-"}]}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := toADF(tc.doc)
			if s := mustJSON(got); s != tc.want {
				t.Errorf("got  %s\nwant %s", s, tc.want)
			}
			noEmptyText(t, got)
		})
	}
}

// randomDoc builds a document from awkward pieces: empty strings, line breaks, control
// characters, multi-byte text and very long strings.
func randomDoc(r *rand.Rand) ticket.Doc {
	pieces := []string{"", " ", "\n", "a\nb", "\x00", "Jane Doe <jane@acme.com>", "groupe d'ingénierie ✓", "\r\n\r\n", "okta: HTTP 403 E0000006"}
	long := []string{strings.Repeat("é", 20000), strings.Repeat("x\"\\", 9000)}
	text := func() string {
		var b strings.Builder
		for range r.IntN(3) + 1 {
			if r.IntN(60) == 0 {
				b.WriteString(long[r.IntN(len(long))])
				continue
			}
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	var d ticket.Doc
	for range r.IntN(8) + 1 {
		switch r.IntN(4) {
		case 0:
			d.Blocks = append(d.Blocks, ticket.Block{Heading: text()})
		case 1:
			d.Blocks = append(d.Blocks, ticket.Block{Paragraph: text()})
		case 2:
			var items []string
			for range r.IntN(40) {
				items = append(items, text())
			}
			d.Blocks = append(d.Blocks, ticket.Block{Bullets: items})
		case 3:
			tb := &ticket.Table{Header: []string{text(), text(), text()}}
			for range r.IntN(250) {
				// Now and then a row wider or narrower than the header.
				cells := []string{text(), text(), text()}
				switch r.IntN(10) {
				case 0:
					cells = cells[:1]
				case 1:
					cells = append(cells, text(), text())
				}
				tb.Rows = append(tb.Rows, cells)
			}
			d.Blocks = append(d.Blocks, ticket.Block{Table: tb})
		}
	}
	return d
}

// TestSplitKeepsEveryPartWithinJirasLimit checks, over many awkward documents, that each part
// fits the budget, has no empty text, and that nothing short enough to fit was lost or
// reordered.
func TestSplitKeepsEveryPartWithinJirasLimit(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	multi, cut := 0, 0
	for i := range 50 {
		d := randomDoc(r)
		parts := split(d, budget)
		if len(parts) > 1 {
			multi++
		}
		var rows, items, gotRows, gotItems int
		for _, b := range d.Blocks {
			if b.Table != nil {
				rows += len(b.Table.Rows)
			}
			items += len(b.Bullets)
		}
		for j, p := range parts {
			n := toADF(p)
			if s := size(n); s > budget {
				t.Fatalf("doc %d part %d is %d bytes, over the %d budget", i, j, s, budget)
			}
			noEmptyText(t, n)
			if strings.Contains(mustJSON(n), clipped) {
				cut++
			}
			for _, b := range p.Blocks {
				if b.Table != nil {
					gotRows += len(b.Table.Rows)
				}
				gotItems += len(b.Bullets)
			}
		}
		if rows != gotRows || items != gotItems {
			t.Fatalf("doc %d: %d rows and %d items became %d and %d", i, rows, items, gotRows, gotItems)
		}
	}
	if multi < 10 || cut < 3 {
		t.Fatalf("only %d documents were split and %d parts cut short; the generator no longer tests splitting", multi, cut)
	}
}

func TestSplitRepeatsTheTableHeaderAndKeepsOrder(t *testing.T) {
	t.Parallel()
	tb := &ticket.Table{Header: []string{"System", "Action"}}
	for i := range 2000 {
		tb.Rows = append(tb.Rows, []string{"okta", fmt.Sprintf("row %04d", i)})
	}
	parts := split(ticket.Doc{Blocks: []ticket.Block{{Heading: "Final"}, {Table: tb}, {Paragraph: "end"}}}, budget)
	if len(parts) < 3 {
		t.Fatalf("%d parts for a table of 2000 rows", len(parts))
	}
	if parts[0].Blocks[0].Heading != "Final" || parts[len(parts)-1].Blocks[len(parts[len(parts)-1].Blocks)-1].Paragraph != "end" {
		t.Fatal("the blocks around the table moved")
	}
	next := 0
	for _, p := range parts {
		for _, b := range p.Blocks {
			if b.Table == nil {
				continue
			}
			if strings.Join(b.Table.Header, ",") != "System,Action" {
				t.Fatalf("a part's table lacks the header: %v", b.Table.Header)
			}
			for _, row := range b.Table.Rows {
				if row[1] != fmt.Sprintf("row %04d", next) {
					t.Fatalf("row %q where row %04d was due", row[1], next)
				}
				next++
			}
		}
	}
	if next != 2000 {
		t.Fatalf("%d rows after splitting", next)
	}
}

func TestSplitCutsATextTooLongForAnyPart(t *testing.T) {
	t.Parallel()
	parts := split(ticket.Doc{Blocks: []ticket.Block{{Paragraph: strings.Repeat("ü", 40000)}}}, budget)
	if len(parts) != 1 || !strings.HasSuffix(parts[0].Blocks[0].Paragraph, clipped) {
		t.Fatalf("%d parts", len(parts))
	}
	if p := parts[0].Blocks[0].Paragraph; !strings.HasPrefix(p, "üü") || !strings.Contains(p, "ü"+clipped) {
		t.Fatal("the cut split a character or lost the start")
	}
}

func TestCleanSummary(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Deprovisioning: Jane Doe <jane@acme.com>": "Deprovisioning: Jane Doe <jane@acme.com>",
		"Deprovisioning: Jane\nDoe":                "Deprovisioning: Jane Doe",
		strings.Repeat("a", 300):                   strings.Repeat("a", 254) + "…",
	} {
		if got := cleanSummary(in); got != want {
			t.Errorf("cleanSummary(%.30q) = %.30q…", in, got)
		}
	}
}

func TestDecodeError(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"errorMessages":["Issue does not exist"],"errors":{}}`:                                     "Issue does not exist",
		`{"errorMessages":[],"errors":{"summary":"required","project":"valid project is required"}}`: "project: valid project is required; summary: required",
		"XSRF check failed":              "XSRF check failed",
		"<html><body>Oops</body></html>": "",
	} {
		if _, got := decodeError(400, []byte(body)); got != want {
			t.Errorf("decodeError(%q) = %q, want %q", body, got, want)
		}
	}
}

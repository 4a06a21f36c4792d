package jirasim

import (
	"encoding/json"
	"strings"
)

// Jira's v3 API takes rich text (issue description, comment body) only as an Atlassian
// Document Format document: {"type":"doc","version":1,"content":[...]} [S]. The simulator
// checks the structure offboard can produce and Jira enforces — list and table nesting, heading
// levels, and that no text node is empty — and keeps the plain text for read-back.

// refusal is a message Jira sends back, worded as Jira words it (capitalised, punctuated).
type refusal string

func (r refusal) Error() string { return string(r) }

const (
	errNotADF refusal = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
	// errInvalidADF is Jira's terse answer to a document whose nodes break the schema [R].
	errInvalidADF refusal = "INVALID_INPUT"
)

type adfNode struct {
	Type    string          `json:"type"`
	Version int             `json:"version"`
	Text    *string         `json:"text"`
	Attrs   json.RawMessage `json:"attrs"`
	Content []adfNode       `json:"content"`
}

// blockTypes are the block nodes allowed in a document, a list item or a table cell.
var blockTypes = map[string]bool{
	"paragraph": true, "heading": true, "bulletList": true, "orderedList": true, "table": true,
	"codeBlock": true, "blockquote": true, "rule": true, "panel": true,
}

// inlineTypes are the nodes allowed in a paragraph or heading.
var inlineTypes = map[string]bool{"text": true, "hardBreak": true, "mention": true, "emoji": true, "inlineCard": true}

// adfText checks that raw is an ADF document and returns its plain text.
func adfText(raw json.RawMessage) (string, error) {
	var doc adfNode
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &doc) != nil || doc.Type != "doc" || doc.Version != 1 {
		return "", errNotADF
	}
	var b strings.Builder
	for _, n := range doc.Content {
		if !blockTypes[n.Type] {
			return "", errInvalidADF
		}
		if err := render(&b, n); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// render checks n and its children and writes their text.
func render(b *strings.Builder, n adfNode) error {
	children := func(allowed func(string) bool, atLeastOne bool) error {
		if atLeastOne && len(n.Content) == 0 {
			return errInvalidADF
		}
		for _, c := range n.Content {
			if !allowed(c.Type) {
				return errInvalidADF
			}
			if err := render(b, c); err != nil {
				return err
			}
		}
		return nil
	}
	isBlock := func(t string) bool { return blockTypes[t] }
	switch n.Type {
	case "text":
		if n.Text == nil || *n.Text == "" || len(n.Content) > 0 {
			return errInvalidADF // ADF forbids empty text nodes
		}
		b.WriteString(*n.Text)
	case "hardBreak":
		b.WriteString("\n")
	case "paragraph":
		if err := children(func(t string) bool { return inlineTypes[t] }, false); err != nil {
			return err
		}
		b.WriteString("\n")
	case "heading":
		var attrs struct {
			Level int `json:"level"`
		}
		if json.Unmarshal(n.Attrs, &attrs) != nil || attrs.Level < 1 || attrs.Level > 6 {
			return errInvalidADF
		}
		if err := children(func(t string) bool { return inlineTypes[t] }, false); err != nil {
			return err
		}
		b.WriteString("\n")
	case "bulletList", "orderedList":
		return children(func(t string) bool { return t == "listItem" }, true)
	case "listItem":
		b.WriteString("- ")
		return children(isBlock, true)
	case "table":
		return children(func(t string) bool { return t == "tableRow" }, true)
	case "tableRow":
		b.WriteString("|")
		if err := children(func(t string) bool { return t == "tableHeader" || t == "tableCell" }, true); err != nil {
			return err
		}
		b.WriteString("\n")
	case "tableHeader", "tableCell":
		var cell strings.Builder
		for _, c := range n.Content {
			if !blockTypes[c.Type] {
				return errInvalidADF
			}
			if err := render(&cell, c); err != nil {
				return err
			}
		}
		if len(n.Content) == 0 {
			return errInvalidADF
		}
		b.WriteString(" " + strings.TrimSpace(strings.ReplaceAll(cell.String(), "\n", " ")) + " |")
		return nil
	case "codeBlock", "blockquote", "panel":
		return children(func(t string) bool { return inlineTypes[t] || blockTypes[t] }, false)
	case "rule", "mention", "emoji", "inlineCard":
	default:
		return errInvalidADF
	}
	return nil
}

package hr

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

type csvColumn struct {
	name     string
	optional bool
}

// csvColumns are the columns a CSV may have; the ones marked optional may be left out of
// the header altogether.
var csvColumns = []csvColumn{
	{"event_id", true},
	{"type", true},
	{"worker_id", false},
	{"email", false},
	{"name", false},
	{"manager_email", false},
	{"effective_at", false},
	{"reason", false},
	{"involuntary", false},
}

// handleColumn prefixes the columns giving a person's handle in one system, e.g.
// "handle.github".
const handleColumn = "handle."

// RowError is one bad line of a CSV (line 1 is the header) and everything wrong with it.
type RowError struct {
	Line     int
	Problems []string
}

func (e RowError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, strings.Join(e.Problems, "; "))
}

// CSVError lists every bad line of a CSV. When ReadCSV returns one, it returned no events.
type CSVError struct {
	Rows []RowError
}

func (e *CSVError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "csv: %d bad line(s); nothing was read:", len(e.Rows))
	for _, r := range e.Rows {
		b.WriteString("\n  ")
		b.WriteString(r.Error())
	}
	return b.String()
}

// ReadCSV reads a file of many terminations (a layoff, a backfill) into events, all or nothing:
// if any row is bad it returns a *CSVError naming every bad row by line number and no events,
// so a fixed file can be imported again without half of it having gone through already.
//
// The header names the columns: worker_id, email, name, manager_email, effective_at, reason,
// involuntary, and optionally event_id and type; any other column is an error. effective_at is
// an RFC 3339 time, or a date YYYY-MM-DD meaning the end of that day in UTC (the next
// midnight); empty means at once (the start of today, UTC). involuntary is true/false, yes/no or 1/0 (empty is false); type
// is termination (the default) or rescission. Without an event_id, the ID is derived from the
// worker (worker_id, else email) and the effective date, so importing the same file twice
// opens nothing new. source becomes each event's Source and Actor ("csv:layoff-2026-11.csv").
func ReadCSV(r io.Reader, source string, now time.Time) ([]Event, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &CSVError{Rows: []RowError{{Line: 1, Problems: []string{"the file is empty; it needs a header row"}}}}
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return nil, fmt.Errorf("csv: read: %w", err)
		}
		return nil, &CSVError{Rows: []RowError{{Line: pe.StartLine, Problems: []string{csvParseProblem(err)}}}}
	}
	col, problems := csvHeader(header)
	if len(problems) > 0 {
		return nil, &CSVError{Rows: []RowError{{Line: 1, Problems: problems}}}
	}
	cr.FieldsPerRecord = len(header)

	var events []Event
	var bad []RowError
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fmt.Errorf("csv: read: %w", err)
			}
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				bad = append(bad, RowError{Line: pe.StartLine, Problems: []string{fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header))}})
				continue
			}
			// After a broken quote the reader's position is unreliable, so stop there.
			bad = append(bad, RowError{Line: pe.StartLine, Problems: []string{csvParseProblem(err)}})
			break
		}
		line, _ := cr.FieldPos(0)
		cell := func(name string) string {
			if i, ok := col[name]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		ev, problems := csvEvent(cell, source, now)
		for name := range col {
			if system, ok := strings.CutPrefix(name, handleColumn); ok && cell(name) != "" {
				if ev.Handles == nil {
					ev.Handles = map[string]string{}
				}
				ev.Handles[system] = cell(name)
			}
		}
		problems = append(problems, HandleProblems(ev.Handles)...)
		if ev.ID != "" {
			if first, dup := seen[ev.ID]; dup {
				problems = append(problems, fmt.Sprintf("event_id %q repeats line %d", ev.ID, first))
			} else {
				seen[ev.ID] = line
			}
		}
		if len(problems) > 0 {
			bad = append(bad, RowError{Line: line, Problems: problems})
			continue
		}
		events = append(events, ev)
	}
	if len(bad) > 0 {
		return nil, &CSVError{Rows: bad}
	}
	return events, nil
}

func csvParseProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "not valid CSV: " + pe.Err.Error()
	}
	return "not valid CSV: " + err.Error()
}

// csvHeader maps column names to positions, or says what is wrong with the header.
func csvHeader(header []string) (map[string]int, []string) {
	col := map[string]int{}
	var problems []string
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		known := slices.ContainsFunc(csvColumns, func(c csvColumn) bool { return c.name == name }) || strings.HasPrefix(name, handleColumn)
		switch {
		case !known:
			problems = append(problems, fmt.Sprintf("unknown column %q", strings.TrimSpace(h)))
		case hasKey(col, name):
			problems = append(problems, fmt.Sprintf("column %q appears twice", name))
		default:
			col[name] = i
		}
	}
	for _, c := range csvColumns {
		if !c.optional && !hasKey(col, c.name) {
			problems = append(problems, fmt.Sprintf("missing column %q", c.name))
		}
	}
	return col, problems
}

func hasKey(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

// csvEvent builds the event of one row and lists everything wrong with it.
func csvEvent(cell func(string) string, source string, now time.Time) (Event, []string) {
	var problems []string
	ev := Event{
		ID:       cell("event_id"),
		Source:   source,
		Actor:    source,
		Type:     Termination,
		WorkerID: cell("worker_id"),
		Email:    cell("email"),
		Name:     cell("name"),
		Manager:  cell("manager_email"),
		Reason:   cell("reason"),
	}
	if t := strings.ToLower(cell("type")); t != "" {
		ev.Type = Type(t)
	}
	switch v := strings.ToLower(cell("involuntary")); v {
	case "", "false", "no", "0":
	case "true", "yes", "1":
		ev.Involuntary = true
	default:
		problems = append(problems, fmt.Sprintf("involuntary %q must be true/false, yes/no or 1/0", cell("involuntary")))
	}
	day := now.UTC().Format(time.DateOnly)
	// Empty means at once. The start of today (UTC) rather than this instant keeps the event's
	// content the same when the same file is imported again the same day, so the re-import is
	// a duplicate, not a conflict.
	ev.EffectiveAt = now.UTC().Truncate(24 * time.Hour)
	if at := cell("effective_at"); at != "" {
		if d, err := time.Parse(time.DateOnly, at); err == nil {
			// A bare date is the person's last day: access ends when that day does.
			ev.EffectiveAt, day = d.AddDate(0, 0, 1), at
		} else if t, err := time.Parse(time.RFC3339, at); err == nil {
			ev.EffectiveAt, day = t, t.UTC().Format(time.DateOnly)
		} else {
			ev.EffectiveAt = time.Time{}
			problems = append(problems, fmt.Sprintf("effective_at %q is neither an RFC 3339 time nor a date YYYY-MM-DD", at))
		}
	}
	if ev.ID == "" {
		who := ev.WorkerID
		if who == "" {
			who = ev.Email
		}
		if who != "" {
			ev.ID = "csv:" + who + ":" + day
			if ev.Type == Rescission {
				ev.ID += ":rescinded"
			}
		}
	}
	for _, p := range ev.Problems() {
		if ev.EffectiveAt.IsZero() && strings.HasPrefix(p, "effective_at is required") {
			continue // reported above as unparseable
		}
		if ev.ID == "" && strings.HasPrefix(p, "event_id is required") {
			continue // follows from the missing worker, reported by Problems too
		}
		problems = append(problems, p)
	}
	return ev, problems
}

package workday

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/hr"
)

// decodeReport reads the RaaS JSON envelope. Numbers are kept as written (json.Number), so an
// Employee_ID such as 000123 or 1e5 is not turned into a float.
func decodeReport(body []byte) ([]map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top map[string]json.RawMessage
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, errors.New("the reply is not a JSON object; is the report enabled as a web service with format=json?")
	}
	raw, ok := top["Report_Entry"]
	if !ok {
		if len(top) == 0 {
			return nil, nil
		}
		return nil, errors.New(`the reply has no "Report_Entry"; is this a RaaS report?`)
	}
	var rows []map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&rows); err != nil {
		return nil, errors.New(`"Report_Entry" is not a list of objects`)
	}
	return rows, nil
}

// text returns a row's value for column as trimmed text. Workday sends scalars as strings, but
// a calculated field may arrive as a number or boolean; a multi-instance field (a list or an
// object) cannot be one value and is an error.
func text(row map[string]any, column string) (string, error) {
	if column == "" {
		return "", nil
	}
	switch v := row[column].(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	default:
		return "", fmt.Errorf("column %s holds several values; the report must give it one", column)
	}
}

// event turns one row into an event. The returned event carries the worker ID even on error,
// so the error can name the row.
func (p *Poller) event(row map[string]any) (hr.Event, error) {
	var problems []string
	get := func(column string) string {
		v, err := text(row, column)
		if err != nil {
			problems = append(problems, err.Error())
		}
		return v
	}
	f := p.fields
	ev := hr.Event{
		Source:   "workday",
		Actor:    "workday",
		Type:     hr.Termination,
		WorkerID: get(f.WorkerID),
		Email:    get(f.Email),
		Name:     get(f.Name),
		Manager:  get(f.ManagerEmail),
		Reason:   get(f.Reason),
	}
	for system, column := range f.Handles {
		if v := get(column); v != "" {
			if ev.Handles == nil {
				ev.Handles = map[string]string{}
			}
			ev.Handles[system] = v
		}
	}
	ev.Involuntary = truthy(get(f.Involuntary))
	rescinded := truthy(get(f.Rescinded))
	date := get(f.TerminationDate)
	if ev.WorkerID == "" {
		problems = append(problems, fmt.Sprintf("no worker ID (column %s)", f.WorkerID))
	}
	if date == "" {
		problems = append(problems, fmt.Sprintf("no termination date (column %s)", f.TerminationDate))
	} else if at, day, err := effectiveAt(date, ev.Involuntary, p.loc); err != nil {
		problems = append(problems, fmt.Sprintf("column %s: %v", f.TerminationDate, err))
	} else {
		ev.EffectiveAt = at
		ev.ID = "workday:" + ev.WorkerID + ":" + day
	}
	if rescinded {
		ev.Type = hr.Rescission
		ev.ID += ":rescinded"
	}
	if len(problems) == 0 {
		problems = ev.Problems()
	}
	if len(problems) > 0 {
		return ev, errors.New(strings.Join(problems, "; "))
	}
	return ev, nil
}

// truthy reads Workday's many spellings of a yes: "1", "true", "Yes", "Y", or a category
// naming involuntary termination ("Involuntary", "Terminate Employee > Involuntary > Misconduct").
// Anything else, "Voluntary" included, is no.
func truthy(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "1", "true", "yes", "y":
		return true
	}
	return strings.Contains(v, "involuntary")
}

// dateWithOffset matches Workday's date-with-offset form, 2026-11-30-08:00, 2026-11-30+05:30
// or 2026-11-30Z.
var dateWithOffset = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})$`)

// effectiveAt interprets a termination date and returns the moment access ends and the
// calendar date used in the event ID.
//
// The rule: a termination date names the person's last day, so a voluntary termination takes
// effect at the END of that day — the next midnight — in the row's own UTC offset when Workday
// sends one (2026-11-30-08:00), else in loc (the configured time zone, UTC by default). An
// involuntary termination takes effect at the START of that day, so on the day itself it is
// immediate and the person does not keep access through a day they were dismissed on. A full
// timestamp (RFC 3339, or a date-time without an offset, read in loc) is taken as the exact
// moment, whichever kind the termination is.
func effectiveAt(v string, involuntary bool, loc *time.Location) (time.Time, string, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, v[:10], nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", v, loc); err == nil {
		return t, v[:10], nil
	}
	day, zone := v, loc
	if m := dateWithOffset.FindStringSubmatch(v); m != nil {
		day = m[1]
		off, err := parseOffset(m[2])
		if err != nil {
			return time.Time{}, "", err
		}
		zone = time.FixedZone(m[2], off)
	}
	d, err := time.ParseInLocation(time.DateOnly, day, zone)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%q is not a date (2026-11-30), a date with offset (2026-11-30-08:00) or an RFC 3339 time", v)
	}
	if involuntary {
		return d, day, nil
	}
	// Day+1 on the calendar (not +24h), so a day with a daylight-saving change still ends at
	// the following midnight.
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, zone), day, nil
}

func parseOffset(s string) (int, error) {
	if s == "Z" {
		return 0, nil
	}
	h, err1 := strconv.Atoi(s[1:3])
	m, err2 := strconv.Atoi(s[4:6])
	if err1 != nil || err2 != nil || h > 14 || m > 59 {
		return 0, fmt.Errorf("%q has a bad UTC offset", s)
	}
	secs := h*3600 + m*60
	if s[0] == '-' {
		secs = -secs
	}
	return secs, nil
}

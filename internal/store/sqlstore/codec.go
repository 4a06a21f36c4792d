package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"
)

// timeLayout is how SQLite keeps times: UTC, always six fractional digits, so that text order is
// time order and every value reads back to exactly the time.Time that was written.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// normTime is a time as both databases keep it: UTC at microsecond precision. Audit hashes
// cover record times, so what is written must be what is read back.
func normTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// timeCol scans a NOT NULL time column stored either natively or as timeLayout text.
type timeCol struct{ dst *time.Time }

func (c timeCol) Scan(src any) error {
	t, ok, err := parseTime(src)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("time column is NULL")
	}
	*c.dst = t
	return nil
}

// nullTimeCol scans a nullable time column into a *time.Time (nil for NULL).
type nullTimeCol struct{ dst **time.Time }

func (c nullTimeCol) Scan(src any) error {
	t, ok, err := parseTime(src)
	if err != nil {
		return err
	}
	if !ok {
		*c.dst = nil
		return nil
	}
	*c.dst = &t
	return nil
}

func parseTime(src any) (time.Time, bool, error) {
	switch v := src.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return normTime(v), true, nil
	case string:
		t, err := time.Parse(timeLayout, v)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("parse stored time %q: %w", v, err)
		}
		return t, true, nil
	case []byte:
		return parseTime(string(v))
	default:
		return time.Time{}, false, fmt.Errorf("cannot read a time from %T", src)
	}
}

// bytesCol scans a nullable TEXT column holding JSON into bytes, exactly as stored (nil for
// NULL), whatever form the driver returns text in.
type bytesCol struct{ dst *[]byte }

func (c bytesCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.dst = nil
	case string:
		*c.dst = []byte(v)
	case []byte:
		*c.dst = append([]byte(nil), v...)
	default:
		return fmt.Errorf("cannot read text from %T", src)
	}
	return nil
}

// rawArg is how raw JSON is stored: as text, byte for byte, or NULL when empty.
func rawArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// jsonArg encodes v for a JSON text column.
func jsonArg(what string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", what, err)
	}
	return string(b), nil
}

// decodeJSON decodes a stored JSON column, naming the column and row in the error.
func decodeJSON(what string, id int64, b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s of %d: %w", what, id, err)
	}
	return nil
}

package workday

import (
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests use named zones whatever the machine has installed

	"github.com/offboard-dev/offboard/internal/hr"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestEffectiveAt(t *testing.T) {
	t.Parallel()
	la := mustZone(t, "America/Los_Angeles")
	tests := []struct {
		name        string
		value       string
		involuntary bool
		loc         *time.Location
		want        time.Time
		day         string
	}{
		{"date, voluntary: end of day UTC", "2026-11-30", false, time.UTC, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "2026-11-30"},
		{"date, involuntary: start of day UTC", "2026-11-30", true, time.UTC, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), "2026-11-30"},
		{"date in the configured zone", "2026-11-30", false, la, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), "2026-11-30"},
		{"involuntary in the configured zone", "2026-11-30", true, la, time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), "2026-11-30"},
		{"date with negative offset beats the zone", "2026-11-30-08:00", false, mustZone(t, "Asia/Tokyo"), time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), "2026-11-30"},
		{"date with positive offset", "2026-11-30+05:30", false, time.UTC, time.Date(2026, 11, 30, 18, 30, 0, 0, time.UTC), "2026-11-30"},
		{"date with Z", "2026-11-30Z", true, la, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), "2026-11-30"},
		{"RFC 3339 is exact, voluntary", "2026-11-30T17:00:00-08:00", false, time.UTC, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), "2026-11-30"},
		{"RFC 3339 is exact, involuntary", "2026-11-30T17:00:00.000-08:00", true, time.UTC, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), "2026-11-30"},
		{"date-time without offset is read in the zone", "2026-11-30T17:00:00", false, la, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), "2026-11-30"},
		// 2026-11-01 is the day US clocks fall back: it is 25 hours long in Los Angeles.
		{"a 25-hour day still ends at midnight", "2026-11-01", false, la, time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC), "2026-11-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, day, err := effectiveAt(tc.value, tc.involuntary, tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) || day != tc.day {
				t.Fatalf("effectiveAt(%q) = %s, %s; want %s, %s", tc.value, got.UTC(), day, tc.want, tc.day)
			}
		})
	}
	for _, bad := range []string{"30/11/2026", "2026-13-01", "2026-11-30-25:00", "2026-11-30 -08:00", "tomorrow"} {
		if _, _, err := effectiveAt(bad, false, time.UTC); err == nil {
			t.Errorf("effectiveAt(%q) accepted a bad date", bad)
		}
	}
}

func TestTruthy(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"1", "true", "TRUE", "Yes", "y", "Involuntary", " involuntary ", "Terminate Employee > Involuntary > Misconduct"} {
		if !truthy(v) {
			t.Errorf("truthy(%q) = false", v)
		}
	}
	for _, v := range []string{"", "0", "false", "No", "Voluntary", "Terminate Employee > Voluntary > Resignation", "maybe"} {
		if truthy(v) {
			t.Errorf("truthy(%q) = true", v)
		}
	}
}

func TestRowToEvent(t *testing.T) {
	t.Parallel()
	custom := Fields{WorkerID: "Emp_Num", Email: "Mail", Name: "Legal_Name", ManagerEmail: "Mgr", TerminationDate: "Last_Day",
		Involuntary: "Termination_Category", Rescinded: "Is_Rescinded", Reason: "Primary_Reason"}
	tests := []struct {
		name    string
		fields  Fields
		row     string
		want    hr.Event
		wantErr []string
	}{
		{name: "default columns", row: `{"Employee_ID":"21001","Work_Email":"ann@acme.test","Worker":"Ann Lee","Manager_Email":"bo@acme.test","Termination_Date":"2026-11-30-08:00"}`,
			want: hr.Event{ID: "workday:21001:2026-11-30", Type: hr.Termination, WorkerID: "21001", Email: "ann@acme.test", Name: "Ann Lee",
				Manager: "bo@acme.test", EffectiveAt: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}},
		{name: "custom columns, involuntary category", fields: custom,
			row: `{"Emp_Num":"E-9","Mail":"cy@acme.test","Legal_Name":"Cy","Last_Day":"2026-11-30","Termination_Category":"Terminate Employee > Involuntary > Misconduct","Primary_Reason":"Misconduct"}`,
			want: hr.Event{ID: "workday:E-9:2026-11-30", Type: hr.Termination, WorkerID: "E-9", Email: "cy@acme.test", Name: "Cy",
				EffectiveAt: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Reason: "Misconduct", Involuntary: true}},
		{name: "handle columns", fields: Fields{Handles: map[string]string{"github": "GitHub_Username", "aws": "AWS_User"}},
			row: `{"Employee_ID":"21002","Work_Email":"di@acme.test","Termination_Date":"2026-11-30","GitHub_Username":"di-dev","AWS_User":""}`,
			want: hr.Event{ID: "workday:21002:2026-11-30", Type: hr.Termination, WorkerID: "21002", Email: "di@acme.test",
				EffectiveAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Handles: map[string]string{"github": "di-dev"}}},
		{name: "rescinded row", fields: custom, row: `{"Emp_Num":"E-9","Last_Day":"2026-11-30","Is_Rescinded":"1"}`,
			want: hr.Event{ID: "workday:E-9:2026-11-30:rescinded", Type: hr.Rescission, WorkerID: "E-9",
				EffectiveAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "not rescinded", fields: custom, row: `{"Emp_Num":"E-9","Last_Day":"2026-11-30","Is_Rescinded":"0"}`,
			want: hr.Event{ID: "workday:E-9:2026-11-30", Type: hr.Termination, WorkerID: "E-9",
				EffectiveAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "numeric worker ID kept as written, boolean flag", row: `{"Employee_ID":1e3,"Termination_Date":"2026-11-30","Involuntary":true}`,
			want: hr.Event{ID: "workday:1e3:2026-11-30", Type: hr.Termination, WorkerID: "1e3",
				EffectiveAt: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Involuntary: true}},
		{name: "missing worker ID", row: `{"Termination_Date":"2026-11-30"}`, wantErr: []string{"no worker ID (column Employee_ID)"}},
		{name: "missing date", row: `{"Employee_ID":"1"}`, wantErr: []string{"no termination date (column Termination_Date)"}},
		{name: "bad date", row: `{"Employee_ID":"1","Termination_Date":"11/30/2026"}`, wantErr: []string{`"11/30/2026" is not a date`}},
		{name: "bad email", row: `{"Employee_ID":"1","Termination_Date":"2026-11-30","Work_Email":"ann at acme"}`, wantErr: []string{`email "ann at acme"`}},
		{name: "multi-instance column", row: `{"Employee_ID":"1","Termination_Date":"2026-11-30","Manager_Email":[{"x":"a@b.test"}]}`,
			wantErr: []string{"column Manager_Email holds several values"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rows, err := decodeReport([]byte(`{"Report_Entry":[` + tc.row + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			p := New(Config{ReportURL: "https://wd.test/ccx/service/customreport2/t/o/r", Fields: tc.fields})
			ev, err := p.event(rows[0])
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("accepted a bad row: %+v", ev)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("err = %v, want %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Source, tc.want.Actor = "workday", "workday"
			if !ev.EffectiveAt.Equal(tc.want.EffectiveAt) {
				t.Errorf("EffectiveAt = %s, want %s", ev.EffectiveAt.UTC(), tc.want.EffectiveAt)
			}
			ev.EffectiveAt = tc.want.EffectiveAt
			if !reflect.DeepEqual(ev, tc.want) {
				t.Errorf("event:\n got %+v\nwant %+v", ev, tc.want)
			}
		})
	}
}

func TestDecodeReport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body    string
		rows    int
		wantErr string
	}{
		{`{"Report_Entry":[]}`, 0, ""},
		{`{}`, 0, ""},
		{`{"Report_Entry":[{"a":"1"},{"a":"2"}]}`, 2, ""},
		{`<wd:Report_Data/>`, 0, "not a JSON object"},
		{`{"Error":"x"}`, 0, `no "Report_Entry"`},
		{`{"Report_Entry":{"a":1}}`, 0, "not a list"},
	} {
		rows, err := decodeReport([]byte(tc.body))
		if tc.wantErr == "" && (err != nil || len(rows) != tc.rows) {
			t.Errorf("decodeReport(%s) = %d rows, %v", tc.body, len(rows), err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("decodeReport(%s) err = %v, want %q", tc.body, err, tc.wantErr)
		}
	}
}

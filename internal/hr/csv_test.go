package hr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var csvNow = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func TestReadCSVGoodFile(t *testing.T) {
	t.Parallel()
	in := "\ufeffWorker_ID, email ,name,manager_email,effective_at,reason,involuntary,type,event_id\n" +
		"W1,ann@acme.test,Ann,bo@acme.test,2026-11-30,layoff,no,,\n" +
		"W2,cy@acme.test,\"Cy, Jr.\",,2026-11-25T15:00:00-08:00,misconduct,Yes,Termination,\n" +
		"W3,,,,,,1,,\n" +
		",di@acme.test,Di,,2026-12-01,,0,,hris-77\n" +
		"W1,,,,2026-11-30,,FALSE,rescission,\n"
	evs, err := ReadCSV(strings.NewReader(in), "csv:layoff.csv", csvNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{ID: "csv:W1:2026-11-30", Type: Termination, WorkerID: "W1", Email: "ann@acme.test", Name: "Ann", Manager: "bo@acme.test",
			EffectiveAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Reason: "layoff"},
		{ID: "csv:W2:2026-11-25", Type: Termination, WorkerID: "W2", Email: "cy@acme.test", Name: "Cy, Jr.",
			EffectiveAt: time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC), Reason: "misconduct", Involuntary: true},
		// An empty effective_at is at once: the start of today, so a same-day re-import repeats it exactly.
		{ID: "csv:W3:2026-11-20", Type: Termination, WorkerID: "W3", EffectiveAt: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Involuntary: true},
		{ID: "hris-77", Type: Termination, Email: "di@acme.test", Name: "Di", EffectiveAt: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
		{ID: "csv:W1:2026-11-30:rescinded", Type: Rescission, WorkerID: "W1", EffectiveAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
	}
	if len(evs) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(evs), len(want), evs)
	}
	for i := range want {
		want[i].Source, want[i].Actor = "csv:layoff.csv", "csv:layoff.csv"
		if !evs[i].EffectiveAt.Equal(want[i].EffectiveAt) {
			t.Errorf("row %d: EffectiveAt = %s, want %s", i, evs[i].EffectiveAt, want[i].EffectiveAt)
		}
		evs[i].EffectiveAt = want[i].EffectiveAt
		if !reflect.DeepEqual(evs[i], want[i]) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, evs[i], want[i])
		}
	}
}

// TestReadCSVHandles protects per-system identities: handle.<system> columns reach the event,
// empty cells are skipped and a malformed handle is a row problem.
func TestReadCSVHandles(t *testing.T) {
	t.Parallel()
	in := "worker_id,email,name,manager_email,effective_at,reason,involuntary,handle.github,handle.aws\n" +
		"W1,ann@acme.test,,,,,,ann-codes,\nW2,cy@acme.test,,,,,,cy codes,cy\n"
	_, err := ReadCSV(strings.NewReader(in), "csv", csvNow)
	var ce *CSVError
	if !errors.As(err, &ce) || len(ce.Rows) != 1 || ce.Rows[0].Line != 3 || !strings.Contains(strings.Join(ce.Rows[0].Problems, ";"), "handle for github must be one identifier") {
		t.Fatalf("ReadCSV = %v, want line 3's github handle reported", err)
	}
	evs, err := ReadCSV(strings.NewReader(in[:strings.LastIndex(in[:len(in)-1], "\n")+1]), "csv", csvNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"github": "ann-codes"}; !reflect.DeepEqual(evs[0].Handles, want) {
		t.Errorf("handles = %v, want %v", evs[0].Handles, want)
	}
}

// TestReadCSVSameFileSameIDs protects re-importing: the derived IDs must not change, so the
// intake sees duplicates rather than new terminations.
func TestReadCSVSameFileSameIDs(t *testing.T) {
	t.Parallel()
	in := "worker_id,email,name,manager_email,effective_at,reason,involuntary\nW1,,,,2026-11-30,,\n"
	a, err1 := ReadCSV(strings.NewReader(in), "csv", csvNow)
	b, err2 := ReadCSV(strings.NewReader(in), "csv", csvNow.Add(48*time.Hour))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a[0].ID != b[0].ID || a[0].Digest() != b[0].Digest() {
		t.Fatalf("same row read twice gave %s/%s and %s/%s", a[0].ID, a[0].Digest(), b[0].ID, b[0].Digest())
	}
}

func TestReadCSVErrors(t *testing.T) {
	t.Parallel()
	const header = "worker_id,email,name,manager_email,effective_at,reason,involuntary\n"
	tests := []struct {
		name string
		in   string
		// want maps a line number to text that must appear in that line's problems.
		want map[int][]string
	}{
		{
			name: "every bad row listed",
			in: header +
				"W1,ann@acme.test,Ann,,2026-11-30,,no\n" + // line 2: good
				"W2,not-an-email,,,30/11/2026,,maybe\n" + // line 3
				"W3,,,,2026-11-30,,\n" + // line 4: good
				",,Nobody,,2026-11-30,,\n" + // line 5
				"W5,,,bad manager,2026-02-30,,\n", // line 6
			want: map[int][]string{
				3: {`email "not-an-email" is not an address`, `effective_at "30/11/2026"`, `involuntary "maybe"`},
				5: {"worker_id or email is required"},
				6: {`manager_email "bad manager"`, `effective_at "2026-02-30"`},
			},
		},
		{
			name: "unknown column",
			in:   "worker_id,email,name,manager_email,effective_at,reason,involuntary,department\nW1,,,,2026-11-30,,,Sales\n",
			want: map[int][]string{1: {`unknown column "department"`}},
		},
		{
			name: "missing and repeated columns",
			in:   "worker_id,email,email,effective_at\nW1,,,2026-11-30\n",
			want: map[int][]string{1: {`column "email" appears twice`, `missing column "name"`, `missing column "involuntary"`}},
		},
		{
			name: "wrong number of fields",
			in:   header + "W1,,,,2026-11-30,,\nW2,,,2026-11-30\n",
			want: map[int][]string{3: {"has 4 fields, the header has 7"}},
		},
		{
			name: "repeated event",
			in:   header + "W1,,,,2026-11-30,,\nW2,,,,2026-11-30,,\nW1,,,,2026-11-30,,yes\n",
			want: map[int][]string{4: {`event_id "csv:W1:2026-11-30" repeats line 2`}},
		},
		{
			name: "bad type",
			in:   "worker_id,email,name,manager_email,effective_at,reason,involuntary,type\nW1,,,,2026-11-30,,,rehire\n",
			want: map[int][]string{2: {`type must be "termination" or "rescission", not "rehire"`}},
		},
		{
			name: "broken quoting",
			in:   header + "W1,,\"unterminated,,2026-11-30,,\n",
			want: map[int][]string{2: {"not valid CSV"}},
		},
		{
			name: "empty file",
			in:   "",
			want: map[int][]string{1: {"empty"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, err := ReadCSV(strings.NewReader(tc.in), "csv", csvNow)
			if evs != nil {
				t.Errorf("returned %d events alongside an error; want none", len(evs))
			}
			var ce *CSVError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *CSVError", err)
			}
			lines := map[int]string{}
			for _, r := range ce.Rows {
				lines[r.Line] = strings.Join(r.Problems, "; ")
			}
			if len(lines) != len(tc.want) {
				t.Errorf("bad lines = %v, want lines %v", lines, keys(tc.want))
			}
			for line, wants := range tc.want {
				for _, w := range wants {
					if !strings.Contains(lines[line], w) {
						t.Errorf("line %d problems %q lack %q", line, lines[line], w)
					}
				}
				if !strings.Contains(err.Error(), "line ") {
					t.Errorf("error text does not name lines: %v", err)
				}
			}
		})
	}
}

func keys(m map[int][]string) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestReadCSVHeaderOnly(t *testing.T) {
	t.Parallel()
	evs, err := ReadCSV(strings.NewReader("worker_id,email,name,manager_email,effective_at,reason,involuntary\n"), "csv", csvNow)
	if err != nil || len(evs) != 0 {
		t.Fatalf("got %v, %v; want no events and no error", evs, err)
	}
}

package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// chain seals n records the way a store does and returns them with the head.
func chain(n int) ([]Record, int64, string) {
	t0 := time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)
	kinds := Kinds()
	var recs []Record
	prev := ""
	for i := 1; i <= n; i++ {
		r := Record{
			Seq:     int64(i),
			At:      t0.Add(time.Duration(i) * time.Second),
			Actor:   "workflow",
			CaseID:  int64(1 + i/4),
			Kind:    kinds[i%len(kinds)],
			Message: fmt.Sprintf("step %d of case %d", i, 1+i/4),
			Data:    json.RawMessage(fmt.Sprintf(`{"system": "okta", "n": %d}`, i)),
		}
		Seal(prev, &r)
		prev = r.Hash
		recs = append(recs, r)
	}
	return recs, int64(n), prev
}

func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	type log struct {
		recs     []Record
		headSeq  int64
		headHash string
	}
	tests := []struct {
		name    string
		tamper  func(l *log)
		wantSeq []int64  // where problems are reported
		want    []string // a phrase each problem must contain, in order
	}{
		{"clean chain", func(l *log) {}, nil, nil},
		{"edit message", func(l *log) { l.recs[3].Message = "nothing happened" }, []int64{4}, []string{"edited"}},
		{"edit data", func(l *log) { l.recs[3].Data = json.RawMessage(`{"system": "okta", "n": 99}`) }, []int64{4}, []string{"edited"}},
		{"edit actor", func(l *log) { l.recs[3].Actor = "alice" }, []int64{4}, []string{"edited"}},
		{"edit time", func(l *log) { l.recs[3].At = l.recs[3].At.Add(time.Microsecond) }, []int64{4}, []string{"edited"}},
		{"edit kind", func(l *log) { l.recs[3].Kind = KindCaseCompleted }, []int64{4}, []string{"edited"}},
		{"edit case", func(l *log) { l.recs[3].CaseID = 42 }, []int64{4}, []string{"edited"}},
		{"edit and reseal", func(l *log) {
			l.recs[3].Message = "nothing happened"
			Seal(l.recs[2].Hash, &l.recs[3])
		}, []int64{5}, []string{"record 4 was rewritten"}},
		{"delete middle", func(l *log) { l.recs = slices.Delete(l.recs, 4, 5) }, []int64{5}, []string{"record 5 missing before record 6"}},
		{"delete two in the middle", func(l *log) { l.recs = slices.Delete(l.recs, 4, 6) }, []int64{5}, []string{"records 5–6 missing"}},
		{"delete first", func(l *log) { l.recs = l.recs[1:] }, []int64{1}, []string{"starts at record 2"}},
		{"delete last", func(l *log) { l.recs = l.recs[:len(l.recs)-1] }, []int64{8}, []string{"newest records were deleted"}},
		{"delete last three", func(l *log) { l.recs = l.recs[:len(l.recs)-3] }, []int64{6}, []string{"records 6–8 missing"}},
		{"delete everything", func(l *log) { l.recs = nil }, []int64{1}, []string{"records 1–8 deleted"}},
		{"delete last and move head back", func(l *log) {
			l.recs = l.recs[:len(l.recs)-1]
			l.headSeq, l.headHash = 7, l.recs[6].Hash
		}, nil, nil}, // undetectable by design: documented, and why the head is exported
		{"reorder by swapping two in the list", func(l *log) { l.recs[2], l.recs[3] = l.recs[3], l.recs[2] }, []int64{3, 3}, []string{"record 3 missing before record 4", "out of order"}},
		{"reorder by swapping contents, keeping numbers", func(l *log) {
			a, b := l.recs[2], l.recs[3]
			a.Seq, b.Seq = 4, 3
			l.recs[2], l.recs[3] = b, a
		}, []int64{3, 3, 4, 4, 5}, []string{"edited", "prev_hash", "edited", "prev_hash", "prev_hash"}},
		{"insert forged record in the middle", func(l *log) {
			forged := Record{Seq: 4, At: l.recs[3].At, Actor: "workflow", Kind: KindVerify, Message: "verified"}
			Seal(l.recs[2].Hash, &forged)
			l.recs = slices.Insert(l.recs, 3, forged)
		}, []int64{4, 5}, []string{"second record numbered 4", "prev_hash does not match record 4"}},
		{"append forged record without the head", func(l *log) {
			forged := Record{Seq: 9, At: l.recs[7].At, Actor: "workflow", Kind: KindCaseCompleted, Message: "done"}
			Seal(l.recs[7].Hash, &forged)
			l.recs = append(l.recs, forged)
		}, []int64{9}, []string{"past the head"}},
		{"forged head hash", func(l *log) { l.headHash = strings.Repeat("0", 64) }, []int64{8}, []string{"head's hash does not match"}},
		{"forged head of an empty log", func(l *log) { l.recs, l.headSeq = nil, 0 }, []int64{0}, []string{"head carries a hash"}},
		{"first record links to nothing earlier", func(l *log) {
			l.recs[0].PrevHash = "abc"
			Seal("abc", &l.recs[0])
		}, []int64{1, 2}, []string{"cut off", "prev_hash"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recs, seq, hash := chain(8)
			l := &log{recs, seq, hash}
			tt.tamper(l)
			got := Verify(l.recs, l.headSeq, l.headHash)
			checkProblems(t, got, tt.wantSeq, tt.want)

			// The streaming form, fed in pages, finds exactly the same.
			var v Verifier
			for page := range slices.Chunk(l.recs, 3) {
				for _, r := range page {
					v.Add(r)
				}
			}
			if streamed := v.Finish(l.headSeq, l.headHash); !slices.Equal(streamed, got) {
				t.Errorf("Verifier found %v, Verify found %v", streamed, got)
			}
		})
	}
}

func checkProblems(t *testing.T, got []Problem, wantSeq []int64, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d problems %v, want %d containing %q", len(got), got, len(want), want)
	}
	for i, p := range got {
		if p.Seq != wantSeq[i] || !strings.Contains(p.What, want[i]) {
			t.Errorf("problem %d = {%d %q}, want seq %d containing %q", i, p.Seq, p.What, wantSeq[i], want[i])
		}
	}
}

func TestVerifyEmptyLogIsIntact(t *testing.T) {
	t.Parallel()
	if got := Verify(nil, 0, ""); got != nil {
		t.Errorf("empty log: %v", got)
	}
}

// TestVerifierBoundsProblems protects memory on a wholly rewritten log: problems past the cap
// are counted, not kept.
func TestVerifierBoundsProblems(t *testing.T) {
	t.Parallel()
	recs, seq, hash := chain(maxProblems + 10)
	for i := range recs {
		recs[i].Message = "rewritten"
	}
	got := Verify(recs, seq, hash)
	if len(got) != maxProblems+1 {
		t.Fatalf("got %d problems, want %d kept plus a summary", len(got), maxProblems)
	}
	if last := got[len(got)-1]; last.What != "10 further problems not listed" {
		t.Errorf("summary = %q", last.What)
	}
}

// TestSealIsStableAcrossStorage protects the promise that a record read back from a store
// (JSON data re-indented, time in another zone) still verifies. Key order is part of the hash,
// so stores must keep Data as text (PostgreSQL json, not jsonb, which reorders keys).
func TestSealIsStableAcrossStorage(t *testing.T) {
	t.Parallel()
	recs, seq, hash := chain(3)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	for i := range recs {
		var buf bytes.Buffer
		if err := json.Indent(&buf, recs[i].Data, "", "    "); err != nil {
			t.Fatal(err)
		}
		recs[i].Data = buf.Bytes()
		recs[i].At = recs[i].At.In(ny)
	}
	if got := Verify(recs, seq, hash); got != nil {
		t.Errorf("re-encoded records do not verify: %v", got)
	}
}

func TestKindsAreDistinctLowerSnake(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k] {
			t.Errorf("kind %q listed twice", k)
		}
		seen[k] = true
		if k != strings.ToLower(k) || strings.ContainsAny(k, " -") {
			t.Errorf("kind %q is not lower_snake", k)
		}
	}
	if len(seen) != 18 {
		t.Errorf("got %d kinds, want 18", len(seen))
	}
}

package audit

import "fmt"

// Problem is one place where the audit log is not what was sealed.
type Problem struct {
	// Seq is the sequence number where the problem shows (for a deletion, the first missing
	// record); 0 when it belongs to no record.
	Seq int64
	// What says what is wrong and what it suggests happened.
	What string
}

// maxProblems bounds how many problems a Verifier keeps. A log rewritten wholesale would
// otherwise produce one problem per record, millions in memory, where the first thousand
// already say everything an investigator needs.
const maxProblems = 1000

// Verify checks a whole audit log against its head (the last sealed record's Seq and Hash,
// which the store keeps apart from the records). It returns nil when the log is intact.
//
// It detects a record whose content was edited (its hash no longer matches), a deleted record
// (a gap in Seq, or the head naming records that are not there, as when the newest records are
// deleted), reordered, duplicated or inserted records (Seq out of order, or PrevHash not the
// previous record's Hash) and a head that does not match the last record.
//
// A hash chain without a key cannot stop someone with write access to the database from
// recomputing every hash after an edit and moving the head to match. Keeping a copy of the head
// elsewhere (offboard audit verify prints it; tickets and logs can carry it) turns such a
// rewrite into a detectable one.
func Verify(records []Record, headSeq int64, headHash string) []Problem {
	var v Verifier
	for _, r := range records {
		v.Add(r)
	}
	return v.Finish(headSeq, headHash)
}

// Verifier checks an audit log fed to it in order, page by page, holding only the last record's
// Seq and Hash, so a log of any size is checked in constant memory. The zero value is ready to
// use; call Add for each record in Seq order, then Finish once.
type Verifier struct {
	started  bool
	lastSeq  int64
	lastHash string
	problems []Problem
	dropped  int
}

// Add checks one record against its own hash and against the record before it.
func (v *Verifier) Add(r Record) {
	if Hash(r) != r.Hash {
		v.report(r.Seq, "its content does not match its hash: the record was edited after it was sealed")
	}
	if !v.started {
		v.started = true
		switch {
		case r.Seq < 1:
			v.report(r.Seq, fmt.Sprintf("sequence number %d is invalid; the log starts at 1", r.Seq))
		case r.Seq > 1:
			v.report(1, fmt.Sprintf("the log starts at record %d: %s deleted", r.Seq, span(1, r.Seq-1)))
		case r.PrevHash != "":
			v.report(r.Seq, "the first record links to an earlier record: the log's start was cut off or the record was forged")
		}
		v.lastSeq, v.lastHash = r.Seq, r.Hash
		return
	}
	switch {
	case r.Seq == v.lastSeq+1:
		if r.PrevHash != v.lastHash {
			v.report(r.Seq, fmt.Sprintf("prev_hash does not match record %d's hash: record %d was rewritten, or this record was moved or forged", v.lastSeq, v.lastSeq))
		}
	case r.Seq > v.lastSeq+1:
		v.report(v.lastSeq+1, fmt.Sprintf("%s missing before record %d: deleted (or moved)", span(v.lastSeq+1, r.Seq-1), r.Seq))
	case r.Seq == v.lastSeq:
		v.report(r.Seq, fmt.Sprintf("a second record numbered %d: a record was inserted or copied", r.Seq))
		// Keep the first record as the link target: the original and the forgery cannot both
		// be the one the next record points to, and the next check will say which it is not.
		return
	default:
		v.report(r.Seq, fmt.Sprintf("out of order: comes after record %d (records were reordered or inserted)", v.lastSeq))
		// Not advancing keeps the check of the records that follow anchored on the highest
		// record seen, so one moved record is reported once rather than cascading.
		return
	}
	v.lastSeq, v.lastHash = r.Seq, r.Hash
}

// Finish checks the end of the log against the head and returns every problem found, or nil
// when the log is intact. headSeq and headHash are the store's record of the last sealed
// record (0 and "" for an empty log).
func (v *Verifier) Finish(headSeq int64, headHash string) []Problem {
	switch {
	case !v.started:
		if headSeq > 0 {
			v.report(1, fmt.Sprintf("the log is empty but its head says it ends at record %d: %s deleted", headSeq, span(1, headSeq)))
		} else if headHash != "" {
			v.report(0, "the log is empty but its head carries a hash: the head was forged")
		}
	case v.lastSeq < headSeq:
		v.report(v.lastSeq+1, fmt.Sprintf("%s missing: the head says the log ends at record %d, so the newest records were deleted", span(v.lastSeq+1, headSeq), headSeq))
	case v.lastSeq > headSeq:
		v.report(headSeq+1, fmt.Sprintf("%s past the head (record %d): records were appended without the store, i.e. forged", span(headSeq+1, v.lastSeq), headSeq))
	case v.lastHash != headHash:
		v.report(headSeq, fmt.Sprintf("the head's hash does not match record %d: the head or the record was replaced", headSeq))
	}
	out := v.problems
	if v.dropped > 0 {
		out = append(out, Problem{What: fmt.Sprintf("%d further problems not listed", v.dropped)})
	}
	return out
}

func (v *Verifier) report(seq int64, what string) {
	if len(v.problems) >= maxProblems {
		v.dropped++
		return
	}
	v.problems = append(v.problems, Problem{Seq: seq, What: what})
}

// span names the records from a to b.
func span(a, b int64) string {
	if a == b {
		return fmt.Sprintf("record %d", a)
	}
	return fmt.Sprintf("records %d–%d", a, b)
}

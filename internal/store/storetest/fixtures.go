package storetest

import (
	"encoding/json"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/store"
)

func sampleEvent(id string) hr.Event {
	return hr.Event{
		ID:          id,
		Source:      "webhook",
		Type:        hr.Termination,
		WorkerID:    "W-" + id,
		Email:       id + "@example.com",
		Name:        "Pat " + id,
		Manager:     "boss@example.com",
		EffectiveAt: time.Date(2026, 12, 1, 17, 0, 0, 123456789, time.UTC),
		Reason:      "resigned",
		Involuntary: true,
		Actor:       "webhook",
	}
}

// sampleCase has every field set to something a careless store would lose: nanoseconds, a
// non-UTC zone, nested JSON, a map, the unexported-in-JSON JobID.
func sampleCase(workerID, email string, state store.CaseState) store.Case {
	return store.Case{
		Person: connector.Person{
			WorkerID: workerID,
			Email:    email,
			Name:     "Jo Leaver",
			Manager:  "mgr@example.com",
			Handles:  map[string]string{"github": "jol", "slack": "U123"},
		},
		State:       state,
		Urgent:      true,
		Source:      "workday",
		EventID:     "evt-" + workerID,
		Reason:      "involuntary",
		EffectiveAt: time.Date(2026, 11, 30, 9, 15, 1, 987654321, zone),
		TicketKey:   "SEC-7",
		Plans: []connector.Plan{{
			System:  "okta",
			Account: "00u1 (" + email + ", ACTIVE)",
			Actions: []connector.Action{{
				System: "okta", Kind: "remove_group", Target: "00g1", Detail: "Remove from Engineering",
				Params: map[string]string{"user": "00u1"}, After: []string{"clear_sessions"}, Before: "member",
			}},
			Kept:   []connector.Kept{{System: "okta", Target: "00g2", Detail: "Everyone", Reason: "built-in"}},
			Manual: []connector.Manual{{System: "okta", Detail: "Reassign app ownership"}},
			Notes:  []string{"two factors"},
		}, {System: "github", NotFound: true, Actions: []connector.Action{}, Notes: []string{"no account"}}},
		Systems: map[string]string{"okta": "done", "github": "failed"},
		JobID:   4242,
	}
}

func sampleStep(caseID int64, seq int, kind string) *store.Step {
	return &store.Step{
		CaseID: caseID,
		Seq:    seq,
		Action: connector.Action{
			System: "okta", Kind: kind, Target: "00u1", Detail: "step " + kind,
			Params: map[string]string{"user": "00u1"}, After: []string{"suspend"},
		},
		DependsOn: []int64{1, 2},
		State:     store.StepPending,
	}
}

func sampleEvidence() *connector.Evidence {
	return &connector.Evidence{
		Verified:  true,
		Observed:  "user 00u1 status DEPROVISIONED",
		Read:      json.RawMessage(`{"status":"DEPROVISIONED","groups":[]}`),
		CheckedAt: time.Date(2026, 11, 30, 10, 0, 0, 5, time.UTC),
	}
}

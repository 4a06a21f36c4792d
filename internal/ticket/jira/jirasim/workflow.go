package jirasim

import (
	"net/http"
	"strings"

	"github.com/offboard-dev/offboard/internal/sim"
)

// The simulated project's workflow is Jira's simplified one: To Do → In Progress → Done, with
// a way back from each. A transition is offered only from the statuses it leaves, so an issue
// already in Done is not offered "Done" again.

type transition struct{ ID, Name, To string }

var workflow = map[string][]transition{
	"To Do":       {{"11", "Start Progress", "In Progress"}, {"31", "Done", "Done"}},
	"In Progress": {{"21", "Stop Progress", "To Do"}, {"31", "Done", "Done"}},
	"Done":        {{"41", "Reopen", "To Do"}},
}

var (
	statusIDs  = map[string]string{"To Do": "10000", "In Progress": "3", "Done": "10001"}
	categories = map[string]string{"To Do": "new", "In Progress": "indeterminate", "Done": "done"}
)

// transitions is GET /rest/api/3/issue/{issueIdOrKey}/transitions [S: getTransitions]. An
// account without the Transition issues permission is offered none.
func (s *Server) transitions(w http.ResponseWriter, r *http.Request) {
	s.withIssue(w, r, func(is *issue) {
		list := []map[string]any{}
		if !s.denied(PermTransition) {
			for _, t := range workflow[is.Status] {
				list = append(list, map[string]any{"id": t.ID, "name": t.Name, "to": statusJSON(t.To),
					"hasScreen": false, "isGlobal": false, "isInitial": false, "isAvailable": true, "isConditional": false})
			}
		}
		sim.WriteJSON(w, http.StatusOK, map[string]any{"transitions": list})
	})
}

// doTransition is POST /rest/api/3/issue/{issueIdOrKey}/transitions [S: doTransition]: 204,
// or 400 for a transition not offered from the issue's status.
func (s *Server) doTransition(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Transition struct {
			ID string `json:"id"`
		} `json:"transition"`
	}
	if !decode(w, r, &req) {
		return
	}
	s.withIssue(w, r, func(is *issue) {
		if strings.TrimSpace(req.Transition.ID) == "" {
			fail(w, http.StatusBadRequest, "Missing 'transition' identifier")
			return
		}
		if s.denied(PermTransition) {
			fail(w, http.StatusBadRequest, "You do not have permission to transition this issue.")
			return
		}
		for _, t := range workflow[is.Status] {
			if t.ID == req.Transition.ID {
				is.Status = t.To
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		fail(w, http.StatusBadRequest, "Transition id '"+req.Transition.ID+"' is not valid for this issue.")
	})
}

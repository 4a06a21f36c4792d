package googlesim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// Overall transfer states, in the order a transfer goes through them.
const (
	transferNew        = "new"
	transferInProgress = "inProgress"
	transferCompleted  = "completed"
)

type transferParam struct {
	Key   string   `json:"key"`
	Value []string `json:"value"`
}

// int64String is how Google's JSON carries an int64 (format int64 in the discovery
// document): as a string. Requests may send it either way.
type int64String string

func (v *int64String) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	if _, err := n.Int64(); err != nil {
		return err
	}
	*v = int64String(n)
	return nil
}

type appTransfer struct {
	ApplicationID             int64String     `json:"applicationId"`
	ApplicationTransferParams []transferParam `json:"applicationTransferParams,omitempty"`
	ApplicationTransferStatus string          `json:"applicationTransferStatus,omitempty"`
}

type transfer struct {
	id, oldOwner, newOwner string
	apps                   []appTransfer
	requestTime            time.Time
	status                 string
	reads                  int
}

// applications are the data-transfer applications the account offers (applications.list).
var applications = []map[string]any{
	{"kind": "admin#datatransfer#ApplicationResource", "id": DriveAppID, "name": "Drive and Docs", "etag": `"sim"`,
		"transferParams": []transferParam{{Key: "PRIVACY_LEVEL", Value: []string{"PRIVATE", "SHARED"}}}},
	{"kind": "admin#datatransfer#ApplicationResource", "id": CalendarAppID, "name": "Calendar", "etag": `"sim"`,
		"transferParams": []transferParam{{Key: "RELEASE_RESOURCES", Value: []string{"TRUE"}}}},
}

func knownCustomer(id string) bool { return id == "" || id == "my_customer" || id == CustomerID }

// listApplications is applications.list, paged (maxResults up to 500).
func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !knownCustomer(q.Get("customerId")) {
		writeError(w, http.StatusForbidden, "global", "forbidden", "Not Authorized to access this resource/api")
		return
	}
	size, ok := s.pageSize(r, 500)
	if !ok {
		badRequest(w, "Invalid value for maxResults")
		return
	}
	writePage(w, map[string]any{"kind": "admin#datatransfer#applicationsList", "etag": `"sim"`}, "applications", applications, q.Get("pageToken"), size)
}

// insertTransfer is transfers.insert: owners are given by numeric user ID; the transfer
// starts as "new" and progresses as it is read.
func (s *Server) insertTransfer(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OldOwnerUserID           string        `json:"oldOwnerUserId"`
		NewOwnerUserID           string        `json:"newOwnerUserId"`
		ApplicationDataTransfers []appTransfer `json:"applicationDataTransfers"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if json.Unmarshal(body, &in) != nil {
		badRequest(w, "Invalid JSON payload received.")
		return
	}
	if len(in.ApplicationDataTransfers) == 0 {
		badRequest(w, "Invalid Input: applicationDataTransfers is required")
		return
	}
	for _, a := range in.ApplicationDataTransfers {
		if !slices.ContainsFunc(applications, func(m map[string]any) bool { return m["id"] == string(a.ApplicationID) }) {
			badRequest(w, "Invalid Input: unknown applicationId "+string(a.ApplicationID))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, nu := s.users[in.OldOwnerUserID], s.users[in.NewOwnerUserID]
	switch {
	case old == nil || nu == nil:
		badRequest(w, "Invalid Input: oldOwnerUserId and newOwnerUserId must be the IDs of users in the account")
		return
	case old.ID == nu.ID:
		badRequest(w, "Invalid Input: the old and new owners are the same user")
		return
	case nu.Suspended:
		badRequest(w, "Invalid Input: the new owner is suspended")
		return
	}
	t := &transfer{
		id:       fmt.Sprintf("AKrEtIb%08d", s.seq.Add(1)),
		oldOwner: old.ID, newOwner: nu.ID,
		apps:        in.ApplicationDataTransfers,
		requestTime: s.opts.Now().UTC(),
		status:      transferNew,
	}
	if s.opts.TransferReads < 0 {
		s.complete(t)
	}
	s.transfers = append(s.transfers, t)
	sim.WriteJSON(w, http.StatusOK, s.transferJSON(t))
}

// observe advances a transfer one read along new → inProgress → completed; the caller holds
// s.mu.
func (s *Server) observe(t *transfer) {
	if t.status == transferCompleted {
		return
	}
	t.reads++
	switch n := s.opts.TransferReads; {
	case t.reads > 2*n && !s.holding:
		s.complete(t)
	case t.reads > n:
		t.status = transferInProgress
	}
}

func (s *Server) complete(t *transfer) {
	t.status = transferCompleted
	if u := s.users[t.oldOwner]; u != nil {
		u.OwnsData = false
	}
}

func (s *Server) transferJSON(t *transfer) map[string]any {
	apps := make([]appTransfer, len(t.apps))
	for i, a := range t.apps {
		a.ApplicationTransferStatus = map[string]string{transferNew: "pending", transferInProgress: "inProgress", transferCompleted: "completed"}[t.status]
		apps[i] = a
	}
	return map[string]any{
		"kind": "admin#datatransfer#DataTransfer", "etag": `"sim"`,
		"id": t.id, "oldOwnerUserId": t.oldOwner, "newOwnerUserId": t.newOwner,
		"applicationDataTransfers":  apps,
		"overallTransferStatusCode": t.status,
		"requestTime":               t.requestTime.Format(time.RFC3339Nano),
	}
}

// getTransfer is transfers.get.
func (s *Server) getTransfer(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.transfers, func(t *transfer) bool { return t.id == r.PathValue("id") })
	if i < 0 {
		notFound(w, "dataTransferId")
		return
	}
	s.observe(s.transfers[i])
	sim.WriteJSON(w, http.StatusOK, s.transferJSON(s.transfers[i]))
}

// listTransfers is transfers.list, filtered by oldOwnerUserId, newOwnerUserId and status and
// paged (maxResults up to 500).
func (s *Server) listTransfers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !knownCustomer(q.Get("customerId")) {
		writeError(w, http.StatusForbidden, "global", "forbidden", "Not Authorized to access this resource/api")
		return
	}
	size, ok := s.pageSize(r, 500)
	if !ok {
		badRequest(w, "Invalid value for maxResults")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []map[string]any
	for _, t := range s.transfers {
		if (q.Get("oldOwnerUserId") != "" && q.Get("oldOwnerUserId") != t.oldOwner) ||
			(q.Get("newOwnerUserId") != "" && q.Get("newOwnerUserId") != t.newOwner) {
			continue
		}
		s.observe(t)
		if st := q.Get("status"); st != "" && st != t.status {
			continue
		}
		all = append(all, s.transferJSON(t))
	}
	writePage(w, map[string]any{"kind": "admin#datatransfer#dataTransfersList", "etag": `"sim"`}, "dataTransfers", all, q.Get("pageToken"), size)
}

// HoldTransfers stops unfinished transfers at inProgress however often they are read, as a
// large Drive keeps a real transfer there for hours, until it is called again with false.
func (s *Server) HoldTransfers(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holding = on
}

// TransferStatus returns the state of the newest transfer from one user to another ("" when
// there is none), without counting as a read.
func (s *Server) TransferStatus(oldOwner, newOwner string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, n := s.lookup(oldOwner), s.lookup(newOwner)
	if o == nil || n == nil {
		return ""
	}
	for i := len(s.transfers) - 1; i >= 0; i-- {
		if t := s.transfers[i]; t.oldOwner == o.ID && t.newOwner == n.ID {
			return t.status
		}
	}
	return ""
}

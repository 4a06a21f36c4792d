package tool

import "encoding/json"

// Version is the protocol version this tool speaks. offboard sends it in every request and
// expects it back; a request of another version is refused with 400 unsupported_version.
const Version = 1

// The phases of the protocol. Plan, Verify and Check only read; Apply changes one thing.
const (
	PhaseCheck  = "check"
	PhasePlan   = "plan"
	PhaseApply  = "apply"
	PhaseVerify = "verify"
)

// Request is what offboard POSTs. The body is signed (see VerifySignature); nothing else in the
// request is, so everything the tool acts on comes from here.
type Request struct {
	Version int    `json:"version"`
	Phase   string `json:"phase"`
	// System is the name offboard knows this tool by, e.g. "admin-tool".
	System string `json:"system"`
	// Person is the leaver; empty in a check.
	Person Person `json:"person"`
	// Action is the step to apply or verify, exactly as this tool planned it.
	Action *Action `json:"action,omitempty"`
	// IdempotencyKey is the same for every delivery of one action (apply and verify), so a
	// repeated delivery can be recognised in logs or de-duplicated while one is in flight.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Person is the leaver as offboard knows them.
type Person struct {
	WorkerID string `json:"worker_id,omitempty"`
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
	Manager  string `json:"manager,omitempty"`
	// Handle is the person's identity in this tool, when the HR record carries one; it takes
	// precedence over the email.
	Handle string `json:"handle,omitempty"`
}

// Action is one change the tool proposes. Kind and Target identify it; Params carry whatever
// apply and verify need later, because offboard stores the plan and sends the action back
// (possibly days later, possibly to a restarted tool) without anything else.
type Action struct {
	Kind   string            `json:"kind"`
	Target string            `json:"target"`
	Detail string            `json:"detail"`
	Params map[string]string `json:"params,omitempty"`
	// After lists kinds in this plan that must be verified before this action runs.
	After []string `json:"after,omitempty"`
	// Before records what the plan's read showed, kept as evidence.
	Before string `json:"before,omitempty"`
}

// Kept is access the plan deliberately leaves, with the reason.
type Kept struct {
	Target string `json:"target"`
	Detail string `json:"detail"`
	Reason string `json:"reason"`
}

// Manual is work only a human can do.
type Manual struct {
	Detail string `json:"detail"`
}

// Rotation is a secret the person could read, for its owners to rotate (never its value).
type Rotation struct {
	Location string `json:"location"`
	Name     string `json:"name"`
	Reason   string `json:"reason"`
}

// PlanResponse answers a plan: everything to remove for the person, or NotFound.
type PlanResponse struct {
	Version  int        `json:"version"`
	Phase    string     `json:"phase"`
	NotFound bool       `json:"not_found,omitempty"`
	Account  string     `json:"account,omitempty"`
	Actions  []Action   `json:"actions"`
	Kept     []Kept     `json:"kept,omitempty"`
	Manual   []Manual   `json:"manual,omitempty"`
	Rotate   []Rotation `json:"rotate,omitempty"`
	Notes    []string   `json:"notes,omitempty"`
}

// ApplyResponse answers an apply. OK is true when the effect is in place, whether this call
// made the change (Changed) or found it done already.
type ApplyResponse struct {
	Version int         `json:"version"`
	Phase   string      `json:"phase"`
	OK      bool        `json:"ok"`
	Changed bool        `json:"changed,omitempty"`
	Message string      `json:"message,omitempty"`
	Error   *ApplyError `json:"error,omitempty"`
}

// ApplyError is why an apply failed. Retryable tells offboard whether trying again later can
// help (the tool's database was busy) or a human must look (the target is protected).
type ApplyError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
	// RetryAfter, in seconds, asks offboard to wait at least this long before retrying.
	RetryAfter int `json:"retry_after,omitempty"`
}

// VerifyResponse answers a verify with a fresh read: is the action's effect in place?
type VerifyResponse struct {
	Version  int             `json:"version"`
	Phase    string          `json:"phase"`
	Verified bool            `json:"verified"`
	Observed string          `json:"observed"`
	Read     json.RawMessage `json:"read,omitempty"`
}

// CheckResponse answers a check: an empty Problems list means the tool is ready.
type CheckResponse struct {
	Version  int      `json:"version"`
	Phase    string   `json:"phase"`
	Problems []string `json:"problems"`
}

// ErrorResponse is the body of every non-2xx answer.
type ErrorResponse struct {
	Version int       `json:"version"`
	Error   ErrorBody `json:"error"`
}

// ErrorBody names the problem with a stable code and a human message.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

package audit

// Record kinds. They are stored in every record and shown to auditors, so they are stable
// lower_snake names: rename one only with a migration of the stored records (which would also
// change their hashes, so in practice never).
const (
	// KindEventReceived: an HR termination (or rescission) arrived through any door.
	KindEventReceived = "event_received"
	// KindCaseOpened: a case was opened for a leaver.
	KindCaseOpened = "case_opened"
	// KindCaseScheduled: the case waits for its effective time.
	KindCaseScheduled = "case_scheduled"
	// KindCaseCancelled: the case was cancelled (termination rescinded, or by a person).
	KindCaseCancelled = "case_cancelled"
	// KindPlan: the plan across every system was built and stored.
	KindPlan = "plan"
	// KindApply: one action was applied.
	KindApply = "apply"
	// KindApplyFailed: applying one action failed.
	KindApplyFailed = "apply_failed"
	// KindVerify: a fresh read showed one action's effect in place.
	KindVerify = "verify"
	// KindVerifyFailed: the read-back did not show the effect, or could not be made.
	KindVerifyFailed = "verify_failed"
	// KindRetry: a failed step is being tried again.
	KindRetry = "retry"
	// KindStepFailed: a step stopped for good and needs a human.
	KindStepFailed = "step_failed"
	// KindSystemDone: every step in one system is verified.
	KindSystemDone = "system_done"
	// KindSystemFailed: one system has a step that could not be finished.
	KindSystemFailed = "system_failed"
	// KindCaseCompleted: every step of the case is verified.
	KindCaseCompleted = "case_completed"
	// KindCasePartial: the case could not finish; some access may remain.
	KindCasePartial = "case_partial"
	// KindTicketUpdated: the deprovisioning ticket was created or updated.
	KindTicketUpdated = "ticket_updated"
	// KindTicketFailed: updating the ticket failed (it is retried).
	KindTicketFailed = "ticket_failed"
	// KindHumanAction: a person retried, skipped, marked manual, approved or cancelled.
	KindHumanAction = "human_action"
)

// Kinds lists every record kind, in the order a case usually produces them.
func Kinds() []string {
	return []string{
		KindEventReceived, KindCaseOpened, KindCaseScheduled, KindCaseCancelled, KindPlan,
		KindApply, KindApplyFailed, KindVerify, KindVerifyFailed, KindRetry, KindStepFailed,
		KindSystemDone, KindSystemFailed, KindCaseCompleted, KindCasePartial,
		KindTicketUpdated, KindTicketFailed, KindHumanAction,
	}
}

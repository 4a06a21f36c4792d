package entra

import (
	"context"
	"sync"
	"time"
)

// sharedReadTimeout bounds a read shared by several Verify calls, which no single caller's
// context governs.
const sharedReadTimeout = 2 * time.Minute

// memberReads batches concurrent reads of one user's memberships: the engine verifies dozens
// of group removals at once, and each needs the same list.
//
// A caller never joins a read that was already under way when it arrived, because such a read
// may predate the removal the caller is verifying and would wrongly say "still a member".
// Instead, callers arriving while a read is in flight wait for the next one, which starts as
// soon as the current one ends: every caller gets a read that began after it asked, and at most
// two reads per user are in progress or queued however many callers there are.
type memberReads struct {
	mu    sync.Mutex
	users map[string]*readQueue
}

type readQueue struct {
	inflight bool
	next     *sharedRead
}

type sharedRead struct {
	// waiters counts the callers sharing the read (guarded by memberReads.mu).
	waiters int
	done    chan struct{}
	val     []directoryObject
	err     error
}

// read returns the user's memberships from a read that began after this call.
func (m *memberReads) read(ctx context.Context, uid string, fetch func(context.Context) ([]directoryObject, error)) ([]directoryObject, error) {
	m.mu.Lock()
	if m.users == nil {
		m.users = make(map[string]*readQueue)
	}
	q := m.users[uid]
	if q == nil {
		q = &readQueue{}
		m.users[uid] = q
	}
	if q.next == nil {
		q.next = &sharedRead{done: make(chan struct{})}
	}
	r := q.next
	r.waiters++
	if !q.inflight {
		m.startLocked(ctx, uid, q, fetch)
	}
	m.mu.Unlock()
	select {
	case <-r.done:
		return r.val, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startLocked starts the queued read. It outlives any one caller's context, so one caller
// giving up does not fail the others; it is still bounded.
func (m *memberReads) startLocked(ctx context.Context, uid string, q *readQueue, fetch func(context.Context) ([]directoryObject, error)) {
	r := q.next
	q.next, q.inflight = nil, true
	go func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedReadTimeout)
		r.val, r.err = fetch(rctx)
		cancel()
		close(r.done)
		m.mu.Lock()
		defer m.mu.Unlock()
		q.inflight = false
		if q.next != nil {
			m.startLocked(ctx, uid, q, fetch)
		} else {
			delete(m.users, uid)
		}
	}()
}

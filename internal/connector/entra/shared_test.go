package entra

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestSharedReadNeverPredatesTheCaller protects verification from a stale shared read: a
// caller arriving while a read is in flight gets the next read, not the one already under way,
// and every caller waiting together shares that next read.
func TestSharedReadNeverPredatesTheCaller(t *testing.T) {
	t.Parallel()
	var m memberReads
	var reads atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{}, 4)
	fetch := func(context.Context) ([]directoryObject, error) {
		n := reads.Add(1)
		started <- struct{}{}
		if n == 1 {
			<-release
		}
		return []directoryObject{{ID: string(rune('0' + n))}}, nil
	}
	ctx := t.Context()
	first := make(chan string, 1)
	go func() {
		v, _ := m.read(ctx, "u", fetch)
		first <- v[0].ID
	}()
	<-started // read 1 is in flight
	var wg sync.WaitGroup
	late := make([]string, 3)
	for i := range late {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _ := m.read(ctx, "u", fetch)
			late[i] = v[0].ID
		}()
	}
	// Let the late callers queue before read 1 ends; they cannot have joined it either way.
	for {
		m.mu.Lock()
		queued := m.users["u"] != nil && m.users["u"].next != nil && m.users["u"].next.waiters == len(late)
		m.mu.Unlock()
		if queued {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if got := <-first; got != "1" {
		t.Errorf("first caller got read %s, want 1", got)
	}
	for i, got := range late {
		if got == "1" {
			t.Errorf("late caller %d got the read that was under way when it arrived", i)
		}
	}
	if n := reads.Load(); n != 2 {
		t.Errorf("%d reads for 4 callers, want 2 (the late callers share one)", n)
	}
}

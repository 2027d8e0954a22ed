package node

import (
	"sync"
	"time"
)

// writeFirst lets a local write go ahead of bulk work: the reads of a sync
// this node serves, the load of a reconciliation index, and the store's
// verification batches and bulk commits (store.Options.Yield). A local write
// ends in an fsync, and on a machine whose cores a sync keeps busy the
// fsync's goroutine comes back to find no core free: it waits for the
// scheduler to preempt the sync (up to 10 ms), not for the disk. Bulk
// work therefore pauses between its units until the local writes in flight
// when it paused have ended, so that a core is free when their fsyncs
// return. Writes begun during the pause do not lengthen it, so a stream
// of local writes slows a sync but cannot stop it.
type writeFirst struct {
	mu     sync.Mutex
	begun  uint64
	ended  uint64
	change chan struct{} // closed at the next end; nil when no one waits
	limit  time.Duration // bounds one pause; zero means maxYield
}

// maxYield bounds one pause of bulk work.
const maxYield = 10 * time.Millisecond

// begin marks a local write in flight; end must follow.
func (w *writeFirst) begin() {
	w.mu.Lock()
	w.begun++
	w.mu.Unlock()
}

func (w *writeFirst) end() {
	w.mu.Lock()
	w.ended++
	if w.change != nil {
		close(w.change)
		w.change = nil
	}
	w.mu.Unlock()
}

// yield waits, at most w.limit, until as many local writes have ended as
// had begun when it was called.
func (w *writeFirst) yield() {
	w.mu.Lock()
	target := w.begun
	if w.ended >= target {
		w.mu.Unlock()
		return
	}
	limit := w.limit
	if limit == 0 {
		limit = maxYield
	}
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	for w.ended < target {
		if w.change == nil {
			w.change = make(chan struct{})
		}
		change := w.change
		w.mu.Unlock()
		select {
		case <-change:
		case <-timeout.C:
			return
		}
		w.mu.Lock()
	}
	w.mu.Unlock()
}

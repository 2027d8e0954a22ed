package web

import (
	"encoding/json"
	"sync"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/node"
)

// statusFeed computes the groups' standing once for every event stream: a
// round every period while any stream listens, however many do, and in a
// round a group's digest (a scan of its ids) only when its count of
// entries changed (entries are only ever added; a purge removes the
// group).
type statusFeed struct {
	s      *Server
	period time.Duration
	rounds sync.Mutex // one round at a time: a stopped feed's last may overlap a restarted one's first

	mu      sync.Mutex
	streams int
	closed  bool                  // the server is closing: no more rounds
	running sync.WaitGroup        // the rounds' goroutine, while it runs
	stop    chan struct{}         // closed to end the rounds
	groups  []groupStanding       // the last round's, in store order
	changed chan struct{}         // closed when a round changes groups
	digests map[entry.ID]digested // under rounds
	scans   int                   // digests computed, for tests
}

type groupStanding struct {
	id   string
	json string
	gst  node.GroupStatus
}

type digested struct {
	count  uint64
	digest [32]byte
}

func newStatusFeed(s *Server, period time.Duration) *statusFeed {
	return &statusFeed{s: s, period: period, changed: make(chan struct{}), digests: map[entry.ID]digested{}}
}

// join starts the rounds for a new stream if it is the first; leave stops
// them after the last.
func (f *statusFeed) join() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.streams++
	if f.streams == 1 && !f.closed {
		f.stop = make(chan struct{})
		f.running.Add(1)
		go func(stop chan struct{}) {
			defer f.running.Done()
			f.run(stop)
		}(f.stop)
	}
}

func (f *statusFeed) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.streams--
	if f.streams == 0 && !f.closed {
		close(f.stop)
	}
}

// close ends the rounds, however many streams are left, and waits for the
// last one: the node's store closes after the server.
func (f *statusFeed) close() {
	f.mu.Lock()
	if f.streams > 0 && !f.closed {
		close(f.stop)
	}
	f.closed = true
	f.mu.Unlock()
	f.running.Wait()
}

// current is the last round's standing, and a channel closed when a
// later round changes it.
func (f *statusFeed) current() ([]groupStanding, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.groups, f.changed
}

func (f *statusFeed) run(stop chan struct{}) {
	tick := time.NewTicker(f.period)
	defer tick.Stop()
	for {
		f.round()
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// round computes every group's standing and publishes it if it changed. A
// store that fails keeps the last standing; the next round tries again.
func (f *statusFeed) round() {
	f.rounds.Lock()
	defer f.rounds.Unlock()
	gs, err := f.s.n.Store.Groups()
	if err != nil {
		return
	}
	out := make([]groupStanding, 0, len(gs))
	seen := map[entry.ID]bool{}
	for _, g := range gs {
		seen[g.ID] = true
		count, err := f.s.n.Store.Count(g.ID)
		if err != nil {
			return
		}
		d, ok := f.digests[g.ID]
		if !ok || d.count != count {
			digest, err := f.s.n.Store.Digest(g.ID)
			if err != nil {
				return
			}
			d = digested{count, digest}
			f.digests[g.ID] = d
			f.mu.Lock()
			f.scans++
			f.mu.Unlock()
		}
		gst, err := f.s.n.GroupStatus(g, f.s.nw, d.count, d.digest)
		if err != nil {
			return
		}
		b, _ := json.Marshal(gst)
		out = append(out, groupStanding{g.ID.String(), string(b), gst})
	}
	for id := range f.digests {
		if !seen[id] {
			delete(f.digests, id)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.groups == nil || !sameStanding(f.groups, out) {
		f.groups = out
		close(f.changed)
		f.changed = make(chan struct{})
	}
}

func sameStanding(a, b []groupStanding) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].json != b[i].json {
			return false
		}
	}
	return true
}

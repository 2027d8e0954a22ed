package sim

import "time"

// event is a message in flight or a timer, held by value in the queue:
// 48 bytes, as the queue moves events about on every push and pop.
// INVARIANT: node indices, groups and epochs are below 2^31 (a run
// that held 2^31 nodes would need tens of terabytes first).
type event struct {
	at  time.Duration
	seq int
	to  int32
	// from is the sender of a message.
	from int32
	// group is the group a message or a timer belongs to; epoch is the
	// incarnation of node to that it was meant for.
	group, epoch int32
	// what is a message (a hyparview.Message, a plumtree.Message or a
	// transfer) or a timer (a topic.Timer, a topic.Measured or a local
	// action).
	what any
}

// eventSpec is an event as the code schedules it (Sim.at): for node to
// (-1: the run's own), from node from, in group group.
type eventSpec struct {
	to, from, group int
	what            any
}

// before orders events by time, then by the order they were scheduled:
// a total order, so the run's order of events is the same for any heap.
func (e *event) before(f *event) bool { return e.at < f.at || e.at == f.at && e.seq < f.seq }

// eventQueue is a 4-ary min-heap of events by value: comparing two
// events reads the slice, not two pointers to events scattered over the
// heap, which a queue of millions of events would miss the cache on. An
// event is 48 bytes, so what a sift costs is mostly moving events: four
// children a node halve the levels a binary heap has, the four sit side
// by side in memory, and a sift moves each event it passes once (into
// the hole it walks down or up), not twice as a swap does.
type eventQueue []event

// arity is the children of each node of the heap.
const arity = 4

func (q eventQueue) Len() int { return len(q) }

func (q *eventQueue) push(e event) {
	*q = append(*q, event{})
	h := *q
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / arity
		if !e.before(&h[parent]) {
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = e
}

// pop removes the earliest event. REQUIRES: the queue is not empty.
func (q *eventQueue) pop() event {
	h := *q
	top := h[0]
	last := len(h) - 1
	e := h[last]
	h[last] = event{} // let the collector have what it referred to
	h = h[:last]
	if len(h) > 0 {
		i := 0
		for {
			first := arity*i + 1
			if first >= len(h) {
				break
			}
			least := first
			for c := first + 1; c < first+arity && c < len(h); c++ {
				if h[c].before(&h[least]) {
					least = c
				}
			}
			if !h[least].before(&e) {
				break
			}
			h[i] = h[least]
			i = least
		}
		h[i] = e
	}
	*q = h
	return top
}

// at schedules e after delay.
func (s *Sim) at(delay time.Duration, e eventSpec) {
	s.seq++
	ev := event{at: s.now + delay, seq: s.seq, to: int32(e.to), from: int32(e.from), group: int32(e.group), what: e.what}
	if e.to >= 0 {
		ev.epoch = int32(s.nodes[e.to].epoch)
	}
	s.queue.push(ev)
}

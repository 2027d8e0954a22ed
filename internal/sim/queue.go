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
// a total order, so the run's order of events is the same for any queue.
func (e *event) before(f *event) bool { return e.at < f.at || e.at == f.at && e.seq < f.seq }

// eventQueue is a calendar queue (R. Brown, 1988): time is cut into
// buckets of about a millisecond, and a ring holds, unordered, the events
// of the buckets of the next second; only the current bucket's events are
// kept in order, in a heap. A run's queue holds millions of events
// (several timers a node), and a heap of them all missed the cache at
// every level of every pop: 13% of a 10^6-node run's CPU. Most are due
// within a second and a bit (deliveries within 0.3 s, the overlay's tick
// each second: 95% of them at 10^4 nodes), so a push is an append and a
// pop works in a heap of one millisecond's events, which the cache holds.
// Events due later (repair ticks, anti-entropy) wait in a heap of their
// own until their bucket comes. The ring is no longer than the tick: its
// arrays keep about a bucket's worth of room each, so its memory grows
// with its reach.
type eventQueue struct {
	// soon holds the events of bucket cur (and any due before it).
	soon eventHeap
	cur  int64
	// ring[b mod ringBuckets] holds the events of bucket b, for cur < b <
	// cur+ringBuckets; inRing counts them. It is made on the first push.
	ring   [][]event
	inRing int
	// later holds the events that were beyond the ring when pushed.
	later eventHeap
}

const (
	// bucketShift makes a bucket 2^20 ns long, about a millisecond: at
	// 10^6 nodes a few thousand events, which fit the cache.
	bucketShift = 20
	// ringBuckets is the ring's reach, 2^10 buckets, about 1.07 s: the
	// overlay's one-second tick falls within it.
	ringBuckets = 1 << 10
)

func bucketOf(at time.Duration) int64 { return int64(at) >> bucketShift }

func (q *eventQueue) Len() int { return len(q.soon) + q.inRing + len(q.later) }

func (q *eventQueue) push(e event) {
	b := bucketOf(e.at)
	switch {
	case b <= q.cur:
		q.soon.push(e)
	case b-q.cur < ringBuckets:
		if q.ring == nil {
			q.ring = make([][]event, ringBuckets)
		}
		slot := &q.ring[b&(ringBuckets-1)]
		*slot = append(*slot, e)
		q.inRing++
	default:
		q.later.push(e)
	}
}

// pop removes the earliest event. REQUIRES: the queue is not empty.
func (q *eventQueue) pop() event {
	for len(q.soon) == 0 {
		q.advance()
	}
	return q.soon.pop()
}

// advance makes the next bucket the current one, or, when the ring is
// empty, the bucket of the earliest later event. REQUIRES: soon is empty
// and the queue is not.
func (q *eventQueue) advance() {
	if q.inRing == 0 {
		q.cur = bucketOf(q.later[0].at)
	} else {
		q.cur++
		slot := &q.ring[q.cur&(ringBuckets-1)]
		n := len(*slot)
		// The emptied heap's array goes to the slot, which will hold a
		// bucket a second on, of about the size this one had: an array
		// far larger than that is let go, so that one busy moment does
		// not leave every slot holding its size.
		spare := q.soon[:0]
		if cap(spare) > 4*n+64 {
			spare = nil
		}
		q.soon, *slot = *slot, spare
		q.inRing -= n
		q.soon.heapify()
	}
	for len(q.later) > 0 && bucketOf(q.later[0].at) <= q.cur {
		q.soon.push(q.later.pop())
	}
}

// eventHeap is a 4-ary min-heap of events by value: comparing two
// events reads the slice, not two pointers to events scattered over the
// heap. An event is 48 bytes, so what a sift costs is mostly moving
// events: four children a node halve the levels a binary heap has, the
// four sit side by side in memory, and a sift moves each event it passes
// once (into the hole it walks down or up), not twice as a swap does.
type eventHeap []event

// arity is the children of each node of the heap.
const arity = 4

func (h *eventHeap) push(e event) {
	*h = append(*h, event{})
	q := *h
	i := len(q) - 1
	for i > 0 {
		parent := (i - 1) / arity
		if !e.before(&q[parent]) {
			break
		}
		q[i] = q[parent]
		i = parent
	}
	q[i] = e
}

// pop removes the earliest event. REQUIRES: the heap is not empty.
func (h *eventHeap) pop() event {
	q := *h
	top := q[0]
	last := len(q) - 1
	e := q[last]
	q[last] = event{} // let the collector have what it referred to
	q = q[:last]
	if len(q) > 0 {
		q.down(0, e)
	}
	*h = q
	return top
}

// heapify orders events appended in any order into a heap.
func (h eventHeap) heapify() {
	if len(h) < 2 {
		return
	}
	for i := (len(h) - 2) / arity; i >= 0; i-- {
		h.down(i, h[i])
	}
}

// down places e, taken out of slot i, at or below i.
func (h eventHeap) down(i int, e event) {
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

// at schedules e after delay.
func (s *Sim) at(delay time.Duration, e eventSpec) {
	s.seq++
	ev := event{at: s.now + delay, seq: s.seq, to: int32(e.to), from: int32(e.from), group: int32(e.group), what: e.what}
	if e.to >= 0 {
		ev.epoch = int32(s.nodes[e.to].epoch)
	}
	s.queue.push(ev)
}

package sim

import "time"

// event is a message in flight or a timer, held by value in the queue.
type event struct {
	at   time.Duration
	seq  int
	to   int
	from int
	// group is the group a message or a timer belongs to; epoch is the
	// incarnation of node to that it was meant for.
	group, epoch int
	msg          any // a hyparview.Message, a plumtree.Message or a transfer
	timer        any // a topic.Timer, a topic.Measured or a local action
}

// before orders events by time, then by the order they were scheduled:
// a total order, so the run's order of events is the same for any heap.
func (e *event) before(f *event) bool { return e.at < f.at || e.at == f.at && e.seq < f.seq }

// eventQueue is a binary min-heap of events by value: comparing two
// events reads the slice, not two pointers to events scattered over the
// heap, which a queue of millions of events would miss the cache on.
type eventQueue []event

func (q eventQueue) Len() int { return len(q) }

func (q *eventQueue) push(e event) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].before(&h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

// pop removes the earliest event. REQUIRES: the queue is not empty.
func (q *eventQueue) pop() event {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = event{} // let the collector have what it referred to
	h = h[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].before(&h[least]) {
			least = l
		}
		if r < len(h) && h[r].before(&h[least]) {
			least = r
		}
		if least == i {
			break
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
	*q = h
	return top
}

func (s *Sim) at(delay time.Duration, e event) {
	s.seq++
	e.at, e.seq = s.now+delay, s.seq
	if e.to >= 0 {
		e.epoch = s.nodes[e.to].epoch
	}
	s.queue.push(e)
}

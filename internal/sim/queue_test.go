package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// queueDelay draws a delay for each place an event can go: some within
// the current bucket, most within the ring's reach, some beyond it, and,
// now and then, a gap longer than the ring, which the queue jumps. For
// the delays of a run, see runDelay.
func queueDelay(rng *rand.Rand) time.Duration {
	switch rng.IntN(10) {
	case 0:
		return time.Duration(rng.IntN(8))
	case 1, 2, 3, 4, 5:
		return time.Duration(rng.Int64N(int64(300 * time.Millisecond)))
	case 6, 7:
		return time.Second + time.Duration(rng.IntN(3))
	case 8:
		return time.Duration(rng.Int64N(int64(30 * time.Second)))
	default:
		return time.Duration(rng.Int64N(int64(10 * time.Minute)))
	}
}

// TestQueueOrder: however pushes and pops interleave, events come out by
// time, then in the order they were scheduled, from the calendar queue
// and from the heap alike.
func TestQueueOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var q eventQueue
	var h eventHeap
	var held []event
	seq := 0
	var now time.Duration
	for step := range 50000 {
		if q.Len() != len(held) || len(h) != len(held) {
			t.Fatalf("step %d: the queue holds %d and the heap %d, want %d", step, q.Len(), len(h), len(held))
		}
		// Phases of growth and of draining, so that the queue also
		// empties its ring and jumps to its later events.
		push := rng.IntN(3) > 0
		if step%10000 >= 5000 {
			push = !push
		}
		if len(held) == 0 || push {
			seq++
			e := event{at: now + queueDelay(rng), seq: seq}
			q.push(e)
			h.push(e)
			held = append(held, e)
			continue
		}
		slices.SortFunc(held, func(a, b event) int {
			if a.before(&b) {
				return -1
			}
			return 1
		})
		for _, got := range []event{q.pop(), h.pop()} {
			if got.at != held[0].at || got.seq != held[0].seq {
				t.Fatalf("step %d: popped (%v, %d), want (%v, %d)", step, got.at, got.seq, held[0].at, held[0].seq)
			}
		}
		now = held[0].at
		held = held[1:]
	}
}

// TestHeapify: events appended in any order come out of a heapified
// heap in order.
func TestHeapify(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for n := range 40 {
		h := make(eventHeap, n)
		for i := range h {
			h[i] = event{at: time.Duration(rng.IntN(5)), seq: i}
		}
		h.heapify()
		last := event{at: -1}
		for len(h) > 0 {
			e := h.pop()
			if e.before(&last) {
				t.Fatalf("n %d: (%v, %d) came after (%v, %d)", n, e.at, e.seq, last.at, last.seq)
			}
			last = e
		}
	}
}

// runDelay draws a delay as a 10^4-node run's are spread (measured):
// 71% of them deliveries within 0.27 s, 23% the overlay's one-second
// tick, 5% the repair tick of 5 s and less than 1% anti-entropy's 30 s.
func runDelay(rng *rand.Rand) time.Duration {
	ms := func(lo, hi int64) time.Duration {
		return time.Duration(lo+rng.Int64N(hi-lo)) * time.Millisecond
	}
	switch p := rng.IntN(1000); {
	case p < 710:
		return ms(8, 268)
	case p < 940:
		return ms(1000, 1001)
	case p < 994:
		return ms(4000, 8000)
	default:
		return ms(8000, 68000)
	}
}

// BenchmarkQueue compares the calendar queue with the heap it replaced
// on a run's pattern (the classic hold model): a million events pending,
// each pop followed by a push of one due a run's delay later. Compare
// the two sub-benchmarks' ns/op as a ratio.
func BenchmarkQueue(b *testing.B) {
	const pending = 1_000_000
	hold := func(b *testing.B, push func(event), pop func() event) {
		rng := rand.New(rand.NewPCG(3, 3))
		for i := range pending {
			push(event{at: runDelay(rng), seq: i})
		}
		seq := pending
		for b.Loop() {
			e := pop()
			seq++
			push(event{at: e.at + runDelay(rng), seq: seq})
		}
	}
	b.Run("calendar", func(b *testing.B) {
		var q eventQueue
		hold(b, q.push, q.pop)
	})
	b.Run("heap", func(b *testing.B) {
		var h eventHeap
		hold(b, h.push, h.pop)
	})
}

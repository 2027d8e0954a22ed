package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestQueueOrder: however pushes and pops interleave, events come out by
// time, then in the order they were scheduled.
func TestQueueOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var q eventQueue
	var held []event
	seq := 0
	last := event{at: -1}
	for step := range 20000 {
		if q.Len() == 0 || rng.IntN(3) > 0 {
			seq++
			e := event{at: last.at + time.Duration(rng.IntN(8)), seq: seq}
			q.push(e)
			held = append(held, e)
			continue
		}
		slices.SortFunc(held, func(a, b event) int {
			if a.before(&b) {
				return -1
			}
			return 1
		})
		got := q.pop()
		if got.at != held[0].at || got.seq != held[0].seq {
			t.Fatalf("step %d: popped (%v, %d), want (%v, %d)", step, got.at, got.seq, held[0].at, held[0].seq)
		}
		held = held[1:]
		last = got
	}
}

package sim

import (
	"testing"
	"time"

	"hearsay/internal/group"
)

// TestMaxSkewIsTheNodes: the simulator refuses entries from the future as
// far ahead as the node does (the simulator may not import group).
func TestMaxSkewIsTheNodes(t *testing.T) {
	if got := DefaultConfig(1, 1).MaxSkew; got != group.MaxSkew {
		t.Fatalf("the simulator's MaxSkew is %v, the node's %v", got, group.MaxSkew)
	}
}

// TestSkewedClocksConverge: with clocks up to 8 minutes off each way, a
// fast node's posts are refused where clocks are slow — pushed and synced
// — and yet every post reaches every node once its time comes; with
// clocks a minute apart none is refused.
func TestSkewedClocksConverge(t *testing.T) {
	c := DefaultConfig(100, 30)
	c.Skew = 8 * time.Minute
	r := New(c).Run()
	if r.Delivery != 1 || r.Future == 0 {
		t.Fatalf("clocks 8 minutes off: delivery %v, %d copies refused as from the future", r.Delivery, r.Future)
	}
	c.Skew = time.Minute
	if r := New(c).Run(); r.Delivery != 1 || r.Future != 0 {
		t.Fatalf("clocks a minute off: delivery %v, %d copies refused", r.Delivery, r.Future)
	}
}

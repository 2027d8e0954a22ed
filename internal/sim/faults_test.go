package sim

import (
	"flag"
	"testing"
	"time"
)

var faultSeeds = flag.Int("sim.fault-seeds", 300, "seeds of TestFaultSeeds (docs/reliability.md reports 10,000: hearsay sim faults)")

// TestFaultSeeds runs seeds of random faults with every invariant checked
// after every event; a failure names the seed to replay.
func TestFaultSeeds(t *testing.T) {
	rep := RunFaults(50, 20, *faultSeeds, 1, time.Now)
	for _, v := range rep.Violations {
		t.Errorf("%s (replay: hearsay sim faults --nodes 50 --posts 20 --from %d --seeds 1)", v, v.Seed)
	}
	t.Logf("%d seeds of 50 nodes, %d events, %d copies refused as from the future, %d violations, in %v",
		rep.Seeds, rep.Events, rep.Future, len(rep.Violations), rep.Took.Round(time.Millisecond))
}

// A broken invariant is caught: a store that loses a post is reported.
func TestFaultCheckCatchesLoss(t *testing.T) {
	s := New(FaultConfig(20, 5, 7))
	s.Run()
	if len(s.violations) != 0 {
		t.Fatalf("seed 7 broke an invariant: %v", s.violations)
	}
	for i, n := range s.nodes {
		if len(n.in) == 0 || n.in[0].store.len() == 0 {
			continue
		}
		n.in[0].store.held = n.in[0].store.held[1:]
		s.checkNode(i)
		if len(s.violations) != 1 {
			t.Fatalf("a post removed from node %d's store: violations %v", i, s.violations)
		}
		return
	}
	t.Fatal("no node holds a post")
}

package hyparview

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// sharedSet makes the driver's test of shared peers from a list.
func sharedSet(ps ...PeerID) func(PeerID) bool {
	return func(p PeerID) bool { return slices.Contains(ps, p) }
}

func TestSharedPassivePeerReplacesAFasterUnsharedNeighbour(t *testing.T) {
	// n2 (60 ms) is the slowest neighbour; "far" is shared and slower
	// still, but its link is there already, so it counts a quarter.
	s := fullView(t, "s", []time.Duration{ms(10), ms(20), ms(60), ms(30), ms(40)}, map[PeerID]time.Duration{"far": ms(100)})
	for _, o := range optimizeTick(s) {
		if m, ok := o.(Send); ok {
			t.Fatalf("not shared, 100 ms for 60 ms: %v", m)
		}
	}
	s.Shared(sharedSet("far"))
	if out := sends(optimizeTick(s)); !slices.Equal(out, []string{"->far hyparview.Optimize{100ms}"}) {
		t.Fatalf("shared, 100 ms (25 weighed) for 60 ms: %q", out)
	}
	// A shared peer much slower than the neighbour is not worth it.
	s = fullView(t, "s", []time.Duration{ms(10), ms(20), ms(60), ms(30), ms(40)}, map[PeerID]time.Duration{"far": ms(130)})
	s.Shared(sharedSet("far"))
	for _, o := range optimizeTick(s) {
		if m, ok := o.(Send); ok {
			t.Fatalf("shared, 130 ms (32.5 weighed) for 60 ms: %v", m)
		}
	}
}

func TestSharedNeighbourIsTradedLast(t *testing.T) {
	// n2 is the slowest, but shared: n4, the slowest unshared one, goes.
	s := fullView(t, "s", []time.Duration{ms(200), ms(20), ms(90), ms(30), ms(40)}, map[PeerID]time.Duration{"fast": ms(10)})
	s.Shared(sharedSet("n2"))
	optimizeTick(s)
	out := sends(s.Step(Receive{From: "fast", Msg: OptimizeReply{Accept: true}}))
	if want := []string{"->n4 hyparview.Disconnect{}", "down n4", "up fast"}; !slices.Equal(out, want) {
		t.Fatalf("got %q\nwant %q", out, want)
	}
	// An offer from a shared peer is weighed the same way.
	r := fullView(t, "r", []time.Duration{ms(10), ms(20), ms(60), ms(30), ms(40)}, nil)
	r.Shared(sharedSet("i"))
	if out := sends(r.Step(Receive{From: "i", Msg: Optimize{RTT: ms(100)}})); len(out) == 0 || out[len(out)-1] != "->i hyparview.OptimizeReply{true n2}" {
		t.Fatalf("a shared offer of 100 ms against 60 ms: %q", out)
	}
}

func TestRefillAsksASharedPeerFirst(t *testing.T) {
	for seed := range uint64(20) {
		s := newState("s", seed)
		s.Shared(sharedSet("p7"))
		for i := range 10 {
			s.addPassive(PeerID(fmt.Sprint("p", i)))
		}
		s.Step(Receive{From: "a", Msg: Neighbor{}})
		s.Step(Receive{From: "b", Msg: Neighbor{}})
		if out := sends(s.Step(Receive{From: "a", Msg: Disconnect{}})); len(out) != 2 || out[1] != "->p7 hyparview.Neighbor{false}" {
			t.Fatalf("seed %d: %q", seed, out)
		}
	}
}

func TestSuggestEntersThePassiveView(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PassiveSize = 3
	for seed := range uint64(20) {
		s := New(cfg, "s", newState("s", seed).rng)
		s.Shared(sharedSet("x", "y"))
		s.Step(Receive{From: "a", Msg: Neighbor{}})
		for _, p := range []PeerID{"x", "b", "c"} {
			s.addPassive(p)
		}
		s.Step(Suggest{Peer: "y"})
		if p := s.Passive(); len(p) != 3 || !slices.Contains(p, "x") || !slices.Contains(p, "y") {
			t.Fatalf("seed %d: a full passive view lost a shared peer, not an unshared one: %v", seed, p)
		}
		for _, p := range []PeerID{"s", "a", "y"} {
			s.Step(Suggest{Peer: p})
		}
		if p, a := s.Passive(), s.Active(); len(p) != 3 || slices.Contains(p, "s") || slices.Contains(p, "a") || len(a) != 1 {
			t.Fatalf("seed %d: suggesting itself, a neighbour or a passive peer changed the views: active %v passive %v", seed, a, p)
		}
	}
}

func TestSharedPeerMayReplaceTheUnbiasedNeighbour(t *testing.T) {
	// n0, the oldest unbiased neighbour and the slowest, is kept against
	// a peer that is not shared, but not against a shared one.
	s := fullView(t, "s", []time.Duration{ms(200), ms(20), ms(30), ms(35), ms(40)}, map[PeerID]time.Duration{"p": ms(60)})
	for _, o := range optimizeTick(s) {
		if m, ok := o.(Send); ok {
			t.Fatalf("the unbiased neighbour traded for a peer not shared: %v", m)
		}
	}
	s.Shared(sharedSet("p"))
	optimizeTick(s)
	out := sends(s.Step(Receive{From: "p", Msg: OptimizeReply{Accept: true}}))
	if want := []string{"->n0 hyparview.Disconnect{}", "down n0", "up p"}; !slices.Equal(out, want) {
		t.Fatalf("got %q\nwant %q", out, want)
	}
}

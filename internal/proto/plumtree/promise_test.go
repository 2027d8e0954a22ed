package plumtree

import (
	"fmt"
	"testing"
)

// broken lists the Broken outputs.
func broken(out []Output) []Broken {
	var bs []Broken
	for _, o := range out {
		if b, ok := o.(Broken); ok {
			bs = append(bs, b)
		}
	}
	return bs
}

// TestBrokenPromises: an announcer a Graft asked is reported when it does
// not send the message within PromiseTimeout, even if another announcer
// did; one that sends it, late or as a duplicate, or holds it back for
// admission, is not; a neighbour that goes down owes nothing; and a peer
// that leaves several grafts unanswered together is reported once.
func TestBrokenPromises(t *testing.T) {
	announce := func(s *State, from PeerID, ids ...MessageID) {
		var anns []Announcement
		for _, i := range ids {
			anns = append(anns, Announcement{ID: i})
		}
		s.Step(Receive{From: from, Msg: IHave{Announced: anns}})
	}
	fire := func(s *State, k TimerKind, i MessageID) []Output {
		return s.Step(TimerFired{Timer: Timer{Kind: k, ID: i}})
	}

	// w announces 9 and is grafted; 9 comes from h after the retry, and
	// w never sends it: w broke its promise, h kept none it made.
	s := node(DefaultConfig(), "w", "h")
	announce(s, "w", id(9))
	announce(s, "h", id(9))
	fire(s, GraftTimer, id(9)) // asks w
	fire(s, GraftTimer, id(9)) // asks h
	s.Step(Receive{From: "h", Msg: Gossip{ID: id(9), Payload: []byte("x")}})
	if got := broken(fire(s, PromiseTimer, id(9))); fmt.Sprint(got) != fmt.Sprint([]Broken{{Peer: "w", ID: id(9)}}) {
		t.Fatalf("w's promise: %v", got)
	}
	if got := broken(fire(s, PromiseTimer, id(9))); len(got) != 0 {
		t.Fatalf("h's promise, kept: %v", got)
	}

	// Kept: a late copy (a duplicate), and one held back for admission.
	s = node(DefaultConfig(), "a", "b")
	announce(s, "a", id(1))
	announce(s, "b", id(2))
	fire(s, GraftTimer, id(1))
	fire(s, GraftTimer, id(2))
	s.Step(Receive{From: "c", Msg: Gossip{ID: id(1), Payload: []byte("x")}})
	s.Step(Receive{From: "a", Msg: Gossip{ID: id(1), Payload: []byte("x")}})
	s.Step(Arrived{From: "b", ID: id(2)})
	for _, i := range []MessageID{id(1), id(2)} {
		if got := broken(fire(s, PromiseTimer, i)); len(got) != 0 {
			t.Fatalf("kept promise for %x: %v", i[:1], got)
		}
	}

	// Gone: a neighbour down owes nothing.
	s = node(DefaultConfig(), "a")
	announce(s, "a", id(1))
	fire(s, GraftTimer, id(1))
	s.Step(NeighborDown{Peer: "a"})
	if got := broken(fire(s, PromiseTimer, id(1))); len(got) != 0 {
		t.Fatalf("a neighbour gone: %v", got)
	}

	// A stall: three grafts to one eager peer left unanswered make one
	// report; a promise made after it can break again.
	s = node(DefaultConfig(), "a")
	announce(s, "a", id(1), id(2), id(3))
	for _, i := range []MessageID{id(1), id(2), id(3)} {
		fire(s, GraftTimer, i)
	}
	var got []Broken
	for _, i := range []MessageID{id(1), id(2), id(3)} {
		got = append(got, broken(fire(s, PromiseTimer, i))...)
	}
	if fmt.Sprint(got) != fmt.Sprint([]Broken{{Peer: "a", ID: id(1)}}) {
		t.Fatalf("a stall: %v", got)
	}
	announce(s, "a", id(4))
	fire(s, GraftTimer, id(4))
	if got := broken(fire(s, PromiseTimer, id(4))); fmt.Sprint(got) != fmt.Sprint([]Broken{{Peer: "a", ID: id(4)}}) {
		t.Fatalf("after the stall: %v", got)
	}

	// Bounded: beyond MaxMissing promises, a graft records none.
	cfg := DefaultConfig()
	cfg.MaxMissing = 2
	s = node(cfg, "a")
	announce(s, "a", id(1), id(2))
	fire(s, GraftTimer, id(1))
	fire(s, GraftTimer, id(2))
	announce(s, "a", id(3))
	fire(s, GraftTimer, id(1)) // gives 1 up: no announcer left
	fire(s, GraftTimer, id(2))
	fire(s, GraftTimer, id(3))
	if len(s.promises) != 2 {
		t.Fatalf("%d promises, bound 2", len(s.promises))
	}
}

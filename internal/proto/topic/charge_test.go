package topic

import (
	"fmt"
	"testing"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
)

// fire steps s with a timer of the broadcast at now.
func fire(s *State, now time.Time, k plumtree.TimerKind, id plumtree.MessageID) []Output {
	return s.Step(now, TimerFired{Timer: Timer{Broadcast: plumtree.Timer{Kind: k, ID: id}}})
}

// TestBrokenPromiseIsCharged: a neighbour that announces an entry and
// leaves the graft for it unanswered is charged a broken promise (score
// part promises); one whose copy comes, even one admission then refuses,
// is not; nor is a peer banned meanwhile.
func TestBrokenPromiseIsCharged(t *testing.T) {
	s := newState("s")
	neighbour(s, "w")
	neighbour(s, "h")
	nine := plumtree.MessageID{9}
	s.Step(t0, Receive{From: "w", Broadcast: plumtree.IHave{Announced: []plumtree.Announcement{{ID: nine}}}})
	expect(t, "the graft", fire(s, t0, plumtree.GraftTimer, nine), "w <- Graft")
	expect(t, "the promise due", fire(s, t0.Add(3*time.Second), plumtree.PromiseTimer, nine), "charge w broken-promise (promises)")

	// h sends its copy, which admission refuses: h kept its promise.
	ten := plumtree.MessageID{10}
	s.Step(t0, Receive{From: "h", Broadcast: plumtree.IHave{Announced: []plumtree.Announcement{{ID: ten}}}})
	expect(t, "the graft", fire(s, t0, plumtree.GraftTimer, ten), "h <- Graft")
	push := plumtree.Gossip{ID: ten, Payload: []byte("x")}
	expect(t, "h's copy", s.Step(t0, Receive{From: "h", Broadcast: push}), "admit h 0a")
	s.Step(t0, Admitted{From: "h", Msg: push, OK: false})
	expect(t, "h's promise due", fire(s, t0.Add(3*time.Second), plumtree.PromiseTimer, ten), "")

	// w, banned before its promise is due, is not charged again.
	eleven := plumtree.MessageID{11}
	s.Step(t0, Receive{From: "w", Broadcast: plumtree.IHave{Announced: []plumtree.Announcement{{ID: eleven}}}})
	fire(s, t0, plumtree.GraftTimer, eleven)
	s.Step(t0, Ban{Peer: "w", Until: t0.Add(time.Hour)})
	expect(t, "a banned peer's promise", fire(s, t0.Add(3*time.Second), plumtree.PromiseTimer, eleven), "")
}

// TestDemotedPeerIsNotPromoted: a peer below the gossip threshold
// (Demote) is not asked from the passive view when a neighbour goes, nor
// picked there by anti-entropy, until DemoteFor has passed.
func TestDemotedPeerIsNotPromoted(t *testing.T) {
	for _, demote := range []bool{false, true} {
		s := newState("s")
		neighbour(s, "a")
		neighbour(s, "low")
		s.Step(t0, Receive{From: "low", Overlay: hyparview.Disconnect{}}) // low goes passive
		if demote {
			s.Step(t0, Demote{Peer: "low"})
		}
		want := "down a; low <- Neighbor"
		if demote {
			want = "down a; find contacts" // isolated: nobody to ask
		}
		expect(t, "a neighbour gone", s.Step(t0, PeerDown{Peer: "a"}), want)
		for range 8 {
			if got := show(s.Step(t0, Round{Candidates: []PeerID{"c"}})); demote && got != "reconcile c" {
				t.Fatalf("a round with only a demoted passive peer: %q", got)
			}
		}
	}
	s := newState("s")
	s.Step(t0, Demote{Peer: "low"})
	if !s.Demoted("low", t0.Add(9*time.Minute)) || s.Demoted("low", t0.Add(10*time.Minute)) {
		t.Fatalf("a demotion holds for DemoteFor")
	}
}

// charges lists the Charge outputs.
func charges(outs []Output) []string {
	var cs []string
	for _, o := range outs {
		if c, ok := o.(Charge); ok {
			cs = append(cs, fmt.Sprintf("%s %s (%s)", c.Peer, c.Fault, c.Fault.Part()))
		}
	}
	return cs
}

// TestFloodsAreCharged: a peer that pushes more copies of entries held
// here than MaxDuplicates (and one for each entry new here in the window
// or the one before) within a FloodWindow is charged a duplicate flood
// (score part flood), once per bound's worth; one that pushes more than
// MaxFuture entries dated beyond the allowed clock skew, a future flood; a
// new window starts the counts again.
func TestFloodsAreCharged(t *testing.T) {
	s := newState("s")
	neighbour(s, "a")
	neighbour(s, "b")
	old := plumtree.MessageID{1}
	s.Step(t0, Broadcast{ID: old, Payload: []byte("x")})
	dups := func(at time.Time, n int) (cs []string) {
		for range n {
			cs = append(cs, charges(s.Step(at, Receive{From: "a", Broadcast: plumtree.Gossip{ID: old, Payload: []byte("x")}}))...)
		}
		return cs
	}
	if cs := dups(t0, 16); len(cs) != 0 {
		t.Fatalf("16 duplicates: %v", cs)
	}
	if cs := dups(t0, 1); fmt.Sprint(cs) != "[a duplicate-flood (flood)]" {
		t.Fatalf("the 17th: %v", cs)
	}
	// Each entry new here, in this window or the one before, allows one
	// more: five new, 16 + 5.
	for k := range 5 {
		push := plumtree.Gossip{ID: plumtree.MessageID{byte(10 + k)}, Payload: []byte("y")}
		s.Step(t0, Receive{From: "b", Broadcast: push})
		s.Step(t0, Admitted{From: "b", Msg: push, OK: true})
	}
	if cs := dups(t0, 21); len(cs) != 0 {
		t.Fatalf("21 duplicates with 5 new entries: %v", cs)
	}
	if cs := dups(t0, 1); len(cs) != 1 {
		t.Fatalf("the 22nd: %v", cs)
	}
	// The next window: the count starts again, and the five still count.
	if cs := dups(t0.Add(10*time.Second), 21); len(cs) != 0 {
		t.Fatalf("21 duplicates in the next window: %v", cs)
	}
	if cs := dups(t0.Add(10*time.Second), 1); len(cs) != 1 {
		t.Fatalf("the 22nd in the next window: %v", cs)
	}
	// Two windows on, they do not.
	if cs := dups(t0.Add(20*time.Second), 17); len(cs) != 1 {
		t.Fatalf("17 duplicates two windows on: %v", cs)
	}

	var cs []string
	for k := range 51 {
		push := plumtree.Gossip{ID: plumtree.MessageID{byte(100 + k)}, Payload: []byte("z")}
		s.Step(t0, Receive{From: "b", Broadcast: push})
		cs = append(cs, charges(s.Step(t0, Admitted{From: "b", Msg: push, Future: true}))...)
	}
	if fmt.Sprint(cs) != "[b future-flood (flood)]" {
		t.Fatalf("51 pushes from the future: %v", cs)
	}
}

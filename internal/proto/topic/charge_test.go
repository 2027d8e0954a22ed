package topic

import (
	"testing"
	"time"

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

package topic

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
)

// t0 is the tests' clock origin.
var t0 = time.Unix(1_700_000_000, 0)

type payloads map[plumtree.MessageID][]byte

func (p payloads) Payload(id plumtree.MessageID) ([]byte, bool) { b, ok := p[id]; return b, ok }

func newState(self PeerID) *State {
	s := New(DefaultConfig(), self, rand.New(rand.NewPCG(1, 2)), payloads{})
	s.Step(t0, Start{})
	return s
}

// neighbour makes p a neighbour of s (it asks, s accepts).
func neighbour(s *State, p PeerID) {
	s.Step(t0, Receive{From: p, Overlay: hyparview.Neighbor{}})
}

// show prints outputs one a line, timers left out: "a <- Join",
// "reconcile a", "admit a 01", "deliver 01 from a".
func show(outs []Output) string {
	var lines []string
	for _, o := range outs {
		switch o := o.(type) {
		case Send:
			msg := any(o.Overlay)
			if o.Overlay == nil {
				msg = o.Broadcast
			}
			name := fmt.Sprintf("%T", msg)
			lines = append(lines, fmt.Sprintf("%s <- %s", o.To, name[strings.IndexByte(name, '.')+1:]))
		case NeighborUp:
			lines = append(lines, "up "+string(o.Peer))
		case NeighborDown:
			lines = append(lines, "down "+string(o.Peer))
		case Admit:
			lines = append(lines, fmt.Sprintf("admit %s %02x", o.From, o.Msg.ID[0]))
		case Deliver:
			lines = append(lines, fmt.Sprintf("deliver %02x from %s", o.ID[0], o.From))
		case Reconcile:
			lines = append(lines, "reconcile "+string(o.Peer))
		case FindContacts:
			lines = append(lines, "find contacts")
		case Measure:
			lines = append(lines, "measure "+string(o.Peer))
		case Charge:
			lines = append(lines, fmt.Sprintf("charge %s %s (%s)", o.Peer, o.Fault, o.Fault.Part()))
		}
	}
	return strings.Join(lines, "; ")
}

func expect(t *testing.T, what string, outs []Output, want string) {
	t.Helper()
	if got := show(outs); got != want {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestPushIsAdmittedBeforeForwarding: a pushed entry the broadcast has not
// seen goes to admission; only an admitted one is delivered and pushed on,
// and a refused one leaves no trace, so its next copy is admitted again.
func TestPushIsAdmittedBeforeForwarding(t *testing.T) {
	s := newState("s")
	neighbour(s, "a")
	neighbour(s, "b")
	push := plumtree.Gossip{ID: plumtree.MessageID{1}, Payload: []byte("x")}
	expect(t, "a push", s.Step(t0, Receive{From: "a", Broadcast: push}), "admit a 01")
	expect(t, "refused", s.Step(t0, Admitted{From: "a", Msg: push, OK: false}), "")
	expect(t, "pushed again", s.Step(t0, Receive{From: "b", Broadcast: push}), "admit b 01")
	expect(t, "admitted", s.Step(t0, Admitted{From: "b", Msg: push, OK: true}), "deliver 01 from b; a <- Gossip")
	expect(t, "a copy once seen", s.Step(t0, Receive{From: "a", Broadcast: push}), "a <- Prune")
}

// TestRoundPicks: anti-entropy picks a neighbour; with empty views a
// member synced with; with none, a candidate of the driver's; never a
// banned peer, nor itself.
func TestRoundPicks(t *testing.T) {
	s := newState("s")
	expect(t, "nobody known", s.Step(t0, Round{}), "")
	expect(t, "only itself offered", s.Step(t0, Round{Candidates: []PeerID{"s"}}), "")
	expect(t, "a candidate", s.Step(t0, Round{Candidates: []PeerID{"c"}}), "reconcile c")
	s.Step(t0, Ban{Peer: "c", Until: t0.Add(time.Minute)})
	expect(t, "a banned candidate", s.Step(t0, Round{Candidates: []PeerID{"c"}}), "")
	expect(t, "the ban expired", s.Step(t0.Add(time.Minute), Round{Candidates: []PeerID{"c"}}), "reconcile c")
	neighbour(s, "a")
	for range 20 {
		expect(t, "a neighbour", s.Step(t0, Round{Candidates: []PeerID{"c"}}), "reconcile a")
	}
	s.Step(t0, PeerDown{Peer: "a"})
	s.Step(t0, SyncDone{Peer: "m"}) // no neighbour: m is joined, and a member
	s.Step(t0, PeerDown{Peer: "m"})
	if len(s.Active()) != 0 || len(s.Passive()) != 0 {
		t.Fatalf("views %v %v", s.Active(), s.Passive())
	}
	expect(t, "a member", s.Step(t0, Round{Candidates: []PeerID{"c"}}), "reconcile m")
	s.Step(t0, SyncFailed{Peer: "m"})
	expect(t, "the member failed", s.Step(t0, Round{Candidates: []PeerID{"d"}}), "reconcile d")
}

// TestRoundReachesThePassiveView: one round in four, about, picks a
// passive peer.
func TestRoundReachesThePassiveView(t *testing.T) {
	s := newState("s")
	neighbour(s, "a")
	s.Step(t0, Receive{From: "a", Overlay: hyparview.ShuffleReply{Peers: []PeerID{"p", "q"}}})
	if len(s.Passive()) != 2 {
		t.Fatalf("passive %v", s.Passive())
	}
	passive := 0
	for range 400 {
		if out := show(s.Step(t0, Round{})); out != "reconcile a" {
			passive++
		}
	}
	if passive < 60 || passive > 140 {
		t.Fatalf("%d rounds of 400 picked a passive peer, want about 100", passive)
	}
}

// TestRoundFollowsThePreferredPeer: a peer of either view that the driver
// syncs with for another group this tick is picked; a preferred peer in
// neither view is ignored; with none preferred, a neighbour the driver
// links to for another group is picked.
func TestRoundFollowsThePreferredPeer(t *testing.T) {
	s := newState("s")
	for _, p := range []PeerID{"a", "b", "c"} {
		neighbour(s, p)
	}
	s.Step(t0, Receive{From: "a", Overlay: hyparview.ShuffleReply{Peers: []PeerID{"p", "q"}}})
	for range 50 {
		expect(t, "a preferred neighbour", s.Step(t0, Round{Prefer: []PeerID{"x", "b"}}), "reconcile b")
		expect(t, "a preferred passive peer", s.Step(t0, Round{Prefer: []PeerID{"q"}}), "reconcile q")
	}
	picked := map[string]int{}
	for range 400 {
		picked[show(s.Step(t0, Round{Prefer: []PeerID{"x"}}))]++
	}
	if picked["reconcile a"] < 60 || picked["reconcile b"] < 60 || picked["reconcile c"] < 60 {
		t.Fatalf("picks %v: a peer in no view changes nothing", picked)
	}
	// With nothing preferred, a neighbour linked for another group goes
	// first: the next group's round may follow it.
	s.Shared(func(p PeerID) bool { return p == "c" })
	picked = map[string]int{}
	for range 400 {
		picked[show(s.Step(t0, Round{}))]++
	}
	if picked["reconcile a"]+picked["reconcile b"] > 0 || picked["reconcile c"] < 260 {
		t.Fatalf("picks %v: want the shared neighbour c", picked)
	}
	expect(t, "preferred before shared", s.Step(t0, Round{Prefer: []PeerID{"a"}}), "reconcile a")
}

// TestMeetingAfterASync: a session that ended well joins the overlay
// through its peer when it has no neighbour, and meets the peer when it
// brought entries the broadcast had not and the peer is in neither view;
// otherwise it changes nothing.
func TestMeetingAfterASync(t *testing.T) {
	s := newState("s")
	expect(t, "no neighbour yet", s.Step(t0, SyncDone{Peer: "a"}), "up a; a <- Join")
	expect(t, "nothing new", s.Step(t0, SyncDone{Peer: "b"}), "")
	expect(t, "entries the broadcast had not", s.Step(t0, SyncDone{Peer: "b", Received: 3}), "up b; b <- Join")
	expect(t, "a neighbour already", s.Step(t0, SyncDone{Peer: "b", Received: 3}), "")
	s.Step(t0, Receive{From: "a", Overlay: hyparview.ShuffleReply{Peers: []PeerID{"p"}}})
	if !slices.Contains(s.Passive(), "p") {
		t.Fatalf("passive %v", s.Passive())
	}
	expect(t, "a passive peer: in this overlay already", s.Step(t0, SyncDone{Peer: "p", Received: 3}), "")
	if got := s.Members(); !slices.Equal(got, []PeerID{"a", "b", "p"}) {
		t.Fatalf("members %v", got)
	}
	s.Step(t0, Ban{Peer: "c", Until: t0.Add(time.Hour)})
	expect(t, "a banned peer", s.Step(t0, SyncDone{Peer: "c", Received: 3}), "")
	expect(t, "unreachable", s.Step(t0, SyncFailed{Peer: "b", Unreachable: true}), "down b")
}

// isolate makes s lose its last neighbour with nobody to ask.
func isolate(s *State, now time.Time, p PeerID) []Output {
	s.Step(now, Receive{From: p, Overlay: hyparview.Neighbor{}})
	return s.Step(now, PeerDown{Peer: p})
}

// TestIsolatedFallback: an isolated overlay meets a member synced with
// that is not a neighbour; with none, it asks for contacts, once at a time
// and once per IsolatedEvery, and meets the first contact found that is
// not a neighbour nor banned.
func TestIsolatedFallback(t *testing.T) {
	s := newState("s")
	expect(t, "isolated, nobody known", isolate(s, t0, "a"), "down a; find contacts")
	at := t0.Add(2 * time.Second)
	expect(t, "isolated, contacts not found yet", isolate(s, at, "a"), "down a")
	s.Step(at, Ban{Peer: "x", Until: at.Add(time.Hour)})
	expect(t, "found", s.Step(at, Found{Peers: []PeerID{"s", "x", "c", "d"}}), "up c; c <- Join")
	s.Step(at, SyncDone{Peer: "m"}) // a neighbour already: m is only remembered
	expect(t, "isolated, a member known", s.Step(at, PeerDown{Peer: "c"}), "down c; up m; m <- Join")
	at = at.Add(500 * time.Millisecond)
	expect(t, "within IsolatedEvery", isolate(s, at, "m"), "down m")
	at = at.Add(time.Second)
	expect(t, "after it", isolate(s, at, "a"), "down a; up m; m <- Join")
}

// TestBanCutsAPeerOff: a banned neighbour leaves the views and the
// broadcast, what it sends is ignored, nothing is sent to it when a
// shuffle names it again, and the ban ends at its time or when lifted.
func TestBanCutsAPeerOff(t *testing.T) {
	s := newState("s")
	neighbour(s, "a")
	neighbour(s, "b")
	expect(t, "the ban", s.Step(t0, Ban{Peer: "a", Until: t0.Add(time.Minute)}), "down a")
	expect(t, "its message", s.Step(t0, Receive{From: "a", Overlay: hyparview.Neighbor{High: true}}), "")
	expect(t, "its push", s.Step(t0, Receive{From: "a", Broadcast: plumtree.Gossip{ID: plumtree.MessageID{2}}}), "")
	expect(t, "a meeting", s.Step(t0, Meet{Peer: "a"}), "")
	later := t0.Add(time.Minute)
	expect(t, "after the ban", s.Step(later, Receive{From: "a", Overlay: hyparview.Neighbor{}}), "up a; a <- NeighborReply")
	s.Step(later, Ban{Peer: "a", Until: later.Add(time.Hour)})
	s.Step(later, Unban{Peer: "a"})
	expect(t, "lifted", s.Step(later, Meet{Peer: "a"}), "up a; a <- Join")
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestBansAreBounded: beyond MaxBans, the ban that ends first goes.
func TestBansAreBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxBans = 2
	s := New(cfg, "s", rand.New(rand.NewPCG(1, 2)), payloads{})
	s.Step(t0, Ban{Peer: "a", Until: t0.Add(time.Hour)})
	s.Step(t0, Ban{Peer: "b", Until: t0.Add(time.Minute)})
	s.Step(t0, Ban{Peer: "c", Until: t0.Add(time.Hour)})
	if s.Banned("b", t0) || !s.Banned("a", t0) || !s.Banned("c", t0) || s.Check() != nil {
		t.Fatalf("bans %v", s.bans)
	}
}

// TestLeaveTellsTheNeighbours.
func TestLeaveTellsTheNeighbours(t *testing.T) {
	s := newState("s")
	neighbour(s, "a")
	neighbour(s, "b")
	expect(t, "leave", s.Step(t0, Leave{}), "a <- Disconnect; b <- Disconnect")
}

func TestSuggestSkipsBannedAndDemotedPeers(t *testing.T) {
	s := newState("s")
	neighbour(s, "a")
	s.Step(t0, Ban{Peer: "banned", Until: t0.Add(time.Hour)})
	s.Step(t0, Demote{Peer: "demoted"})
	for _, p := range []PeerID{"s", "banned", "demoted", "linked"} {
		s.Step(t0, Suggest{Peer: p})
	}
	if p := s.Passive(); !slices.Equal(p, []PeerID{"linked"}) {
		t.Fatalf("passive view %v, want only the linked peer", p)
	}
}

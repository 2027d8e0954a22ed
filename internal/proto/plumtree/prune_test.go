package plumtree

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// at returns an id that reads as the fraction f of the id space, which
// decides whether it is a pruning token.
func at(f float64, tag byte) MessageID {
	var m MessageID
	v := uint64(f * (1 << 63) * 2)
	for i := range 8 {
		m[i] = byte(v >> (56 - 8*i))
	}
	m[31] = tag
	return m
}

func node(cfg Config, peers ...PeerID) *State {
	s := New(cfg, mapStore{})
	for _, p := range peers {
		s.Step(NeighborUp{Peer: p})
	}
	return s
}

func gossip(s *State, from PeerID, m MessageID) []Output {
	return s.Step(Receive{From: from, Msg: Gossip{ID: m, Payload: []byte("x"), Round: 1}})
}

func prunes(out []Output) []PeerID {
	var to []PeerID
	for _, o := range out {
		if s, ok := o.(Send); ok && s.Msg == (Prune{}) {
			to = append(to, s.To)
		}
	}
	return to
}

func TestOnlyTokensPrune(t *testing.T) {
	s := node(DefaultConfig(), "a", "b", "c", "d")
	high, low, low2 := at(0.9, 1), at(0.01, 2), at(0.02, 3)
	gossip(s, "a", high)
	gossip(s, "a", low)
	// Two messages in flight: a duplicate prunes only for an id in the
	// lower half of the id space.
	if out := gossip(s, "b", high); len(out) != 0 {
		t.Fatalf("a duplicate of a message that is no token: %v", out)
	}
	if got := prunes(gossip(s, "c", low)); !slices.Equal(got, []PeerID{"c"}) || !slices.Contains(s.Lazy(), "c") {
		t.Fatalf("a duplicate of a token: prunes %v, lazy %v", got, s.Lazy())
	}
	// One pruning wave at a time: low pruned here, so low2 does not.
	gossip(s, "a", low2)
	if out := gossip(s, "d", low2); len(out) != 0 {
		t.Fatalf("a second token within the window: %v", out)
	}
	// Once the others leave the window, low2 is alone and prunes.
	s.Step(TimerFired{Timer: Timer{Kind: WindowTimer, ID: high}})
	s.Step(TimerFired{Timer: Timer{Kind: WindowTimer, ID: low}})
	if got := prunes(gossip(s, "d", low2)); !slices.Equal(got, []PeerID{"d"}) {
		t.Fatalf("the only message in the window: prunes %v", got)
	}
}

func TestNoWindowPrunesEveryDuplicate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PruneWindow = 0
	s := node(cfg, "a", "b", "c")
	gossip(s, "a", at(0.9, 1))
	gossip(s, "a", at(0.8, 2))
	if got := prunes(gossip(s, "b", at(0.9, 1))); !slices.Equal(got, []PeerID{"b"}) {
		t.Fatalf("prunes %v, want b as in the paper", got)
	}
}

func TestGraftedLinkIsOnProbation(t *testing.T) {
	s := node(DefaultConfig(), "a", "b", "c")
	busy, late := at(0.1, 1), at(0.9, 2)
	gossip(s, "a", busy)
	s.Step(Receive{From: "b", Msg: Prune{}})
	s.Step(Receive{From: "c", Msg: Prune{}})
	// b announces late, no eager copy comes in time, and s grafts it.
	s.Step(Receive{From: "b", Msg: IHave{Announced: []Announcement{{ID: late, Round: 3}}}})
	s.Step(TimerFired{Timer: Timer{Kind: GraftTimer, ID: late}})
	// The eager copy came after all: the grafted link is the redundant
	// one, pruned though late is no token.
	gossip(s, "a", late)
	if got := prunes(gossip(s, "b", late)); !slices.Equal(got, []PeerID{"b"}) {
		t.Fatalf("a duplicate over a grafted link: prunes %v", got)
	}
	// A grafted link that delivers first is in the tree: off probation.
	next := at(0.95, 3)
	s.Step(Receive{From: "c", Msg: IHave{Announced: []Announcement{{ID: next, Round: 3}}}})
	s.Step(TimerFired{Timer: Timer{Kind: GraftTimer, ID: next}})
	gossip(s, "c", next)
	if out := gossip(s, "c", late); len(prunes(out)) != 0 {
		t.Fatalf("a duplicate over a link that delivered first: %v", out)
	}
}

func TestGraftPrefersAnEagerAnnouncer(t *testing.T) {
	s := node(DefaultConfig(), "a", "b", "c")
	s.Step(Receive{From: "b", Msg: Prune{}})
	s.Step(Receive{From: "c", Msg: Prune{}})
	first, second := at(0.5, 1), at(0.5, 2)
	s.Step(Receive{From: "c", Msg: IHave{Announced: []Announcement{{ID: first, Round: 2}}}})
	s.Step(TimerFired{Timer: Timer{Kind: GraftTimer, ID: first}})
	// Both missing after a cut: b announced second first, but c is eager
	// since the last graft, and asking it makes no new link.
	s.Step(Receive{From: "b", Msg: IHave{Announced: []Announcement{{ID: second, Round: 2}}}})
	s.Step(Receive{From: "c", Msg: IHave{Announced: []Announcement{{ID: second, Round: 4}}}})
	out := s.Step(TimerFired{Timer: Timer{Kind: GraftTimer, ID: second}})
	want := []Output{Send{To: "c", Msg: Graft{ID: second, Round: 4}},
		SetTimer{Timer: Timer{Kind: GraftTimer, ID: second}, After: 250 * time.Millisecond},
		SetTimer{Timer: Timer{Kind: PromiseTimer, ID: second}, After: 3 * time.Second}}
	if fmt.Sprint(out) != fmt.Sprint(want) || slices.Contains(s.Eager(), "b") {
		t.Fatalf("graft:\n got %v\nwant %v; eager %v", out, want, s.Eager())
	}
}

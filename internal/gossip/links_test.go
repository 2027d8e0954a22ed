package gossip

import (
	"slices"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/proto/topic"

	"github.com/libp2p/go-libp2p/core/peer"
)

// views is node g's active and passive views of group gid.
func views(g *Gossip, gid entry.ID) (active, passive []topic.PeerID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.groups[gid]
	if !ok {
		return nil, nil
	}
	return st.core.Active(), st.core.Passive()
}

// inViewsOf is the tests' check that node i holds node j in either view
// of group gid.
func inViewsOf(gs []*Gossip, id func(int) peer.ID) func(i, j int, gid entry.ID) bool {
	return func(i, j int, gid entry.ID) bool {
		a, p := views(gs[i], gid)
		return slices.Contains(a, topic.PeerID(id(j))) || slices.Contains(p, topic.PeerID(id(j)))
	}
}

// TestNewLinkSuggestsItsPeerToSharedGroups: a and b are each in group g2,
// in two overlays that never met (a with c, b with d). When b joins group
// g1 through a, the new link brings each the other's groups, and each
// becomes a candidate, or a neighbour, in the other's overlay of g2.
func TestNewLinkSuggestsItsPeerToSharedGroups(t *testing.T) {
	gs, in, g2 := linkInAnotherGroup(t, true)
	if !waitFor(5*time.Second, func() bool { return in(0, 1, g2) && in(1, 0, g2) }) {
		a0, p0 := views(gs[0], g2)
		a1, p1 := views(gs[1], g2)
		t.Fatalf("the link in g1 did not suggest its peers to g2: a's views %v %v, b's %v %v", a0, p0, a1, p1)
	}
	if !waitFor(5*time.Second, func() bool { return gs[0].Links() == 2 }) { // c in g2, b in g1 (and perhaps g2)
		t.Fatalf("a counts %d peers linked, want 2", gs[0].Links())
	}
}

// TestUnsharedLinksStayApart: with ShareLinks off, the same link in g1
// brings neither peer into the other's overlay of g2, and is still
// counted.
func TestUnsharedLinksStayApart(t *testing.T) {
	gs, in, g2 := linkInAnotherGroup(t, false)
	time.Sleep(2 * time.Second) // the shared run meets well within this
	if in(0, 1, g2) || in(1, 0, g2) {
		t.Fatal("a and b met in g2 with links unshared")
	}
	if !waitFor(5*time.Second, func() bool { return gs[0].Links() == 2 }) {
		t.Fatalf("a counts %d peers linked, want 2", gs[0].Links())
	}
}

// linkInAnotherGroup builds the setting of the two tests above: a (0) and
// b (1) in g2's two separate overlays, a with c (2) and b with d (3), then
// b joins g1 through a and the two link there. in(i, j, g) reports
// whether node i holds j in either view of g.
func linkInAnotherGroup(t *testing.T, share bool) (gs []*Gossip, in func(i, j int, gid entry.ID) bool, g2 entry.ID) {
	t.Helper()
	nw := newNetwork(t, 4, 1, 0, 0, 6)
	g1 := newAuthor(7).gid
	g2 = newAuthor(8).gid
	ms := []*memNode{newMemNode(g1), newMemNode(g1), newMemNode(g2), newMemNode(g2)}
	ms[0].also, ms[1].also = g2, g2
	cfg := DefaultConfig()
	cfg.ShareLinks = share
	for i, h := range nw.hosts {
		g := New(h, ms[i], cfg)
		t.Cleanup(g.Close)
		gs = append(gs, g)
	}
	id := func(i int) peer.ID { return nw.hosts[i].ID() }
	gs[0].Join(g2, id(2))
	gs[1].Join(g2, id(3))
	in = inViewsOf(gs, id)
	if !waitFor(5*time.Second, func() bool { return in(0, 2, g2) && in(1, 3, g2) }) {
		t.Fatal("the two overlays of g2 did not form")
	}
	if in(0, 1, g2) || in(1, 0, g2) {
		t.Fatal("a and b met in g2 before they linked in g1")
	}
	gs[1].Join(g1, id(0))
	if !waitFor(5*time.Second, func() bool { return in(0, 1, g1) && in(1, 0, g1) }) {
		t.Fatal("a and b did not link in g1")
	}
	return gs, in, g2
}

// TestGroupJoinedLaterIsAnnounced: a and b link in g1; then a joins g2,
// which b holds (with d), with no contact to meet there. The announcement
// over the link a has brings b into a's overlay of g2, and a into b's.
func TestGroupJoinedLaterIsAnnounced(t *testing.T) {
	nw := newNetwork(t, 3, 1, 0, 0, 6)
	g1, g2 := newAuthor(7).gid, newAuthor(8).gid
	ms := []*memNode{newMemNode(g1), newMemNode(g1), newMemNode(g2)}
	ms[0].also, ms[1].also = g2, g2
	var gs []*Gossip
	for i, h := range nw.hosts {
		g := New(h, ms[i], DefaultConfig())
		t.Cleanup(g.Close)
		gs = append(gs, g)
	}
	id := func(i int) peer.ID { return nw.hosts[i].ID() }
	in := inViewsOf(gs, id)
	gs[1].Join(g2, id(2))
	gs[1].Join(g1, id(0))
	if !waitFor(5*time.Second, func() bool { return in(0, 1, g1) && in(1, 2, g2) }) {
		t.Fatal("a and b did not link in g1, or b and d in g2")
	}
	gs[0].Join(g2, "")
	if !waitFor(5*time.Second, func() bool { return in(0, 1, g2) && in(1, 0, g2) }) {
		a0, p0 := views(gs[0], g2)
		a1, p1 := views(gs[1], g2)
		t.Fatalf("the link in g1 did not bring a's new group to b: a's views of g2 %v %v, b's %v %v", a0, p0, a1, p1)
	}
	// The exchange ends: a announced g2 and answered b's answer; b sent
	// its list over the new link, announced g1 to d, and answered a.
	time.Sleep(time.Second)
	if sent := [2]int64{gs[0].Stats().ControlByKind[kindHolds], gs[1].Stats().ControlByKind[kindHolds]}; sent[0] > 2 || sent[1] > 3 {
		t.Fatalf("Holds sent by a and b: %v, want at most 2 and 3", sent)
	}
}

package gossip

import (
	"maps"
	"slices"

	"hearsay/internal/proto/topic"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Links shared across groups (proto/hyparview's shared.go). One connection
// to a peer carries every group the two hold, so the layer counts, per
// peer, the groups it has that peer as a neighbour in. Over a new link it
// sends the keys of the other groups it gossips (wire.Gossip.Holds); a
// peer's list suggests the peer to each of this node's groups it names,
// and each group's overlay prefers, as neighbours, the peers linked to for
// another.

// linkUp counts p as a neighbour in group st; over a new link it sends p
// the other groups this node gossips. REQUIRES: g.mu held.
func (g *Gossip) linkUp(st *groupState, p peer.ID) {
	if g.links[p]++; g.links[p] > 1 || !g.cfg.ShareLinks {
		return
	}
	var holds []wire.GroupDigest
	for _, o := range g.sorted() {
		if o != st && len(holds) < wire.MaxHolds {
			holds = append(holds, wire.DigestOf(o.id))
		}
	}
	if len(holds) > 0 {
		g.send(p, wire.Gossip{Group: st.id, Holds: holds})
	}
}

// Links is how many peers are neighbours in at least one group: the
// connections the overlays need.
func (g *Gossip) Links() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.links)
}

// linkDown counts p as a neighbour in one group fewer. REQUIRES: g.mu held.
func (g *Gossip) linkDown(p peer.ID) {
	if g.links[p]--; g.links[p] <= 0 {
		delete(g.links, p)
	}
}

// shared is group st's test of a peer linked to for another group
// (topic.State.Shared). It runs in st's steps, under g.mu.
func (g *Gossip) shared(st *groupState) func(topic.PeerID) bool {
	return func(p topic.PeerID) bool {
		n := g.links[peer.ID(p)]
		if slices.Contains(st.core.Active(), p) {
			n--
		}
		return n > 0
	}
}

// announce tells the peers already linked to that this node now gossips
// group st too: a Holds of that one group, under its own id. A new link
// lists the groups held then; without this, a group joined later would
// learn of none of the links its node has. REQUIRES: g.mu held.
func (g *Gossip) announce(st *groupState) {
	if !g.cfg.ShareLinks {
		return
	}
	for _, p := range slices.Sorted(maps.Keys(g.links)) {
		g.send(p, wire.Gossip{Group: st.id, Holds: []wire.GroupDigest{wire.DigestOf(st.id)}})
	}
}

// holds suggests p, which sent a list of groups it holds (m.Holds), to
// each of this node's groups the list names. A list naming the group it
// came under is an announcement (announce): a group that had not p in its
// views answers with its own, so that p's new overlay learns of this node
// too; p answers that only if it had not this node in its views either,
// so the exchange ends. REQUIRES: g.mu held.
func (g *Gossip) holds(p peer.ID, m wire.Gossip) {
	named := make(map[wire.GroupDigest]bool, len(m.Holds))
	for _, d := range m.Holds {
		named[d] = true
	}
	announced := named[wire.DigestOf(m.Group)]
	for _, st := range g.sorted() {
		if !named[wire.DigestOf(st.id)] {
			continue
		}
		knew := g.inViews(st, p)
		g.step(st, topic.Suggest{Peer: topic.PeerID(p)})
		if announced && st.id == m.Group && !knew && g.inViews(st, p) {
			g.send(p, wire.Gossip{Group: st.id, Holds: []wire.GroupDigest{wire.DigestOf(st.id)}})
		}
	}
}

// inViews reports whether group st's overlay holds p as a neighbour or a
// candidate. REQUIRES: g.mu held.
func (g *Gossip) inViews(st *groupState, p peer.ID) bool {
	return slices.Contains(st.core.Active(), topic.PeerID(p)) || slices.Contains(st.core.Passive(), topic.PeerID(p))
}

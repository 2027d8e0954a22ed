package sim

import (
	"slices"

	"hearsay/internal/proto/topic"
)

// Links shared across groups (Config.ShareLinks; proto/hyparview's
// shared.go). A node in several groups counts, per peer, the groups it
// has that peer as a neighbour in: one connection carries them all. When
// a connection is new, the two peers exchange the groups they hold, and
// each suggests the other to the overlays of the groups they share; each
// overlay prefers the peers its node links to for another group. A node
// here starts all its groups at once, so the gossip layer's announcement
// of a group joined later has nothing to do in the simulator.

// peerLink is a peer a node links to, and in how many of its groups.
type peerLink struct{ peer, groups int32 }

// link finds peer p in the node's links: its index, and whether it is
// there.
func (n *node) link(p int) (int, bool) {
	return slices.BinarySearchFunc(n.links, int32(p), func(l peerLink, p int32) int { return int(l.peer - p) })
}

// sharing reports whether node i shares links across its groups.
func (s *Sim) sharing(i int) bool { return s.cfg.ShareLinks && len(s.nodes[i].groups) > 1 }

// linkUp notes that node i has p as a neighbour in group g now. A new
// connection brings p's groups (one message, a group id each), and p is
// suggested to i's other groups that p holds too.
func (s *Sim) linkUp(i, g, p int) {
	if !s.sharing(i) {
		return
	}
	n := s.nodes[i]
	k, found := n.link(p)
	if found {
		n.links[k].groups++
		return
	}
	n.links = slices.Insert(n.links, k, peerLink{int32(p), 1})
	theirs := s.nodes[p].groups
	s.m.exchanged(8 + 32*len(theirs))
	for _, h := range n.groups {
		if _, ok := slices.BinarySearch(theirs, h); ok && h != g {
			s.step(i, h, topic.Suggest{Peer: s.nodes[p].id})
		}
	}
}

// linkDown notes that node i no longer has p as a neighbour in one of its
// groups.
func (s *Sim) linkDown(i, p int) {
	if !s.sharing(i) {
		return
	}
	n := s.nodes[i]
	k, found := n.link(p)
	if !found {
		return
	}
	if n.links[k].groups--; n.links[k].groups == 0 {
		n.links = slices.Delete(n.links, k, k+1)
	}
}

// sharedTest is the overlay's test, for node n's part m in a group, of a
// peer it links to for another group (topic.State.Shared).
func sharedTest(n *node, m *member) func(topic.PeerID) bool {
	return func(id topic.PeerID) bool {
		p := nodeIndex(id)
		k, found := n.link(p)
		if !found {
			return false
		}
		here := int32(0)
		for _, l := range m.links {
			if l.peer == p {
				here = 1
			}
		}
		return n.links[k].groups > here
	}
}

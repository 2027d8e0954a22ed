package plumtree

import (
	"encoding/binary"
	"math"
	"slices"
)

// Which duplicates prune.
//
// The paper prunes on every duplicate, which leaves one message's tree:
// every cycle of the eager graph is cut once, where that message's two
// wavefronts meet. With several messages in flight from different
// sources, each cuts every cycle where its own wavefronts meet, so one
// cycle is cut two or three times, the eager graph falls apart, and the
// pieces wait out the graft timeout, graft, make new cycles, and are cut
// again: the tree flaps. On 100 nodes with posts 100 ms apart, most
// deliveries came by graft (docs/scale.md).
//
// So a duplicate prunes only if its message is a pruning token: every
// node must agree on which messages prune, without talking, and no two
// token messages should be in flight at once. A message id is a uniform
// hash (hearsay's entry ids are BLAKE3 sums); with k other messages
// received here within the last PruneWindow (those in flight, as far as
// this node can tell), the message is a token if its id, read as a
// fraction of the id space, is below 1/(k+1). One
// message at a time is a token, as in the paper; n at a time, about one
// in n. Nodes count k at different times and may disagree at the margin;
// a message that is a token at some nodes only prunes a subset of what its
// tree would prune, which cuts nothing. Two tokens can still overlap, so a
// node that has pruned for one message in the window prunes for no other:
// it takes part in one pruning wave at a time.
//
// Links a Graft made eager are on probation: until one delivers a first
// copy, a duplicate over it prunes it whatever its message. A graft
// repairs a tree the eager copy did not come through in time; if that
// copy comes after all (it was late or lost, not cut off), the grafted link
// is the redundant one, and waiting for a token would keep the cycle for
// many messages.

// inFlight is a message received (or broadcast) here within the last
// PruneWindow, and whether a duplicate of it pruned a link here.
type inFlight struct {
	id     MessageID
	pruned bool
}

// enter puts a message received for the first time into the window.
func (s *State) enter(id MessageID) {
	if s.cfg.PruneWindow <= 0 {
		return
	}
	s.window = append(s.window, inFlight{id: id})
	s.out = append(s.out, SetTimer{Timer: Timer{Kind: WindowTimer, ID: id}, After: s.cfg.PruneWindow})
}

// leave takes a message out of the window.
func (s *State) leave(id MessageID) {
	s.window = slices.DeleteFunc(s.window, func(f inFlight) bool { return f.id == id })
}

// mayPrune reports whether a duplicate of id from p prunes the link, and
// records a token's prune.
func (s *State) mayPrune(p PeerID, id MessageID) bool {
	if s.grafted[p] {
		delete(s.grafted, p)
		return true
	}
	k, self := 0, -1
	for i, f := range s.window {
		switch {
		case f.id == id:
			self = i
		case f.pruned:
			return false
		default:
			k++
		}
	}
	if binary.BigEndian.Uint64(id[:8]) > math.MaxUint64/uint64(k+1) {
		return false
	}
	if self >= 0 {
		s.window[self].pruned = true
	}
	return true
}

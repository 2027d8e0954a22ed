package hyparview

import (
	"slices"
	"time"
)

// Links shared across groups, after SpiderCast and PolderCast.
//
// A node runs one overlay per group it is in, and random overlays give a
// node in m groups about a·m distinct neighbours: a link for each slot of
// each active view. But one connection carries every group two peers
// hold, and its round-trip time is known already, so a neighbour the node
// links to for another group costs this group almost nothing. The driver
// says which peers it links to for its other groups (Shared), and names
// those that hold this group too (Suggest, which puts them in the passive
// view); the overlay then prefers them:
//
//   - a refill asks a shared candidate first;
//   - trades weigh a shared peer's round-trip time at 1/sharedDiscount, so
//     a shared passive peer replaces a neighbour that is not shared if
//     its link is less than sharedDiscount/2 times as slow, and a shared
//     neighbour is the last to be traded away;
//   - for a shared replacement, only shared neighbours count as the
//     unbiased ones a trade keeps (Config.Unbiased): a link shared with
//     another group's overlay, itself random, keeps this one an expander
//     as well as a walk's (at 10^4 nodes in 100 groups, 6% fewer
//     connections at the same latency; docs/scale.md).
//
// The tree's links (Keep) stay: letting a shared peer replace them too cut
// no connections and made the tree repair itself. Without Shared, nothing
// here changes what the overlay does.

// sharedDiscount is how much cheaper a shared link counts in trades: with
// 4, a shared peer up to twice as far as a neighbour that is not shared
// replaces it (better's factor of 2 applies to the weighed times). Latency
// is what the trades are for, so the discount stays small.
const sharedDiscount = 4

// Shared sets the test for peers the driver links to for another group.
func (s *State) Shared(shared func(PeerID) bool) { s.shared = shared }

// isShared reports whether the driver links to p for another group.
func (s *State) isShared(p PeerID) bool { return p != "" && s.shared != nil && s.shared(p) }

// cost is what a link of round-trip time rtt to p weighs in a trade.
func (s *State) cost(p PeerID, rtt time.Duration) time.Duration {
	if s.isShared(p) {
		return rtt / sharedDiscount
	}
	return rtt
}

// suggest puts p, a peer the driver links to for another group that holds
// this one too, in the passive view; when the view is full, a random peer
// that is not shared gives way (or, if all are, a random one).
func (s *State) suggest(p PeerID) {
	if p == s.self || slices.Contains(s.active, p) || slices.Contains(s.passive, p) {
		return
	}
	if len(s.passive) >= s.cfg.PassiveSize {
		var others []int
		for i, q := range s.passive {
			if !s.isShared(q) {
				others = append(others, i)
			}
		}
		i := s.rng.IntN(len(s.passive))
		if len(others) > 0 {
			i = others[s.rng.IntN(len(others))]
		}
		s.passive = slices.Delete(s.passive, i, i+1)
	}
	s.passive = append(s.passive, p)
}

// sharedFirst narrows candidates to the shared ones, if there are any.
func (s *State) sharedFirst(candidates []PeerID) []PeerID {
	if s.shared == nil {
		return candidates
	}
	var shared []PeerID
	for _, p := range candidates {
		if s.shared(p) {
			shared = append(shared, p)
		}
	}
	if len(shared) == 0 {
		return candidates
	}
	return shared
}

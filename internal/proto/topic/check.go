package topic

import (
	"fmt"
	"slices"
)

// Check reports the first broken invariant, if any: the views are within
// their bounds, hold no duplicate and not the node itself, and are
// disjoint; the broadcast's peers are active neighbours, each eager or
// lazy, not both (its tree state is about neighbours only); no banned peer
// is a neighbour; the policy's tables are within their bounds. The
// simulator checks it after every event, the fuzz test after every input.
func (s *State) Check() error {
	active, passive := s.overlay.Active(), s.overlay.Passive()
	eager, lazy := s.Eager(), s.Lazy()
	switch {
	case len(active) > s.cfg.Overlay.ActiveSize:
		return fmt.Errorf("%d active peers, bound %d", len(active), s.cfg.Overlay.ActiveSize)
	case len(passive) > s.cfg.Overlay.PassiveSize:
		return fmt.Errorf("%d passive peers, bound %d", len(passive), s.cfg.Overlay.PassiveSize)
	case slices.Contains(active, s.self) || slices.Contains(passive, s.self):
		return fmt.Errorf("itself in its views")
	case hasDuplicate(active) || hasDuplicate(passive):
		return fmt.Errorf("a peer twice in one view: %v %v", active, passive)
	case len(s.members) > s.cfg.MaxMembers || len(s.bans) > s.cfg.MaxBans || len(s.demoted) > s.cfg.MaxBans || len(s.floods) > s.cfg.MaxBans:
		return fmt.Errorf("%d members, %d bans, %d demoted, bounds %d and %d", len(s.members), len(s.bans), len(s.demoted), s.cfg.MaxMembers, s.cfg.MaxBans)
	}
	for _, p := range active {
		if slices.Contains(passive, p) {
			return fmt.Errorf("%s in both views", p)
		}
		if s.Banned(p, s.now) {
			return fmt.Errorf("banned %s is a neighbour", p)
		}
	}
	for _, p := range append(eager, lazy...) {
		if !slices.Contains(active, p) {
			return fmt.Errorf("broadcast peer %s is not a neighbour (active %v)", p, active)
		}
	}
	if slices.ContainsFunc(eager, func(p PeerID) bool { return slices.Contains(lazy, p) }) || len(eager)+len(lazy) != len(active) {
		return fmt.Errorf("eager %v and lazy %v do not split the active view %v", eager, lazy, active)
	}
	return nil
}

func hasDuplicate(ps []PeerID) bool {
	seen := make(map[PeerID]bool, len(ps))
	for _, p := range ps {
		if seen[p] {
			return true
		}
		seen[p] = true
	}
	return false
}

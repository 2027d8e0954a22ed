package plumtree

import "slices"

// seenSet is the ids received, oldest first, forgetting the oldest beyond
// a bound. A group's node often holds few ids (a simulated member holds a
// handful; a quiet group's node too), and a map for a handful of 32-byte
// ids costs more than the ids: the set scans its list up to indexFrom ids
// and indexes them in a map only beyond.
type seenSet struct {
	order []MessageID // oldest first
	index map[MessageID]bool
}

// indexFrom is the size from which the set keeps a map: below it, a scan
// of the list is about as fast as a lookup.
const indexFrom = 32

func (s *seenSet) has(id MessageID) bool {
	if s.index != nil {
		return s.index[id]
	}
	return slices.Contains(s.order, id)
}

// add records id, which must not be in the set, and forgets the oldest
// beyond limit.
func (s *seenSet) add(id MessageID, limit int) {
	s.order = append(s.order, id)
	if s.index != nil {
		s.index[id] = true
	} else if len(s.order) > indexFrom {
		s.index = make(map[MessageID]bool, 2*indexFrom)
		for _, o := range s.order {
			s.index[o] = true
		}
	}
	if len(s.order) > limit {
		if s.index != nil {
			delete(s.index, s.order[0])
		}
		s.order = s.order[1:]
	}
}

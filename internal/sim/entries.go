package sim

import (
	"slices"
	"sort"
	"time"

	"hearsay/internal/proto/negentropy"
	"hearsay/internal/proto/plumtree"
)

// catalog is every post of the run, once: its index item (the author's
// stamp and its id) under a small ordinal, so that a store holds ordinals,
// not ids, maps and copies of the items. Every simulated entry has the
// same body (payload), shared by all.
type catalog struct {
	ordinal map[plumtree.MessageID]uint32
	items   []negentropy.Item // items[k] is post k's
}

// add registers a post as its author writes it.
func (c *catalog) add(id plumtree.MessageID, stamp time.Duration) {
	c.ordinal[id] = uint32(len(c.items))
	c.items = append(c.items, negentropy.Item{Timestamp: uint64(stamp), ID: negentropy.ID(id)})
}

// store is a member's entries of its group, as the ordinals of the posts
// it holds in index order (by stamp, then id): it is the body store the
// broadcast answers grafts from, and the Negentropy storage that
// reconciliation ranges over.
type store struct {
	posts *catalog
	held  []uint32
}

// find is where post k is, or would go, in the store, and whether it is there.
func (s *store) find(k uint32) (int, bool) {
	it := s.posts.items[k]
	return slices.BinarySearchFunc(s.held, it, func(h uint32, it negentropy.Item) int {
		return negentropy.Compare(s.posts.items[h], it)
	})
}

// has reports whether the store holds post id.
func (s *store) has(id plumtree.MessageID) bool {
	k, ok := s.posts.ordinal[id]
	if !ok {
		return false
	}
	_, ok = s.find(k)
	return ok
}

func (s *store) Payload(id plumtree.MessageID) ([]byte, bool) {
	if !s.has(id) {
		return nil, false
	}
	return payload, true
}

// put stores post id and reports whether it was new. NB: the index key is
// the author's stamp (catalog.add), the same on every replica, as the node
// keys an entry by its author's timestamp; a local arrival time would place
// one entry differently on two nodes, and reconciliation would resend
// entries both hold.
func (s *store) put(id plumtree.MessageID) bool {
	k := s.posts.ordinal[id]
	i, ok := s.find(k)
	if ok {
		return false
	}
	s.held = slices.Insert(s.held, i, k)
	return true
}

// len is how many posts the store holds.
func (s *store) len() int { return len(s.held) }

func (s *store) Size() int                  { return len(s.held) }
func (s *store) Item(i int) negentropy.Item { return s.posts.items[s.held[i]] }

func (s *store) LowerBound(begin, end int, it negentropy.Item) int {
	return begin + sort.Search(end-begin, func(i int) bool { return negentropy.Compare(s.Item(begin+i), it) >= 0 })
}

// Fingerprint sums the range's ids; a store holds few posts (a group's),
// so the sum is taken afresh rather than kept in prefix sums.
func (s *store) Fingerprint(begin, end int) negentropy.Fingerprint {
	var sum negentropy.Accumulator
	for _, k := range s.held[begin:end] {
		sum.Add(s.posts.items[k].ID)
	}
	return sum.Fingerprint(end - begin)
}

package negentropy

import (
	"slices"
	"sort"
)

// Storage is a sorted set of items that can fingerprint any range of it.
// Ranges are half-open, [begin, end), over item indexes.
type Storage interface {
	Size() int
	Item(i int) Item
	// LowerBound is the first index in [begin, end) whose item is at or
	// after it, or end.
	LowerBound(begin, end int, it Item) int
	Fingerprint(begin, end int) Fingerprint
}

// Vector is a Storage over a sorted slice with prefix sums: every
// fingerprint costs one subtraction and one hash.
type Vector struct {
	items []Item
	sums  []Accumulator // sums[i] is the sum of items[:i]
}

// NewVector sorts items (in place) and indexes them. Duplicates are removed.
func NewVector(items []Item) *Vector {
	slices.SortFunc(items, Compare)
	items = slices.CompactFunc(items, func(a, b Item) bool { return a == b })
	v := &Vector{items: items, sums: make([]Accumulator, len(items)+1)}
	for i, it := range items {
		v.sums[i+1] = v.sums[i]
		v.sums[i+1].Add(it.ID)
	}
	return v
}

func (v *Vector) Size() int       { return len(v.items) }
func (v *Vector) Item(i int) Item { return v.items[i] }

func (v *Vector) LowerBound(begin, end int, it Item) int {
	return begin + sort.Search(end-begin, func(i int) bool { return Compare(v.items[begin+i], it) >= 0 })
}

func (v *Vector) Fingerprint(begin, end int) Fingerprint {
	return v.sums[end].Sub(v.sums[begin]).Fingerprint(end - begin)
}

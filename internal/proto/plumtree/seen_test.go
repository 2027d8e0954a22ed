package plumtree

import "testing"

// The set answers the same below and beyond the size it indexes from, and
// forgets the oldest beyond its limit either way.
func TestSeenSet(t *testing.T) {
	for _, limit := range []int{5, indexFrom, 3 * indexFrom} {
		var s seenSet
		id := func(k int) MessageID { return MessageID{byte(k), byte(k >> 8), 7} }
		const n = 4 * indexFrom
		for k := range n {
			if s.has(id(k)) {
				t.Fatalf("limit %d: %d seen before it was added", limit, k)
			}
			s.add(id(k), limit)
			for j := range k + 1 {
				if want := j > k-limit; s.has(id(j)) != want {
					t.Fatalf("limit %d, %d added: has(%d) = %v, want %v", limit, k+1, j, !want, want)
				}
			}
		}
		if len(s.order) != limit || s.index != nil && len(s.index) != limit {
			t.Fatalf("limit %d: holds %d ids (index %d)", limit, len(s.order), len(s.index))
		}
	}
}

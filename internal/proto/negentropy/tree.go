package negentropy

// Tree is a Storage kept current on insert: a B+tree whose inner nodes know
// the count and id sum of each child, so that ranks, items, lower bounds and
// range fingerprints cost O(log n) — a reconciliation round never scans the
// set. The zero value is an empty tree.
type Tree struct {
	root *treeNode
}

// fanout bounds the items of a leaf and the children of an inner node.
const fanout = 64

type treeNode struct {
	items    []Item      // a leaf's items, sorted
	children []*treeNode // an inner node's children
	counts   []int       // items under each child
	sums     []Accumulator
	firsts   []Item // the smallest item under each child
}

func (n *treeNode) leaf() bool { return n.children == nil }

// Insert adds an item and reports whether it was new.
func (t *Tree) Insert(it Item) bool {
	if t.root == nil {
		t.root = &treeNode{}
	}
	added, split := t.root.insert(it)
	if split != nil {
		old := t.root
		t.root = &treeNode{}
		t.root.adopt(old)
		t.root.adopt(split)
	}
	return added
}

// adopt appends a child, recording its count, sum and first item.
func (n *treeNode) adopt(c *treeNode) {
	count, sum := c.total()
	n.children = append(n.children, c)
	n.counts = append(n.counts, count)
	n.sums = append(n.sums, sum)
	n.firsts = append(n.firsts, c.first())
}

func (n *treeNode) total() (int, Accumulator) {
	var sum Accumulator
	if n.leaf() {
		for _, it := range n.items {
			sum.Add(it.ID)
		}
		return len(n.items), sum
	}
	count := 0
	for i := range n.children {
		count += n.counts[i]
		sum = sum.add(n.sums[i])
	}
	return count, sum
}

func (n *treeNode) first() Item {
	if n.leaf() {
		return n.items[0]
	}
	return n.firsts[0]
}

// insert adds it under n; a full node splits and returns its new right half.
func (n *treeNode) insert(it Item) (added bool, split *treeNode) {
	if n.leaf() {
		i, found := n.search(it)
		if found {
			return false, nil
		}
		n.items = append(n.items, Item{})
		copy(n.items[i+1:], n.items[i:])
		n.items[i] = it
		if len(n.items) > fanout {
			half := len(n.items) / 2
			right := &treeNode{items: append([]Item{}, n.items[half:]...)}
			n.items = n.items[:half:half]
			return true, right
		}
		return true, nil
	}
	c := n.child(it)
	added, right := n.children[c].insert(it)
	if !added {
		return false, nil
	}
	n.counts[c]++
	n.sums[c].Add(it.ID)
	n.firsts[c] = n.children[c].first()
	if right == nil {
		return true, nil
	}
	// The child split: re-sum its left half and put the right half after it.
	n.counts[c], n.sums[c] = n.children[c].total()
	rest := &treeNode{}
	rest.adopt(right)
	n.children = append(n.children[:c+1], append(rest.children, n.children[c+1:]...)...)
	n.counts = append(n.counts[:c+1], append(rest.counts, n.counts[c+1:]...)...)
	n.sums = append(n.sums[:c+1], append(rest.sums, n.sums[c+1:]...)...)
	n.firsts = append(n.firsts[:c+1], append(rest.firsts, n.firsts[c+1:]...)...)
	if len(n.children) <= fanout {
		return true, nil
	}
	half := len(n.children) / 2
	r := &treeNode{
		children: append([]*treeNode{}, n.children[half:]...),
		counts:   append([]int{}, n.counts[half:]...),
		sums:     append([]Accumulator{}, n.sums[half:]...),
		firsts:   append([]Item{}, n.firsts[half:]...),
	}
	n.children, n.counts, n.sums, n.firsts = n.children[:half:half], n.counts[:half:half], n.sums[:half:half], n.firsts[:half:half]
	return true, r
}

// search finds it's index in a leaf, or where it would go.
func (n *treeNode) search(it Item) (int, bool) {
	lo, hi := 0, len(n.items)
	for lo < hi {
		m := (lo + hi) / 2
		if Compare(n.items[m], it) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(n.items) && n.items[lo] == it
}

// child is the child whose range holds it: the last whose first item is at
// or before it, or the first.
func (n *treeNode) child(it Item) int {
	c := 0
	for c+1 < len(n.firsts) && Compare(n.firsts[c+1], it) <= 0 {
		c++
	}
	return c
}

// Size is the number of items.
func (t *Tree) Size() int {
	if t.root == nil {
		return 0
	}
	count, _ := t.root.total()
	return count
}

// Item returns the item at index i. REQUIRES: 0 <= i < Size().
func (t *Tree) Item(i int) Item {
	n := t.root
	for !n.leaf() {
		c := 0
		for i >= n.counts[c] {
			i -= n.counts[c]
			c++
		}
		n = n.children[c]
	}
	return n.items[i]
}

// rank is the number of items before it.
func (t *Tree) rank(it Item) int {
	if t.root == nil {
		return 0
	}
	r, n := 0, t.root
	for !n.leaf() {
		c := n.child(it)
		for i := range c {
			r += n.counts[i]
		}
		n = n.children[c]
	}
	i, _ := n.search(it)
	return r + i
}

// LowerBound implements Storage.
func (t *Tree) LowerBound(begin, end int, it Item) int {
	return min(max(t.rank(it), begin), end)
}

// prefix is the sum of the first k ids.
func (t *Tree) prefix(k int) Accumulator {
	var sum Accumulator
	n := t.root
	for n != nil && !n.leaf() {
		c := 0
		for k >= n.counts[c] && c+1 < len(n.children) {
			k -= n.counts[c]
			sum = sum.add(n.sums[c])
			c++
		}
		n = n.children[c]
	}
	if n != nil {
		for _, it := range n.items[:k] {
			sum.Add(it.ID)
		}
	}
	return sum
}

// Fingerprint implements Storage.
func (t *Tree) Fingerprint(begin, end int) Fingerprint {
	return t.prefix(end).Sub(t.prefix(begin)).Fingerprint(end - begin)
}

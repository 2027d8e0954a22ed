package negentropy

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTreeMatchesVector(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{0, 1, 63, 64, 65, 4096, 50_000} {
		items, _, _, _ := sets(rng, n, 0)
		var tree Tree
		for _, i := range rng.Perm(len(items)) {
			if !tree.Insert(items[i]) {
				t.Fatalf("n=%d: a new item was not added", n)
			}
		}
		for _, it := range items[:min(len(items), 100)] {
			if tree.Insert(it) {
				t.Fatalf("n=%d: a duplicate was added", n)
			}
		}
		vec := NewVector(slices.Clone(items))
		if tree.Size() != vec.Size() {
			t.Fatalf("n=%d: size %d, want %d", n, tree.Size(), vec.Size())
		}
		for i := range vec.Size() {
			if tree.Item(i) != vec.Item(i) {
				t.Fatalf("n=%d: item %d differs", n, i)
			}
		}
		for range 2000 {
			probe := Item{Timestamp: 1_000_000 + uint64(rng.IntN(n/4+2))}
			probe.ID[0] = byte(rng.Uint32())
			lo := rng.IntN(vec.Size() + 1)
			hi := lo + rng.IntN(vec.Size()-lo+1)
			if got, want := tree.LowerBound(lo, hi, probe), vec.LowerBound(lo, hi, probe); got != want {
				t.Fatalf("n=%d: LowerBound(%d, %d) = %d, want %d", n, lo, hi, got, want)
			}
			if tree.Fingerprint(lo, hi) != vec.Fingerprint(lo, hi) {
				t.Fatalf("n=%d: Fingerprint(%d, %d) differs", n, lo, hi)
			}
		}
	}
}

func TestReconcileOverTrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	c, s, onlyC, onlyS := sets(rng, 30_000, 0.05)
	var tc, ts Tree
	for _, it := range c {
		tc.Insert(it)
	}
	for _, it := range s {
		ts.Insert(it)
	}
	have, need, _, _ := reconcile(t, &tc, &ts, MinFrame)
	if !slices.Equal(have, onlyC) || !slices.Equal(need, onlyS) {
		t.Fatalf("have %d want %d, need %d want %d", len(have), len(onlyC), len(need), len(onlyS))
	}
}

// BenchmarkTree measures the index a node keeps per group: inserting in log
// order, and a fingerprint of a random range, at 10^6 items.
func BenchmarkTree(b *testing.B) {
	items, _ := benchSets(1_000_000, 0)
	var tree Tree
	for _, it := range items {
		tree.Insert(it)
	}
	b.Run("fingerprint", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 1))
		for b.Loop() {
			lo := rng.IntN(len(items))
			tree.Fingerprint(lo, lo+rng.IntN(len(items)-lo))
		}
	})
	b.Run("insert", func(b *testing.B) {
		var t Tree
		i := 0
		for b.Loop() {
			t.Insert(items[i%len(items)])
			i++
		}
	})
}

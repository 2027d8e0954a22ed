package sim

import (
	"math/rand/v2"
	"slices"
)

// memberships draws each node's groups, ascending. With one group every
// node is in it, and no randomness is drawn, so a one-group run is the
// run the simulator made before it had groups. Otherwise each node joins
// one, two or three groups (as many as there are, at most), equally
// likely: a person follows a few groups, and the real node runs one
// overlay and one broadcast tree for each. A group then has about 2N/G of
// the N nodes. An initial node's first group is dealt round-robin over a
// shuffled deck, so no group starts with fewer than ⌊initial/groups⌋
// members; the others, and all of a newcomer's, are drawn at random.
func memberships(rng *rand.Rand, groups, initial, total int) [][]int {
	out := make([][]int, total)
	if groups == 1 {
		for i := range out {
			out[i] = []int{0}
		}
		return out
	}
	for k, i := range rng.Perm(initial) {
		out[i] = []int{k % groups}
	}
	for i := range out {
		for want := min(1+rng.IntN(3), groups); len(out[i]) < want; {
			if g := rng.IntN(groups); !slices.Contains(out[i], g) {
				out[i] = append(out[i], g)
			}
		}
		slices.Sort(out[i])
	}
	return out
}

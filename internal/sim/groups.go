package sim

import (
	"math/rand/v2"
	"slices"
)

// memberships draws each node's groups, ascending. With one group every
// node is in it, and no randomness is drawn, so a one-group run is the
// run the simulator made before it had groups. Otherwise each node joins
// one to perNode groups (as many as there are, at most), equally likely: a
// person follows a few groups, and the real node runs one overlay and one
// broadcast tree for each. An initial node's first group is dealt
// round-robin over a shuffled deck, so no group starts with fewer than
// ⌊initial/groups⌋ members; the others, and all of a newcomer's, are drawn
// at random: uniformly (a group then has about (perNode+1)N/2G of the N
// nodes), or with zipf > 1 from a Zipf law of that exponent over the
// groups, as real newsgroups' sizes are heavy-tailed (group 0 the most
// popular).
func memberships(rng *rand.Rand, groups, perNode int, zipf float64, initial, total int) [][]int {
	out := make([][]int, total)
	if groups == 1 {
		for i := range out {
			out[i] = []int{0}
		}
		return out
	}
	draw := func() int { return rng.IntN(groups) }
	if zipf > 1 {
		z := rand.NewZipf(rng, zipf, 1, uint64(groups-1))
		draw = func() int { return int(z.Uint64()) }
	}
	for k, i := range rng.Perm(initial) {
		out[i] = []int{k % groups}
	}
	for i := range out {
		for want := min(1+rng.IntN(perNode), groups); len(out[i]) < want; {
			if g := draw(); !slices.Contains(out[i], g) {
				out[i] = append(out[i], g)
			}
		}
		slices.Sort(out[i])
	}
	return out
}

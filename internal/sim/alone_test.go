package sim

import (
	"flag"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

var alone = flag.Bool("sim.alone", false, "run TestLinksAloneAtScale: the links a node would need choosing its peers alone, at 3,000 to 10^5 nodes (docs/scale.md)")

// linksAlone is how many links node i would need if it chose its
// neighbours alone, knowing every node's groups: each of its groups wants
// min(a, members−1) neighbours in it, one link serves every group both
// ends hold, and the peer picked next is the one that serves the most
// groups still short (greedy set multicover). It leaves out that a peer
// has its own slots to fill, latency, and the broadcast tree: what a node
// could reach, not what a network of them can. members are each group's
// nodes. REQUIRES: node i in at most 64 groups.
func linksAlone(groupsOf, members [][]int, i, a int) int {
	mine := groupsOf[i]
	need := make([]int, len(mine))
	serves := map[int]uint64{} // peer: bit k for each mine[k] it holds
	for k, g := range mine {
		need[k] = min(a, len(members[g])-1)
		for _, p := range members[g] {
			if p != i {
				serves[p] |= 1 << k
			}
		}
	}
	peers := map[uint64]int{} // how many peers hold exactly those of mine
	for _, m := range serves {
		peers[m]++
	}
	links := 0
	for {
		var short uint64
		for k, n := range need {
			if n > 0 {
				short |= 1 << k
			}
		}
		if short == 0 {
			return links
		}
		// The most short groups served; of those, the most neighbours
		// still wanted in them; then the lowest mask, for one answer.
		var best uint64
		bestN, bestWant := 0, 0
		for m, n := range peers {
			if n == 0 {
				continue
			}
			c, want := bits.OnesCount64(m&short), 0
			for k := range need {
				if m&short&(1<<k) != 0 {
					want += need[k]
				}
			}
			if c > bestN || c == bestN && (want > bestWant || want == bestWant && m < best) {
				best, bestN, bestWant = m, c, want
			}
		}
		peers[best]--
		links++
		for k := range need {
			if best&short&(1<<k) != 0 {
				need[k]--
			}
		}
	}
}

func TestLinksAlone(t *testing.T) {
	seq := func(from, to int) []int {
		var s []int
		for p := from; p < to; p++ {
			s = append(s, p)
		}
		return s
	}
	// Node 0 in three groups of the same ten members: five links serve all.
	same := [][]int{seq(0, 10), seq(0, 10), seq(0, 10)}
	// In three groups with no other member in common: five links each.
	apart := [][]int{append([]int{0}, seq(1, 11)...), append([]int{0}, seq(11, 21)...), append([]int{0}, seq(21, 31)...)}
	// In a group of three: two neighbours are all it can have.
	small := [][]int{{0, 1, 2}}
	// Two groups sharing members 1–3: those three serve both, then two more
	// in each.
	overlap := [][]int{append([]int{0}, seq(1, 6)...), {0, 1, 2, 3, 6, 7, 8}}
	for _, c := range []struct {
		name    string
		members [][]int
		want    int
	}{{"same", same, 5}, {"apart", apart, 15}, {"small", small, 2}, {"overlap", overlap, 7}} {
		groupsOf := map[int][]int{}
		for g, ms := range c.members {
			for _, p := range ms {
				groupsOf[p] = append(groupsOf[p], g)
			}
		}
		byNode := make([][]int, 40)
		for p, gs := range groupsOf {
			byNode[p] = gs
		}
		if got := linksAlone(byNode, c.members, 0, 5); got != c.want {
			t.Errorf("%s: %d links, want %d", c.name, got, c.want)
		}
	}
}

// TestLinksAloneDrawsTheRunsGroups checks that drawing the memberships as
// TestLinksAloneAtScale does gives a run's own.
func TestLinksAloneDrawsTheRunsGroups(t *testing.T) {
	cfg := DefaultConfig(300, 1)
	cfg.Groups, cfg.GroupsPerNode, cfg.Zipf = 10, 10, 1.2
	run := New(cfg)
	drawn := drawMemberships(cfg.Nodes, cfg.Groups)
	for i, n := range run.nodes {
		if !slices.Equal(n.groups, drawn[i]) {
			t.Fatalf("node %d: groups %v in the run, %v drawn", i, n.groups, drawn[i])
		}
	}
}

// drawMemberships draws the groups of a run of nodes in groups, seed 1,
// up to 10 a node, Zipf 1.2, as New does: its generator, memberships
// first.
func drawMemberships(nodes, groups int) [][]int {
	return memberships(rand.New(rand.NewPCG(1, 0x5eed)), groups, 10, 1.2, nodes, nodes)
}

// TestLinksAloneAtScale reports, for the simulator's Zipf memberships of
// the runs in docs/scale.md, the links a node would need choosing alone
// (linksAlone) against its slots (a·m): about how much link sharing could
// cut, before peers' own choices, latency and the tree take their share.
func TestLinksAloneAtScale(t *testing.T) {
	if !*alone {
		t.Skip("the figures of docs/scale.md: go test ./internal/sim -run LinksAloneAtScale -v -args -sim.alone")
	}
	for _, c := range []struct{ nodes, groups int }{{3000, 30}, {10000, 100}, {100000, 1000}} {
		groupsOf := drawMemberships(c.nodes, c.groups)
		members := make([][]int, c.groups)
		for i, gs := range groupsOf {
			for _, g := range gs {
				members[g] = append(members[g], i)
			}
		}
		var nodes, slots, links int
		for i := 0; i < c.nodes; i += max(1, c.nodes/2000) {
			nodes++
			mine := 0
			for _, g := range groupsOf[i] {
				mine += min(5, len(members[g])-1)
			}
			n := linksAlone(groupsOf, members, i, 5)
			if n > mine {
				t.Fatalf("node %d: %d links for %d slots", i, n, mine)
			}
			slots, links = slots+mine, links+n
		}
		t.Logf("%d nodes in %d groups: %d nodes sampled, %.2f slots, %.2f links alone (%.2f of the slots)",
			c.nodes, c.groups, nodes, float64(slots)/float64(nodes), float64(links)/float64(nodes), float64(links)/float64(slots))
	}
}

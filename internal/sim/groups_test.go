package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMemberships(t *testing.T) {
	const groups, initial, total = 7, 100, 120
	of := memberships(rand.New(rand.NewPCG(1, 2)), groups, 3, 0, initial, total)
	sizes := make([]int, groups)
	for i, gs := range of {
		if len(gs) < 1 || len(gs) > 3 {
			t.Fatalf("node %d is in %d groups, want 1 to 3", i, len(gs))
		}
		for k, g := range gs {
			if k > 0 && g <= gs[k-1] {
				t.Fatalf("node %d: groups %v not ascending and distinct", i, gs)
			}
			if i < initial {
				sizes[g]++
			}
		}
	}
	for g, n := range sizes {
		if n < initial/groups {
			t.Fatalf("group %d starts with %d members, want at least %d", g, n, initial/groups)
		}
	}
	for _, gs := range memberships(nil, 1, 3, 0, 3, 5) {
		if len(gs) != 1 || gs[0] != 0 {
			t.Fatalf("one group: %v, want every node in group 0", gs)
		}
	}
}

// converged checks that in every group each live member holds every post
// of the group that a live member holds, and no member holds a post of
// another group: groups never talk to each other.
func converged(t *testing.T, s *Sim) {
	t.Helper()
	group := map[[32]byte]int{}
	for k, id := range s.m.order {
		group[id] = s.m.groups[k]
	}
	for g, members := range s.groups {
		held := map[[32]byte]int{}
		live := 0
		for _, i := range members {
			n := s.nodes[i]
			for _, k := range n.member(g).store.held {
				id := [32]byte(s.posts.items[k].ID)
				if group[id] != g {
					t.Fatalf("seed %d: n%d holds a post of group %d in group %d", s.cfg.Seed, i, group[id], g)
				}
				if !n.down {
					held[id]++
				}
			}
			if !n.down {
				live++
			}
		}
		for id, n := range held {
			if n != live {
				t.Fatalf("seed %d: group %d: post %x on %d of %d live members", s.cfg.Seed, g, id[:4], n, live)
			}
		}
	}
}

// TestGroupsConverge spreads the posts over ten groups, with crashes and
// churn: each group converges on its own posts.
func TestGroupsConverge(t *testing.T) {
	for _, sc := range []struct {
		name         string
		crash, churn float64
	}{{"clean", 0, 0}, {"crashes", 0.2, 0}, {"churn", 0, 0.2}} {
		t.Run(sc.name, func(t *testing.T) {
			for seed := range uint64(*seeds) {
				cfg := DefaultConfig(300, 40)
				cfg.Groups, cfg.Crash, cfg.Churn, cfg.Seed = 10, sc.crash, sc.churn, seed+1
				s := New(cfg)
				r := s.Run()
				t.Logf("seed %d: %+v", cfg.Seed, r)
				// NB: a post its author wrote just before crashing, and
				// nobody else holds, is lost, not undelivered.
				if r.Delivery != 1 || sc.crash == 0 && r.Lost != 0 {
					t.Fatalf("seed %d: delivery %v, lost %d", cfg.Seed, r.Delivery, r.Lost)
				}
				converged(t, s)
			}
		})
	}
}

// With a Zipf law the groups' sizes are heavy-tailed, and a node joins up
// to GroupsPerNode of them.
func TestZipfMemberships(t *testing.T) {
	const groups, nodes = 100, 10_000
	of := memberships(rand.New(rand.NewPCG(3, 4)), groups, 10, 1.3, nodes, nodes)
	sizes := make([]int, groups)
	most := 0
	for _, gs := range of {
		if len(gs) < 1 || len(gs) > 10 {
			t.Fatalf("a node in %d groups, want 1..10", len(gs))
		}
		most = max(most, len(gs))
		for _, g := range gs {
			sizes[g]++
		}
	}
	if most < 8 {
		t.Fatalf("no node in more than %d groups", most)
	}
	sorted := slices.Clone(sizes)
	slices.Sort(sorted)
	if median := sorted[groups/2]; sizes[0] < 10*median || sorted[0] < nodes/groups {
		t.Fatalf("sizes not heavy-tailed: largest %d, median %d, smallest %d", sizes[0], median, sorted[0])
	}
	t.Logf("group sizes: largest %d, median %d, smallest %d", sizes[0], sorted[groups/2], sorted[0])
}

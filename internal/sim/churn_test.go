package sim

import (
	"slices"
	"testing"
	"time"

	"hearsay/internal/proto/plumtree"
	"hearsay/internal/proto/score"
)

// TestChurnConverges takes a fifth of the nodes away and back during the
// posts and adds a tenth as newcomers: every node up at the end holds
// every post, the returning ones by anti-entropy from their neighbours;
// and what the cores charge honest peers for (broken promises: a graft or
// its answer lost, a peer gone before it answered) graylists none.
func TestChurnConverges(t *testing.T) {
	for _, sc := range []struct {
		name        string
		drop, crash float64
	}{
		{"clean", 0, 0},
		{"crashes", 0, 0.2},
		{"lossy", 0.05, 0},
	} {
		t.Run(sc.name, func(t *testing.T) {
			for seed := range uint64(*seeds) {
				cfg := DefaultConfig(300, 30)
				cfg.Churn, cfg.Drop, cfg.Crash, cfg.Seed = 0.2, sc.drop, sc.crash, seed+1
				r := run(t, cfg)
				if r.Delivery != 1 || sc.crash == 0 && r.Lost != 0 {
					t.Fatalf("seed %d: delivery %v, want 1; lost %d", cfg.Seed, r.Delivery, r.Lost)
				}
				if want := 300 - int(sc.crash*300) + 30; r.Nodes != 330 || r.Joined != 30 || r.Live != want {
					t.Fatalf("seed %d: nodes %d, joined %d, live %d; want 330, 30, %d", cfg.Seed, r.Nodes, r.Joined, r.Live, want)
				}
				if r.ChargedScoreMin <= score.DefaultParams().GraylistThreshold {
					t.Fatalf("seed %d: %d charges of honest peers brought one to %.2f", cfg.Seed, r.Charged, r.ChargedScoreMin)
				}
				t.Logf("seed %d: %d charges of honest peers, the lowest score %.2f", cfg.Seed, r.Charged, r.ChargedScoreMin)
			}
		})
	}
}

// TestCatchUpIsNoLatency: a post older than the receiver's current
// incarnation reaches it by store-and-forward; that wait is no latency.
func TestCatchUpIsNoLatency(t *testing.T) {
	m := metrics{published: map[plumtree.MessageID]time.Duration{{1}: time.Second, {2}: 3 * time.Second}}
	m.delivered(plumtree.MessageID{1}, 40*time.Second, 2*time.Second, -1)
	m.delivered(plumtree.MessageID{2}, 4*time.Second, 2*time.Second, 3)
	if len(m.latencies) != 1 || m.latencies[0] != time.Second || !slices.Equal(m.hops, []int{0, 0, 0, 1}) {
		t.Fatalf("latencies %v, hops %v; want [1s], one at 3: [0 0 0 1]", m.latencies, m.hops)
	}
}

func TestChurnAndGroupsDeterministic(t *testing.T) {
	cfg := DefaultConfig(200, 20)
	cfg.Groups, cfg.Churn, cfg.Drop, cfg.Crash, cfg.Seed = 5, 0.2, 0.02, 0.1, 11
	if a, b := New(cfg).Run(), New(cfg).Run(); a != b {
		t.Fatalf("the same seed gave two runs:\n%+v\n%+v", a, b)
	}
}

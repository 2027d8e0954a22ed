package sim

import "testing"

// TestSharedLinksCutConnections runs nodes in several groups with and
// without link sharing: sharing must cut the connections a node holds by
// a third at least, at equal delivery and a latency not much higher.
func TestSharedLinksCutConnections(t *testing.T) {
	run := func(share bool) Result {
		cfg := DefaultConfig(1000, 30)
		cfg.Groups, cfg.GroupsPerNode, cfg.Zipf, cfg.ShareLinks = 10, 10, 1.2, share
		return New(cfg).Run()
	}
	apart, shared := run(false), run(true)
	t.Logf("connections %.2f -> %.2f, latency p99 %.0f -> %.0f ms", apart.ConnectionsMean, shared.ConnectionsMean, apart.LatencyP99, shared.LatencyP99)
	switch {
	case apart.Delivery != 1 || shared.Delivery != 1:
		t.Fatalf("delivery %v without sharing, %v with", apart.Delivery, shared.Delivery)
	case shared.ConnectionsMean > 2*apart.ConnectionsMean/3:
		t.Fatalf("connections per node %.2f with sharing, %.2f without", shared.ConnectionsMean, apart.ConnectionsMean)
	case shared.LatencyP99 > 1.5*apart.LatencyP99:
		t.Fatalf("latency p99 %.0f ms with sharing, %.0f without", shared.LatencyP99, apart.LatencyP99)
	}
}

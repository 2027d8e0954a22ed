package sim

import (
	"reflect"
	"testing"
)

// TestStorageSurvivesChurnAndCheaters: with Tahoe's 3+7, 1% of the nodes
// leaving per round and 10% offline, repair keeps every file; cheaters
// are caught and routed around; the same seed gives the same result.
func TestStorageSurvivesChurnAndCheaters(t *testing.T) {
	c := StorageConfig{Nodes: 100, Files: 100, K: 3, M: 7, Rounds: 60, Leave: 0.01, Offline: 0.1, Cheaters: 0.1, Catch: 0.5, Slack: 0.5, Seed: 3}
	r := RunStorage(c)
	if r.Lost != 0 || r.Unavailable > 0.001 || r.Caught == 0 {
		t.Fatalf("%+v", r)
	}
	if again := RunStorage(c); !reflect.DeepEqual(again, r) {
		t.Fatalf("the same seed gave %+v, then %+v", r, again)
	}
	c.Rounds, c.Leave, c.Offline, c.Cheaters = 1, 0, 0, 0
	if r := RunStorage(c); r.LoadMax > 3*int(r.LoadMean+1) || r.RepairsPerRound != 0 {
		t.Fatalf("placement alone: %+v", r)
	}
}

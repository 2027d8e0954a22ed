package storage

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func peers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("peer-%02d", i)
	}
	return out
}

func TestRankIsOrderFree(t *testing.T) {
	ps := peers(20)
	a := Rank([]byte("k"), ps)
	rev := slices.Clone(ps)
	slices.Reverse(rev)
	if !slices.Equal(a, Rank([]byte("k"), rev)) {
		t.Fatal("the rank depends on the order of the candidates")
	}
	if slices.Equal(a, Rank([]byte("other key"), ps)) {
		t.Fatal("two keys rank twenty peers the same")
	}
}

func TestPlaceDistinctAndStable(t *testing.T) {
	key := []byte("a file's table id")
	to, send := Place(key, 8, peers(12), nil)
	seen := map[string]bool{}
	for j, p := range to {
		if seen[p] || !send[j] {
			t.Fatalf("shard %d to %s: not a distinct new holder (%v)", j, p, to)
		}
		seen[p] = true
	}
	// A holder vanishes: only its shard moves.
	gone := to[3]
	live := slices.DeleteFunc(peers(12), func(p string) bool { return p == gone })
	holders := make([][]string, 8)
	for j, p := range to {
		if p != gone {
			holders[j] = []string{p}
		}
	}
	again, send := Place(key, 8, live, holders)
	for j := range again {
		if (j == 3) != send[j] || (j != 3 && again[j] != to[j]) || again[j] == gone {
			t.Fatalf("after %s left: %v (send %v), before %v", gone, again, send, to)
		}
	}
}

func TestPlaceWithFewerPeersThanShards(t *testing.T) {
	to, _ := Place([]byte("k"), 8, peers(3), nil)
	count := map[string]int{}
	for _, p := range to {
		count[p]++
	}
	if len(count) != 3 {
		t.Fatalf("8 shards on %d of 3 peers: %v", len(count), to)
	}
	for p, n := range count {
		if n < 2 || n > 3 {
			t.Fatalf("%s takes %d of 8 shards", p, n)
		}
	}
	if to, _ := Place([]byte("k"), 4, nil, nil); to[0] != "" {
		t.Fatal("placed with no candidates")
	}
}

func TestLedgerAcceptRule(t *testing.T) {
	l := NewLedger(Config{Free: 100, Ratio: 1, FailLimit: 2, WriterCap: 500, Quota: 1000})
	if err := l.Accept("a", "w", 101); !errors.Is(err, ErrNoCredit) {
		t.Fatalf("beyond the free allowance: %v", err)
	}
	l.Placed("a", 200) // a holds 200 bytes for us: it may store 300 here
	if err := l.Accept("a", "w", 300); err != nil {
		t.Fatal(err)
	}
	if err := l.Accept("a", "w", 1); !errors.Is(err, ErrNoCredit) {
		t.Fatalf("beyond its credit: %v", err)
	}
	l.Placed("b", 1000)
	if err := l.Accept("b", "w", 201); !errors.Is(err, ErrOverCap) {
		t.Fatalf("beyond the writer cap: %v", err)
	}
	if err := l.Accept("b", "v", 500); err != nil {
		t.Fatal(err)
	}
	if err := l.Accept("b", "u", 300); !errors.Is(err, ErrFull) {
		t.Fatalf("beyond the quota: %v", err)
	}
	if l.Total != 800 || l.Get("b").HeldFor != 500 {
		t.Fatalf("a refusal booked bytes: %+v", l)
	}
	l.Audited("a", false, 150)
	l.Audited("a", false, 50)
	if !l.Bad("a") || l.Credit("a") != 0 || !errors.Is(l.Accept("a", "w", 1), ErrBad) {
		t.Fatalf("two failed audits: bad=%v credit=%d", l.Bad("a"), l.Credit("a"))
	}
	l.Audited("a", true, 0)
	if l.Bad("a") || l.Get("a").HeldBy != 0 {
		t.Fatalf("a pass makes good a strike, not the credit lost: %+v", l.Get("a"))
	}
	l.Dropped("b", "v", 500)
	if l.Total != 300 || l.Writers["v"] != 0 {
		t.Fatalf("after a drop: %+v", l)
	}
}

func TestRepairerIsOneForAll(t *testing.T) {
	ps := peers(10)
	r := Repairer([32]byte{9}, ps)
	for range 5 {
		slices.Reverse(ps)
		if Repairer([32]byte{9}, ps) != r {
			t.Fatal("members that see the same live set pick different repairers")
		}
	}
	if Repairer([32]byte{9}, nil) != "" {
		t.Fatal("a repairer among no one")
	}
}

func TestNeedsRepair(t *testing.T) {
	for _, c := range []struct {
		live, k, m int
		slack      float64
		want       bool
	}{
		{8, 4, 4, 0.5, false}, {7, 4, 4, 0.5, false}, {6, 4, 4, 0.5, false}, {5, 4, 4, 0.5, true},
		{9, 3, 7, 0.5, false}, {7, 3, 7, 0.5, false}, {6, 3, 7, 0.5, true},
		{3, 2, 2, 0, true}, {4, 2, 2, 0, false}, {1, 1, 0, 0.5, false},
	} {
		if got := NeedsRepair(c.live, c.k, c.m, c.slack); got != c.want {
			t.Errorf("%d live of %d+%d, slack %g: %v", c.live, c.k, c.m, c.slack, got)
		}
	}
}

package score

import (
	"math"
	"net/netip"
	"testing"
	"time"
)

// FuzzTable plays arbitrary calls on a small table and checks after each
// that it holds its bound, that the range counts match the connected
// peers, and that every standing is finite and agrees with its level.
// Each call is 3 bytes: the operation, the peer, an argument.
func FuzzTable(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 2, 0, 1, 2, 0, 1, 2, 1, 1, 9, 2, 1, 0, 5, 2, 3})
	f.Add([]byte{3, 1, 1, 3, 2, 1, 3, 3, 1, 3, 4, 1, 3, 5, 1, 4, 1, 0, 6, 2, 200, 7, 3, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p := DefaultParams()
		p.MaxPeers, p.ColocationThreshold = 4, 1
		tb := New(p)
		now := t0
		for i := 0; i+2 < len(b); i += 3 {
			op, peer, arg := b[i], PeerID(rune('a'+b[i+1]%6)), b[i+2]
			switch op % 8 {
			case 0, 1, 2:
				tb.Add(peer, Part(int(arg)%int(NumParts+1)), float64(arg%5)/2, now)
			case 3:
				tb.Connected(peer, netip.AddrFrom4([4]byte{203, 0, arg % 3, 1}), now)
			case 4:
				tb.Disconnected(peer)
			case 5:
				tb.Ban(peer, now.Add(time.Duration(arg)*time.Minute), now)
			case 6:
				now = now.Add(time.Duration(arg) * time.Minute)
			case 7:
				tb.Unban(peer)
			}
			check(t, tb, now)
		}
		saved := tb.Bans(now)
		other := New(p)
		other.Load(saved, now)
		for _, bn := range saved {
			if other.Level(bn.Peer, now) != tb.Level(bn.Peer, now) && now.Before(bn.Until) {
				t.Fatalf("%s banned until %v, not after a load", bn.Peer, bn.Until)
			}
		}
	})
}

func check(t *testing.T, tb *Table, now time.Time) {
	t.Helper()
	if tb.Len() > tb.p.MaxPeers {
		t.Fatalf("%d peers, bound %d", tb.Len(), tb.p.MaxPeers)
	}
	counts := map[netip.Prefix]int{}
	for _, s := range tb.peers {
		if s.conns > 0 && s.rng.IsValid() {
			counts[s.rng]++
		}
	}
	if len(counts) != len(tb.ranges) {
		t.Fatalf("ranges %v, connected %v", tb.ranges, counts)
	}
	for pf, n := range counts {
		if tb.ranges[pf] != n {
			t.Fatalf("ranges %v, connected %v", tb.ranges, counts)
		}
	}
	for _, p := range tb.Peers() {
		st := tb.Standing(p, now)
		if math.IsNaN(st.Score) || math.IsInf(st.Score, 0) {
			t.Fatalf("%s: score %v", p, st.Score)
		}
		if st.Level != Banned && (st.Score < tb.p.GossipThreshold) != (st.Level >= NoGossip) {
			t.Fatalf("%s: %+v", p, st)
		}
	}
}

package storage

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// FuzzLedger drives a ledger with a sequence of bookings drawn from the
// input — stores accepted or refused, drops of what it holds, placements
// and audits of four peers for three writers — and checks after each that
// its books balance: the total is the sum per writer and the sum per peer,
// nothing is negative, the quota and the writer cap hold, a refusal books
// nothing, and a peer with too many strikes gets nothing stored.
func FuzzLedger(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{3, 200, 3, 200, 3, 200, 0, 9, 0, 9, 1, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		l := NewLedger(Config{Quota: 5000, WriterCap: 3000, Free: 1000, Ratio: 1.5, FailLimit: 2})
		type held struct {
			peer, writer string
			size         int64
		}
		var stored []held
		for i := 0; i+1 < len(ops); i += 2 {
			p, w := fmt.Sprint("p", ops[i]>>2&3), fmt.Sprint("w", ops[i]>>4%3)
			size := int64(ops[i+1]) * 10
			before := l.Get(p)
			total := l.Total
			switch ops[i] & 3 {
			case 0:
				err := l.Accept(p, w, size)
				switch {
				case err == nil:
					stored = append(stored, held{p, w, size})
				case l.Total != total || l.Get(p) != before:
					t.Fatalf("op %d: a refusal (%v) booked something", i, err)
				case !errors.Is(err, ErrBad) && !errors.Is(err, ErrFull) && !errors.Is(err, ErrOverCap) && !errors.Is(err, ErrNoCredit):
					t.Fatalf("op %d: an untyped refusal: %v", i, err)
				}
				if err == nil && l.Bad(p) {
					t.Fatalf("op %d: a bad peer's store was accepted", i)
				}
			case 1:
				if len(stored) > 0 {
					k := int(ops[i+1]) % len(stored)
					h := stored[k]
					l.Dropped(h.peer, h.writer, h.size)
					stored = slices.Delete(stored, k, k+1)
				}
			case 2:
				l.Placed(p, size-1000)
			case 3:
				l.Audited(p, ops[i+1]&1 == 0, size)
			}
			var perWriter, perPeer int64
			for _, v := range l.Writers {
				perWriter += v
				if v < 0 || v > l.Config.WriterCap {
					t.Fatalf("op %d: a writer holds %d bytes, cap %d", i, v, l.Config.WriterCap)
				}
			}
			for q, a := range l.Accounts {
				perPeer += a.HeldFor
				if a.HeldFor < 0 || a.HeldBy < 0 || a.Strikes < 0 {
					t.Fatalf("op %d: %s's account went negative: %+v", i, q, *a)
				}
			}
			if l.Total != perWriter || l.Total != perPeer || l.Total < 0 || l.Total > l.Config.Quota {
				t.Fatalf("op %d: total %d, per writer %d, per peer %d, quota %d", i, l.Total, perWriter, perPeer, l.Config.Quota)
			}
		}
	})
}

// FuzzPlace: for any candidates and holders, every shard gets a peer when
// there is a candidate at all, each a candidate; a holder that is a
// candidate keeps its shard unless it holds another of the stripe; shards
// go to distinct peers while there are enough; and the placement does not
// depend on the candidates' order.
func FuzzPlace(f *testing.F) {
	f.Add([]byte("key"), uint8(10), uint8(12), []byte{0, 1, 2, 255, 3, 3})
	f.Add([]byte(""), uint8(5), uint8(2), []byte{})
	f.Fuzz(func(t *testing.T, key []byte, n, m uint8, hold []byte) {
		n, m = n%40, m%60
		candidates := peers(int(m))
		holders := make([][]string, n)
		for j, b := range hold { // a holder beyond the m candidates is one that left
			if n > 0 {
				holders[j%int(n)] = append(holders[j%int(n)], fmt.Sprintf("peer-%02d", b%64))
			}
		}
		to, send := Place(key, int(n), candidates, holders)
		if len(to) != int(n) || len(send) != int(n) {
			t.Fatalf("%d shards placed, %d asked", len(to), n)
		}
		reversed := slices.Clone(candidates)
		slices.Reverse(reversed)
		if to2, _ := Place(key, int(n), reversed, holders); !slices.Equal(to, to2) {
			t.Fatalf("the candidates' order changed the placement: %v, %v", to, to2)
		}
		used := map[string]int{}
		for j, p := range to {
			if len(candidates) == 0 {
				if p != "" {
					t.Fatalf("shard %d to %q with no candidates", j, p)
				}
				continue
			}
			if !slices.Contains(candidates, p) {
				t.Fatalf("shard %d to %q, not a candidate", j, p)
			}
			if !send[j] && !slices.Contains(holders[j], p) {
				t.Fatalf("shard %d kept at %q, which does not hold it", j, p)
			}
			used[p]++
		}
		if len(candidates) >= int(n) {
			for p, k := range used {
				if k > 1 {
					t.Fatalf("%q takes %d shards of %d among %d candidates", p, k, n, len(candidates))
				}
			}
		}
	})
}

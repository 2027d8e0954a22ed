package storage

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"

	"lukechampine.com/blake3"
)

// Score is a peer's rendezvous weight for a key: BLAKE3-256 of
// "hearsay-place-v1", the key's length (uint32, big-endian), the key and
// the peer id. Higher ranks first.
func Score(key []byte, peer string) [32]byte {
	h := blake3.New(32, nil)
	h.Write([]byte("hearsay-place-v1"))
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(key))))
	h.Write(key)
	h.Write([]byte(peer))
	var s [32]byte
	h.Sum(s[:0])
	return s
}

// Scored is a peer with its weight for some key.
type Scored struct {
	Peer  string
	Score [32]byte
}

// Less orders by weight, highest first; ties (impossible but for equal
// ids) by id.
func (a Scored) Less(b Scored) int {
	if c := bytes.Compare(b.Score[:], a.Score[:]); c != 0 {
		return c
	}
	return strings.Compare(a.Peer, b.Peer)
}

// Rank orders peers by their rendezvous weight for key, highest first. The
// order depends only on key and the set of peers, not on the order given.
func Rank(key []byte, peers []string) []string {
	rs := make([]Scored, 0, len(peers))
	for _, p := range peers {
		rs = append(rs, Scored{p, Score(key, p)})
	}
	slices.SortFunc(rs, Scored.Less)
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Peer
	}
	return slices.Compact(out)
}

// Place assigns the n shards of a stripe to peers: each shard a distinct
// peer while there are enough, in rendezvous order for key.
// holders[j] lists the peers known to hold shard j already (nil: none); a
// shard held by a peer that holds no other shard of the stripe stays there.
// The others go to the best-ranked peers that hold nothing of the stripe.
// With fewer candidates than shards, peers take more than one, best-ranked
// first: the stripe is then less safe than its parameters say, and the
// status says so. Place returns, for each shard, its peer ("" if there are
// no candidates at all) and whether that peer must be sent the shard.
func Place(key []byte, n int, candidates []string, holders [][]string) (to []string, send []bool) {
	return PlaceRanked(Rank(key, candidates), n, holders)
}

// PlaceRanked is Place over candidates already in rendezvous order (for
// a caller that keeps each key's ranking as peers come and go).
func PlaceRanked(ranked []string, n int, holders [][]string) (to []string, send []bool) {
	candidate := map[string]bool{} // the holders named that are candidates: one pass over ranked
	for _, hs := range holders {
		for _, h := range hs {
			candidate[h] = false
		}
	}
	for _, p := range ranked {
		if _, ok := candidate[p]; ok {
			candidate[p] = true
		}
	}
	used := map[string]int{}
	to, send = make([]string, n), make([]bool, n)
	for j := range n {
		if j < len(holders) {
			for _, h := range holders[j] {
				if used[h] == 0 && candidate[h] {
					to[j] = h
					used[h]++
					break
				}
			}
		}
	}
	for j := range n {
		if to[j] != "" || len(ranked) == 0 {
			continue
		}
		best := ""
		for _, p := range ranked { // the best-ranked peer with the fewest shards of the stripe
			if best == "" || used[p] < used[best] {
				best = p
			}
			if used[p] == 0 {
				break
			}
		}
		to[j], send[j] = best, true
		used[best]++
	}
	return to, send
}

// Repairer picks the one peer, of the live peers that hold a file's group,
// that repairs it: the first in rendezvous order for the file. Every member
// that sees the same live set picks the same one, so they do not all
// repair at once; one whose view differs may repair too, which costs
// bandwidth, never correctness.
func Repairer(table [32]byte, live []string) string {
	r := Rank(table[:], live)
	if len(r) == 0 {
		return ""
	}
	return r[0]
}

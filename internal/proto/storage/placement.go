package storage

import (
	"bytes"
	"encoding/binary"
	"slices"

	"lukechampine.com/blake3"
)

// score is a peer's rendezvous weight for a key.
func score(key []byte, peer string) []byte {
	h := blake3.New(32, nil)
	h.Write([]byte("hearsay-place-v1"))
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(key))))
	h.Write(key)
	h.Write([]byte(peer))
	return h.Sum(nil)
}

// Rank orders peers by their rendezvous weight for key, highest first; ties
// (impossible but for equal ids) by id. The order depends only on key and
// the set of peers, not on the order given.
func Rank(key []byte, peers []string) []string {
	type ranked struct {
		peer  string
		score []byte
	}
	rs := make([]ranked, 0, len(peers))
	for _, p := range peers {
		rs = append(rs, ranked{p, score(key, p)})
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := bytes.Compare(b.score, a.score); c != 0 {
			return c
		}
		return bytes.Compare([]byte(a.peer), []byte(b.peer))
	})
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.peer
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
	ranked := Rank(key, candidates)
	used := map[string]int{}
	to, send = make([]string, n), make([]bool, n)
	for j := range n {
		if j < len(holders) {
			for _, h := range holders[j] {
				if used[h] == 0 && slices.Contains(ranked, h) {
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

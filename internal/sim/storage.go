package sim

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"

	"hearsay/internal/proto/storage"
)

// StorageConfig is a simulation of the storage market's decisions over
// time: files placed by rendezvous (storage.Place), holders that leave for
// good or for a while, holders that throw shards away until audits catch
// them, and the one repairer per file (storage.Repairer) restoring k+m
// shards on distinct live holders every round. It drives the same core the
// node does; what it leaves out is the transfer itself and partial
// knowledge (every node sees every live node).
type StorageConfig struct {
	Nodes, Files int
	K, M         int
	Rounds       int     // repair rounds (a round is RepairEvery in the node)
	Leave        float64 // probability per round that a node leaves for good (a replacement joins)
	Offline      float64 // probability per round that a node is offline that round
	Cheaters     float64 // fraction of the nodes that throw every shard away
	Catch        float64 // probability per round that audits expose a given cheater holding shards
	Slack        float64 // storage.Config.RepairSlack: the parity that may be missing before a repair
	Seed         uint64
}

// DefaultStorageConfig: 1000 nodes, 1000 files of Tahoe's 3+7, 200 rounds,
// 0.1% of the nodes leaving each round, 5% offline at any time, the
// node's default repair slack.
func DefaultStorageConfig() StorageConfig {
	return StorageConfig{Nodes: 1000, Files: 1000, K: 3, M: 7, Rounds: 200, Leave: 0.001, Offline: 0.05, Catch: 0.5,
		Slack: storage.DefaultConfig().RepairSlack, Seed: 1}
}

// StorageResult is what a storage simulation measured.
type StorageResult struct {
	StorageConfig
	Lost            int     `json:"lost"`              // files with fewer than k shards held anywhere: gone for good
	Unavailable     float64 `json:"unavailable"`       // fraction of file-rounds with fewer than k shards really online
	Degraded        float64 `json:"degraded"`          // fraction of file-rounds below k+m distinct honest online holders after repair
	RepairsPerRound float64 `json:"repairs_per_round"` // shards rebuilt and placed per round
	MovedPerNode    float64 `json:"moved_per_node"`    // shards each node received for repair, over the run
	LoadMax         int     `json:"load_max"`          // most shards on one node at the end
	LoadMean        float64 `json:"load_mean"`         // shards per live node at the end
	Caught          int     `json:"caught"`            // cheaters exposed by audits
}

type simFile struct {
	table   [32]byte
	holders []string         // shard j's holder; "" when lost
	rank    []storage.Scored // every present node, in rendezvous order for the file
}

// join and leave keep a file's ranking current: one hash per node that
// comes, none per node that goes, instead of ranking every node again.
func (f *simFile) join(id string) {
	s := storage.Scored{Peer: id, Score: storage.Score(f.table[:], id)}
	i, _ := slices.BinarySearchFunc(f.rank, s, storage.Scored.Less)
	f.rank = slices.Insert(f.rank, i, s)
}

func (f *simFile) leave(id string) {
	f.rank = slices.DeleteFunc(f.rank, func(s storage.Scored) bool { return s.Peer == id })
}

// ranked is the file's ranking less the nodes that are not candidates now.
func (f *simFile) ranked(ok func(string) bool) []string {
	out := make([]string, 0, len(f.rank))
	for _, s := range f.rank {
		if ok(s.Peer) {
			out = append(out, s.Peer)
		}
	}
	return out
}

// RunStorage runs a storage simulation; the same config gives the same result.
func RunStorage(c StorageConfig) StorageResult {
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed^0x5eed))
	n := c.K + c.M
	next := 0
	newNode := func() string { next++; return fmt.Sprintf("node-%07d", next) }
	live := map[string]bool{} // present (maybe offline this round)
	cheater := map[string]bool{}
	bad := map[string]bool{} // exposed by audits: no candidate, not a holder
	var order []string
	for range c.Nodes {
		id := newNode()
		live[id] = true
		order = append(order, id)
		cheater[id] = rng.Float64() < c.Cheaters
	}
	files := make([]*simFile, c.Files)
	for i := range files {
		f := &simFile{}
		binary.BigEndian.PutUint64(f.table[:], uint64(i))
		binary.BigEndian.PutUint64(f.table[8:], c.Seed)
		for _, id := range order {
			f.join(id)
		}
		f.holders, _ = storage.PlaceRanked(f.ranked(func(string) bool { return true }), n, nil)
		files[i] = f
	}
	res := StorageResult{StorageConfig: c}
	var unavailable, degraded, repairs int
	for range c.Rounds {
		// Departures (each replaced by a newcomer), and who is online.
		for i, id := range order {
			if rng.Float64() < c.Leave {
				delete(live, id)
				nid := newNode()
				live[nid] = true
				cheater[nid] = rng.Float64() < c.Cheaters
				order[i] = nid
				for _, f := range files {
					f.leave(id)
					f.join(nid)
				}
			}
		}
		online := map[string]bool{}
		for _, id := range order {
			online[id] = rng.Float64() >= c.Offline
		}
		for _, id := range order {
			if cheater[id] && !bad[id] && rng.Float64() < c.Catch {
				bad[id] = true
				res.Caught++
			}
		}
		candidate := func(id string) bool { return online[id] && !bad[id] }
		for _, f := range files {
			// What is really there (shards on present, honest holders),
			// and what the members believe: every online holder not yet
			// exposed answers that it holds its shard, cheaters too.
			real, believed := 0, make([][]string, n)
			var up []string
			for j, h := range f.holders {
				if h == "" || !live[h] {
					continue
				}
				if !cheater[h] && online[h] {
					real++
				}
				if online[h] && !bad[h] {
					believed[j] = []string{h}
					up = append(up, h)
				}
			}
			if real < c.K {
				unavailable++
			}
			if storage.NeedsRepair(distinct(up), c.K, c.M, c.Slack) && len(up) >= c.K && storage.Repairer(f.table, up) != "" {
				to, send := storage.PlaceRanked(f.ranked(candidate), n, believed)
				for j := range to {
					if send[j] {
						repairs++
					}
					f.holders[j] = to[j]
				}
			}
			if realDistinct(f, online, live, cheater) < n {
				degraded++
			}
		}
	}
	for _, f := range files {
		held := 0
		for _, h := range f.holders {
			if h != "" && live[h] && !cheater[h] {
				held++
			}
		}
		if held < c.K {
			res.Lost++
		}
	}
	load := map[string]int{}
	for _, f := range files {
		for _, h := range f.holders {
			if live[h] {
				load[h]++
			}
		}
	}
	for _, l := range load {
		res.LoadMax = max(res.LoadMax, l)
	}
	fileRounds := float64(c.Files * c.Rounds)
	res.Unavailable = float64(unavailable) / fileRounds
	res.Degraded = float64(degraded) / fileRounds
	res.RepairsPerRound = float64(repairs) / float64(c.Rounds)
	res.MovedPerNode = float64(repairs) / float64(len(live))
	res.LoadMean = float64(c.Files*n) / float64(len(live))
	return res
}

func distinct(hs []string) int {
	s := slices.Clone(hs)
	slices.Sort(s)
	return len(slices.Compact(s))
}

// realDistinct counts a file's distinct present, online, honest holders.
func realDistinct(f *simFile, online, live, cheater map[string]bool) int {
	var up []string
	for _, h := range f.holders {
		if h != "" && live[h] && online[h] && !cheater[h] {
			up = append(up, h)
		}
	}
	return distinct(up)
}

// Package sim is a deterministic discrete-event simulator that drives the
// protocol cores the node ships — hyparview, plumtree, negentropy — over a
// virtual network with a virtual clock: per-link latency, loss, duplication,
// crashes and restarts. The same seed gives the same run, bit for bit: all
// randomness comes from one seeded generator, events are ordered by (time,
// sequence), and no map order reaches an output.
package sim

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/negentropy"
	"hearsay/internal/proto/plumtree"
)

// Config describes one run.
type Config struct {
	Nodes int
	Posts int
	// Drop is the probability that a message is lost; Dup that it arrives twice.
	Drop, Dup float64
	// Crash is the fraction of nodes that crash mid-run and stay down.
	Crash float64
	// Partition is the fraction of nodes cut off from the others for
	// PartitionFor, from a third into the posts; messages across the cut
	// are lost, and nothing tells the overlay.
	Partition    float64
	PartitionFor time.Duration
	Seed         uint64
	// Latency is the range of one-way link latencies, drawn per message.
	MinLatency, MaxLatency time.Duration
	// PostEvery spaces the posts; AntiEntropyEvery is each node's period.
	PostEvery, AntiEntropyEvery time.Duration
	Overlay                     hyparview.Config
	Broadcast                   plumtree.Config
}

// DefaultConfig is a run of n nodes and p posts with no faults.
func DefaultConfig(n, p int) Config {
	return Config{Nodes: n, Posts: p, Seed: 1, MinLatency: 10 * time.Millisecond, MaxLatency: 100 * time.Millisecond,
		PostEvery: 500 * time.Millisecond, AntiEntropyEvery: 5 * time.Second,
		Overlay: hyparview.DefaultConfig(), Broadcast: plumtree.DefaultConfig()}
}

// node is one simulated node: the cores and an in-memory store.
type node struct {
	id      hyparview.PeerID
	overlay *hyparview.State
	bcast   *plumtree.State
	store   store
	down    bool
}

// store is the node's entries: payloads by id, and the items reconciliation
// ranges over.
type store struct {
	payloads map[plumtree.MessageID][]byte
	items    negentropy.Tree
}

func (s *store) Payload(id plumtree.MessageID) ([]byte, bool) { p, ok := s.payloads[id]; return p, ok }

func (s *store) put(id plumtree.MessageID, at time.Duration, payload []byte) bool {
	if _, ok := s.payloads[id]; ok {
		return false
	}
	s.payloads[id] = payload
	s.items.Insert(negentropy.Item{Timestamp: uint64(at), ID: negentropy.ID(id)})
	return true
}

// Sim is one run in progress.
type Sim struct {
	cfg   Config
	rng   *rand.Rand
	now   time.Duration
	seq   int
	queue eventQueue
	nodes []*node
	index map[hyparview.PeerID]int
	m     metrics
	done  bool
	// cut marks one side of the partition; it applies in [cutFrom, cutTo).
	cut            []bool
	cutFrom, cutTo time.Duration
}

// severed reports whether a and b are on two sides of a partition now.
func (s *Sim) severed(a, b int) bool {
	return s.cut != nil && s.now >= s.cutFrom && s.now < s.cutTo && s.cut[a] != s.cut[b]
}

// New builds the network; Run runs it.
func New(cfg Config) *Sim {
	s := &Sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed)), index: map[hyparview.PeerID]int{}}
	s.m = metrics{published: map[plumtree.MessageID]time.Duration{}, copies: map[plumtree.MessageID]int{}}
	for i := range cfg.Nodes {
		id := hyparview.PeerID(fmt.Sprintf("n%d", i))
		n := &node{id: id, store: store{payloads: map[plumtree.MessageID][]byte{}}}
		n.overlay = hyparview.New(cfg.Overlay, id, rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1)))
		n.bcast = plumtree.New(cfg.Broadcast, &n.store)
		s.nodes = append(s.nodes, n)
		s.index[id] = i
	}
	return s
}

type event struct {
	at    time.Duration
	seq   int
	to    int
	from  int
	msg   any // a hyparview.Message, a plumtree.Message or a recon
	timer any // a hyparview.Timer, a plumtree.Timer or a local action
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (s *Sim) at(delay time.Duration, e *event) {
	s.seq++
	e.at, e.seq = s.now+delay, s.seq
	heap.Push(&s.queue, e)
}

// local actions scheduled as timers
type (
	join        struct{ contact int }
	publish     struct{ id plumtree.MessageID }
	antiEntropy struct{}
	crash       struct{}
)

// send puts a message on the wire: lost with probability Drop, doubled with
// probability Dup, each copy after its own latency.
func (s *Sim) send(from, to int, msg any, payloadBytes int) {
	s.m.count(from, msg, payloadBytes)
	if s.rng.Float64() < s.cfg.Drop || s.severed(from, to) {
		return
	}
	copies := 1
	if s.rng.Float64() < s.cfg.Dup {
		copies = 2
	}
	for range copies {
		s.at(s.latency(from, to), &event{to: to, from: from, msg: msg})
	}
}

// latency is a link's one-way delay: a base fixed per link (drawn from the
// seed, so a link keeps its character) and up to 10% jitter per message.
func (s *Sim) latency(a, b int) time.Duration {
	if a > b {
		a, b = b, a
	}
	h := mix(s.cfg.Seed ^ mix(uint64(a)<<32|uint64(b)))
	span := uint64(s.cfg.MaxLatency - s.cfg.MinLatency)
	base := s.cfg.MinLatency + time.Duration(h%(span+1))
	return base + time.Duration(s.rng.Int64N(int64(base)/10+1))
}

// mix is splitmix64's finalizer: a stable hash of a link.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

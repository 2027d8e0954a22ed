// Package sim is a deterministic discrete-event simulator that drives the
// protocol cores the node ships — each group's core (proto/topic: the
// hyparview overlay, the plumtree broadcast and the node's peer policy),
// negentropy — over a virtual network with a virtual clock: per-link latency, loss, duplication,
// crashes, churn (leaves, restarts, newcomers), partitions, and many groups
// per node. The same seed gives the same run, bit for bit: all
// randomness comes from one seeded generator, events are ordered by (time,
// sequence), and no map order reaches an output.
package sim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
	"hearsay/internal/proto/topic"
)

// Config describes one run.
type Config struct {
	// Nodes is how many nodes build the overlay; the churn adds newcomers.
	Nodes int
	Posts int
	// Groups is how many groups the nodes form, in [1, 2^24); zero means
	// one. One group holds every node; with more, each node joins one to
	// three (see memberships), runs one overlay and one broadcast state per
	// group, and each post goes to a random group.
	Groups int
	// GroupsPerNode is the most groups a node joins (zero: three); Zipf,
	// above 1, draws which from a Zipf law of that exponent (memberships).
	GroupsPerNode int
	Zipf          float64
	// ShareLinks has a node in several groups prefer, as neighbours in
	// each, the peers it links to for another (links.go).
	ShareLinks bool
	// Drop is the probability that a message is lost; Dup that it arrives twice.
	Drop, Dup float64
	// Crash is the fraction of the initial nodes that crash mid-run and
	// stay down.
	Crash float64
	// Churn is the fraction of the initial nodes, crashing ones aside,
	// that leave once at a random time during the posts and come back
	// within [0, ChurnAway) with their stores; half as many brand-new nodes
	// join during the posts. See churn.go. REQUIRES: ChurnAway > 0 if
	// Churn > 0.
	Churn     float64
	ChurnAway time.Duration
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
	// Check checks each node's invariants after every event it handles
	// (faults.go); the run's Violations say what broke.
	Check bool
	// Skew sets each node's clock off the true time by an offset drawn
	// from [-Skew, +Skew]. A node stamps a post with its hybrid clock (its
	// own time, or just after the latest stamp it holds) and refuses one
	// stamped more than MaxSkew ahead of its own time — not stored, not
	// forwarded — until its time comes, as group.MaxSkew has the node do
	// (TestMaxSkewIsTheNodes). Zero: one clock.
	Skew, MaxSkew time.Duration
	// Attack, if set, has a fraction Attackers of the initial nodes attack
	// during the posts, per plan (attack.go); Quota is then the entries
	// per author an honest node stores (zero: DefaultQuota). The figures
	// are the honest posts' at the honest nodes, and Result.Attack says
	// what the attackers got. REQUIRES: one group (quotas and sequence
	// numbers are counted per author), no crashes, no churn.
	Attack    Plan
	Attackers float64
	Quota     int
}

// DefaultConfig is a run of n nodes and p posts in one group with no
// faults.
func DefaultConfig(n, p int) Config {
	return Config{Nodes: n, Posts: p, Groups: 1, Seed: 1, MinLatency: 10 * time.Millisecond, MaxLatency: 100 * time.Millisecond,
		PostEvery: 500 * time.Millisecond, AntiEntropyEvery: 5 * time.Second, ChurnAway: 30 * time.Second,
		MaxSkew: 10 * time.Minute, ShareLinks: true, Overlay: hyparview.DefaultConfig(), Broadcast: plumtree.DefaultConfig()}
}

// node is one simulated node: whether it runs, and its groups.
type node struct {
	id   hyparview.PeerID
	down bool
	// epoch counts the starts the churn gave the node: an event meant for
	// an earlier incarnation (its timers, messages in flight to it) is
	// dropped.
	epoch int
	// since is when the current incarnation started: older posts reach it
	// by catch-up, which the latencies leave out.
	since  time.Duration
	groups []int     // ascending
	in     []*member // in[k] is the node's part in groups[k]
	// links are the peers the node has as neighbours, by peer, when it
	// shares links across its groups (links.go).
	links []peerLink
	// rtts are the round-trip times the node measured (rttcache.go).
	rtts []rttSample
	// offset is how far the node's clock is off (Config.Skew); last is
	// its hybrid clock: the latest stamp it wrote or stored.
	offset, last time.Duration
}

// member returns the node's part in group g; g must be one of its groups.
func (n *node) member(g int) *member {
	for k, h := range n.groups {
		if h == g {
			return n.in[k]
		}
	}
	panic(fmt.Sprintf("sim: %s is not in group %d", n.id, g))
}

// member is a node's part in one group, as the real node keeps one core
// (overlay, broadcast, policy) and one reconciliation index per group.
type member struct {
	core  *topic.State
	store store
	// links are the active neighbours and the incarnation each was in when
	// it entered the view: a restart breaks the connection, and the next
	// send on it finds out.
	links []link
	// held is how many posts the store held at the last check.
	held int
}

type link struct{ peer, epoch int }

// Sim is one run in progress.
type Sim struct {
	cfg   Config
	rng   *rand.Rand
	now   time.Duration
	seq   int
	queue eventQueue
	// nodes are the cfg.Nodes initial nodes, then the churn's newcomers.
	nodes  []*node
	groups [][]int // each group's members, ascending
	m      metrics
	done   bool
	// cut marks one side of the partition; it applies in [cutFrom, cutTo).
	cut            []bool
	cutFrom, cutTo time.Duration
	// events counts the events handled; violations are the invariants
	// broken, with cfg.Check (faults.go).
	events     int64
	violations []Violation
	// stamps are the posts' stamps, each its author's hybrid clock when it
	// wrote it, offset by Config.Skew so that none is negative.
	stamps map[plumtree.MessageID]time.Duration
	// posts are the posts published, which the stores refer to.
	posts catalog
	// restarted says a node has started again (churn, or an attack's
	// fresh identity): until then no incarnation differs from the one a
	// neighbour connected to, and reachable and heard need not look.
	restarted bool
	// att is the attack in progress; nil without one.
	att *attack
	// picking says a node's anti-entropy tick is collecting its groups'
	// picks, in picks (antientropy.go).
	picking bool
	picks   []pick
}

// nodeID is node i's peer id, "n" and i in decimal; nodeIndex reads i
// back from it. Reading it back is cheaper than a map from the ids to
// the nodes, which took 3–5% of a run's CPU and, at 10^6 nodes, tens of
// megabytes.
func nodeID(i int) hyparview.PeerID { return hyparview.PeerID("n" + strconv.Itoa(i)) }

func nodeIndex(p hyparview.PeerID) int {
	i := 0
	for _, c := range []byte(p[1:]) {
		i = 10*i + int(c-'0')
	}
	return i
}

// severed reports whether a and b are on two sides of a partition now.
func (s *Sim) severed(a, b int) bool {
	return s.cut != nil && s.now >= s.cutFrom && s.now < s.cutTo && s.cut[a] != s.cut[b]
}

// New builds the network; Run runs it.
func New(cfg Config) *Sim {
	cfg.Groups = max(cfg.Groups, 1)
	if cfg.GroupsPerNode <= 0 {
		cfg.GroupsPerNode = 3
	}
	s := &Sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		stamps: map[plumtree.MessageID]time.Duration{}, posts: catalog{ordinal: map[plumtree.MessageID]uint32{}}}
	s.m = metrics{published: map[plumtree.MessageID]time.Duration{}, copies: map[plumtree.MessageID]int{}}
	newcomers := int(cfg.Churn * float64(cfg.Nodes) / 2)
	s.groups = make([][]int, cfg.Groups)
	for i, groups := range memberships(s.rng, cfg.Groups, cfg.GroupsPerNode, cfg.Zipf, cfg.Nodes, cfg.Nodes+newcomers) {
		n := &node{id: nodeID(i), down: i >= cfg.Nodes, groups: groups}
		for _, g := range groups {
			m := &member{store: store{posts: &s.posts}}
			n.in = append(n.in, m)
			s.groups[g] = append(s.groups[g], i)
		}
		s.nodes = append(s.nodes, n)
		s.fresh(i)
	}
	if cfg.Skew > 0 {
		for _, n := range s.nodes {
			n.offset = time.Duration(s.rng.Int64N(2*int64(cfg.Skew)+1)) - cfg.Skew
		}
	}
	if cfg.Attack != "" {
		s.att = newAttack(s)
	}
	return s
}

// stamp is node i's hybrid clock for a post it writes now: its own time,
// or just after the latest stamp it holds, whichever is later.
func (s *Sim) stamp(i int) time.Duration {
	n := s.nodes[i]
	n.last = max(s.now+n.offset+s.cfg.Skew, n.last+1)
	return n.last
}

// admissible reports whether node i, at its own time at, takes post id:
// one stamped more than MaxSkew ahead of it is from the future.
func (s *Sim) admissible(i int, id plumtree.MessageID, at time.Duration) bool {
	return s.cfg.Skew == 0 || s.stamps[id] <= at+s.nodes[i].offset+s.cfg.Skew+s.cfg.MaxSkew
}

// admit stores post id in node i's part of group g if it is admissible
// now: ok reports whether it was, stored whether it was new. A refusal is
// counted.
func (s *Sim) admit(i, g int, id plumtree.MessageID) (stored, ok bool) {
	if !s.admissible(i, id, s.now) {
		s.m.future++
		return false, false
	}
	n := s.nodes[i]
	n.last = max(n.last, s.stamps[id])
	return n.member(g).store.put(id), true
}

// fresh gives node i new cores in each of its groups, keeping its stores.
// Each core draws from its own stream, named by node, group and
// incarnation.
func (s *Sim) fresh(i int) {
	n := s.nodes[i]
	cfg := topic.DefaultConfig()
	cfg.Overlay, cfg.Broadcast = s.cfg.Overlay, s.cfg.Broadcast
	for k, g := range n.groups {
		m := n.in[k]
		// INVARIANT: i < 2^32, g < 2^24, epoch < 2^8; group 0's first
		// incarnation keeps the stream i+1 of single-group runs.
		stream := uint64(n.epoch)<<56 | uint64(g)<<32 | (uint64(i) + 1)
		m.core = topic.New(cfg, n.id, rand.New(rand.NewPCG(s.cfg.Seed, stream)), &m.store)
		m.links = nil
		if s.sharing(i) {
			m.core.Shared(sharedTest(n, m))
		}
	}
	n.links, n.rtts = nil, nil
}

// epoch is the wall time the virtual clock starts at, for the cores.
var epoch = time.Unix(0, 0).UTC()

// local actions scheduled as timers
type (
	join    struct{ contact int }
	publish struct {
		id    plumtree.MessageID
		group int
	}
	antiEntropy struct{}
	crash       struct{}
	// synced ends a sync session with peer that brought received entries
	// (topic.SyncDone).
	synced struct{ peer, received int }
)

// send puts a message on the wire: lost with probability Drop, doubled with
// probability Dup, each copy after its own latency.
func (s *Sim) send(from, to, group int, msg any, payloadBytes int) {
	if s.att != nil {
		if !s.att.sends(s, from, to, msg) {
			return
		}
		msg, payloadBytes = s.att.poison(s, from, msg, payloadBytes)
	}
	s.m.count(from, msg, payloadBytes)
	if s.rng.Float64() < s.cfg.Drop || s.severed(from, to) {
		return
	}
	copies := 1
	if s.rng.Float64() < s.cfg.Dup {
		copies = 2
	}
	for range copies {
		s.at(s.latency(from, to), eventSpec{to: to, from: from, group: group, what: msg})
	}
}

// latency is a link's one-way delay: a base fixed per link (drawn from the
// seed, so a link keeps its character) and up to 10% jitter per message.
func (s *Sim) latency(a, b int) time.Duration {
	base := s.baseLatency(a, b)
	return base + time.Duration(s.rng.Int64N(int64(base)/10+1))
}

// baseLatency is the fixed part of a link's latency.
func (s *Sim) baseLatency(a, b int) time.Duration {
	if a > b {
		a, b = b, a
	}
	h := mix(s.cfg.Seed ^ mix(uint64(a)<<32|uint64(b)))
	span := uint64(s.cfg.MaxLatency - s.cfg.MinLatency)
	return s.cfg.MinLatency + time.Duration(h%(span+1))
}

// mix is splitmix64's finalizer: a stable hash of a link.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

package sim

import (
	"slices"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
	"hearsay/internal/proto/score"
	"hearsay/internal/proto/topic"
)

// Result is what `hearsay sim` prints.
type Result struct {
	// Nodes counts every node that took part, the churn's newcomers
	// included; Live those up at the end.
	Nodes int `json:"nodes"`
	Live  int `json:"live"`
	Posts int `json:"posts"`
	// Groups is left zero, and out of the JSON, for a single group.
	Groups int     `json:"groups,omitempty"`
	Seed   uint64  `json:"seed"`
	Drop   float64 `json:"drop"`
	Crash  float64 `json:"crash"`
	Churn  float64 `json:"churn,omitempty"`
	// Joined counts the churn's brand-new nodes.
	Joined int `json:"joined,omitempty"`
	// Delivery is the fraction of (post, live member of the post's group)
	// pairs delivered, by broadcast or anti-entropy, when the run is
	// quiescent; the posts counted are those some live member holds (a
	// post only crashed nodes hold cannot reach anyone). Lost counts the
	// others.
	Delivery float64 `json:"delivery"`
	Lost     int     `json:"lost"`
	// RMR is the relative message redundancy of payload messages, m/(n-1)-1
	// per post with n the group's live members, over each group's posts
	// after its first tenth (its tree forming), pooled: the sum of the m
	// over the sum of the n-1.
	RMR     float64 `json:"rmr"`
	HopsP50 int     `json:"hops_p50"`
	HopsP99 int     `json:"hops_p99"`
	HopsMax int     `json:"hops_max"`
	// Latencies are simulated, from publication to delivery, to the nodes
	// up since the publication.
	LatencyP50 float64 `json:"latency_ms_p50"`
	LatencyP99 float64 `json:"latency_ms_p99"`
	// Per node per post: every protocol's messages after the overlay
	// formed, over the sum, across posts, of the post's group's members
	// (every node, for a single group).
	MsgsPerNodePerEntry  float64 `json:"msgs_per_node_per_entry"`
	BytesPerNodePerEntry float64 `json:"bytes_per_node_per_entry"`
	// Connections are, over the nodes up at the end, each node's distinct
	// neighbours across its memberships (the union of its active views):
	// the connections the node holds open.
	ConnectionsMean float64 `json:"connections_mean"`
	ConnectionsP99  int     `json:"connections_p99"`
	ConnectionsMax  int     `json:"connections_max"`
	// Idle cost is what a membership sends whatever the posts, per
	// membership per second from the first post to the end: the overlay's
	// messages (shuffles, joins, trades, repairs), its pings (one each way)
	// and anti-entropy's rounds without the entries they move. A group
	// without posts costs each member that.
	IdleMsgsPerMemberPerS  float64 `json:"idle_msgs_per_member_per_s"`
	IdleBytesPerMemberPerS float64 `json:"idle_bytes_per_member_per_s"`
	// IdleByKind splits the idle messages per membership per second:
	// shuffles (and their replies), trades (Optimize and its reply), the
	// other overlay messages (joins, Neighbor requests, disconnections),
	// pings (one each way), anti-entropy's session legs, and the lists of
	// groups a new shared connection brings (links.go).
	IdleByKind IdleKinds `json:"idle_msgs_by_kind"`
	// Events counts the simulator's events: its unit of work.
	Events int64 `json:"events"`
	// Future counts the copies refused as from the future (Config.Skew):
	// pushes and entries of sync sessions.
	Future int `json:"refused_future,omitempty"`
	// Charged counts, in a run without an attack, the charges the cores
	// made of peers (topic.Charge: broken promises), every one of an honest
	// peer; ChargedScoreMin is the lowest score those charges brought one
	// peer to at one node (proto/score's DefaultParams: below −0.5 nothing
	// is pushed to it, below −2 it is graylisted). Not acted on (charges.go).
	Charged         int     `json:"charged,omitempty"`
	ChargedScoreMin float64 `json:"charged_score_min,omitempty"`
	// Attack is what an attacked run measured (Config.Attack).
	Attack *AttackResult `json:"attack,omitempty"`
}

type metrics struct {
	published map[plumtree.MessageID]time.Duration
	order     []plumtree.MessageID
	groups    []int                      // groups[k] is the group of order[k]
	copies    map[plumtree.MessageID]int // payload messages sent per post
	hops      []int                      // hops[h] counts the deliveries at h hops, h > 0
	latencies []time.Duration
	msgs      int
	bytes     int
	future    int
	// idleMsgs and idleBytes are the idle cost's (Result), since the first
	// post, which was published at postsFrom.
	idleMsgs, idleBytes int
	idleKinds           [idleKinds]int
	postsFrom           time.Duration
	// scores, charged and chargedMin are an unattacked run's charges of
	// honest peers (charges.go).
	scores     map[int]*score.Table
	charged    int
	chargedMin float64
}

func (m *metrics) count(_ int, msg any, payloadBytes int) {
	if g, ok := msg.(plumtree.Gossip); ok {
		m.copies[g.ID]++
	}
	if len(m.order) == 0 {
		return // still forming the overlay
	}
	m.msgs++
	m.bytes += size(msg) + payloadBytes
	if _, ok := msg.(hyparview.Message); ok {
		m.idleMsgs++
		m.idleBytes += size(msg)
		m.idleKinds[overlayKind(msg)]++
	}
}

// The kinds of idle messages (Result.IdleByKind).
const (
	idleShuffle = iota
	idleTrade
	idleOverlay
	idlePing
	idleSync
	idleGroups
	idleKinds
)

// IdleKinds are Result.IdleByKind's parts, in messages per membership per
// second.
type IdleKinds struct {
	Shuffle float64 `json:"shuffle"`
	Trade   float64 `json:"trade"`
	Overlay float64 `json:"overlay"`
	Ping    float64 `json:"ping"`
	Sync    float64 `json:"sync"`
	Groups  float64 `json:"groups"`
}

func overlayKind(msg any) int {
	switch msg.(type) {
	case hyparview.Shuffle, hyparview.ShuffleReply:
		return idleShuffle
	case hyparview.Optimize, hyparview.OptimizeReply:
		return idleTrade
	}
	return idleOverlay
}

// pinged counts a measurement's ping and pong, which the per-entry figures
// leave out.
func (m *metrics) pinged() {
	if len(m.order) > 0 {
		m.idleMsgs += 2
		m.idleBytes += 2 * size(nil)
		m.idleKinds[idlePing] += 2
	}
}

// size estimates a message's encoding, payload aside.
func size(msg any) int {
	switch m := msg.(type) {
	case plumtree.Gossip:
		return 32 + 4
	case plumtree.IHave:
		return 4 + 36*len(m.Announced)
	case hyparview.Shuffle:
		return 12 + 40*len(m.Peers)
	case hyparview.ShuffleReply:
		return 4 + 40*len(m.Peers)
	}
	return 40
}

// delivered records a node's first copy of id, at hops from the origin
// (0 for the origin, -1 by anti-entropy). since is when the node's current
// incarnation started: a post older than that reaches it by catch-up,
// which is no latency.
func (m *metrics) delivered(id plumtree.MessageID, at, since time.Duration, hops int) {
	if hops > 0 {
		if hops >= len(m.hops) {
			m.hops = append(m.hops, make([]int, hops+1-len(m.hops))...)
		}
		m.hops[hops]++
	}
	if hops != 0 && m.published[id] >= since {
		m.latencies = append(m.latencies, at-m.published[id])
	}
}

// exchanged counts the list of groups a peer sends over a new connection
// (links.go): idle cost.
func (m *metrics) exchanged(bytes int) {
	if len(m.order) > 0 {
		m.msgs++
		m.bytes += bytes
		m.idleMsgs++
		m.idleBytes += bytes
		m.idleKinds[idleGroups]++
	}
}

func (m *metrics) reconcile(_ int, legs, bytes int) {
	if len(m.order) > 0 {
		m.msgs += legs
		m.bytes += bytes
		m.idleMsgs += legs
		m.idleBytes += bytes
		m.idleKinds[idleSync] += legs
	}
}

func (m *metrics) moved(_ int, entries int) { m.bytes += entries * (len(payload) + 36) }

func (m *metrics) result(s *Sim) Result {
	r := Result{Nodes: len(s.nodes), Posts: len(m.order), Seed: s.cfg.Seed, Drop: s.cfg.Drop, Crash: s.cfg.Crash,
		Churn: s.cfg.Churn, Joined: len(s.nodes) - s.cfg.Nodes, Events: s.events, Future: m.future,
		Charged: m.charged, ChargedScoreMin: m.chargedMin}
	if s.cfg.Groups > 1 {
		r.Groups = s.cfg.Groups
	}
	for _, n := range s.nodes {
		if !n.down {
			r.Live++
		}
	}
	live := make([]int, len(s.groups)) // live members per group
	for g, members := range s.groups {
		for _, i := range members {
			if !s.nodes[i].down && !s.att.is(i) {
				live[g]++
			}
		}
	}
	posts := make([][]plumtree.MessageID, len(s.groups))
	pairs, have, members := 0, 0, 0
	for k, id := range m.order {
		g := m.groups[k]
		posts[g] = append(posts[g], id)
		members += len(s.groups[g])
		held := 0
		for _, i := range s.groups[g] {
			n := s.nodes[i]
			if !n.down && !s.att.is(i) && n.member(g).store.has(id) {
				held++
			}
		}
		if held == 0 {
			r.Lost++
			continue
		}
		pairs += live[g]
		have += held
	}
	if pairs > 0 {
		r.Delivery = float64(have) / float64(pairs)
	}
	sent, expected := 0, 0
	for g, ids := range posts {
		steady := ids[min(len(ids), max(1, len(ids)/10)):]
		if len(steady) == 0 || live[g] < 2 {
			continue
		}
		for _, id := range steady {
			sent += m.copies[id]
		}
		expected += len(steady) * (live[g] - 1)
	}
	if expected > 0 {
		r.RMR = float64(sent)/float64(expected) - 1
	}
	if n := sum(m.hops); n > 0 {
		r.HopsP50, r.HopsP99, r.HopsMax = rank(m.hops, n/2), rank(m.hops, n*99/100), len(m.hops)-1
	}
	slices.Sort(m.latencies)
	if len(m.latencies) > 0 {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		r.LatencyP50, r.LatencyP99 = ms(m.latencies[len(m.latencies)/2]), ms(m.latencies[len(m.latencies)*99/100])
	}
	if r.Posts > 0 {
		r.MsgsPerNodePerEntry = float64(m.msgs) / float64(members)
		r.BytesPerNodePerEntry = float64(m.bytes) / float64(members)
	}
	r.ConnectionsMean, r.ConnectionsP99, r.ConnectionsMax = connections(s)
	if s.att != nil {
		r.Attack = s.att.result(s)
	}
	memberships := 0
	for _, ms := range s.groups {
		memberships += len(ms)
	}
	if span := (s.now - m.postsFrom).Seconds(); r.Posts > 0 && span > 0 {
		r.IdleMsgsPerMemberPerS = float64(m.idleMsgs) / float64(memberships) / span
		r.IdleBytesPerMemberPerS = float64(m.idleBytes) / float64(memberships) / span
		per := func(kind int) float64 { return float64(m.idleKinds[kind]) / float64(memberships) / span }
		r.IdleByKind = IdleKinds{Shuffle: per(idleShuffle), Trade: per(idleTrade), Overlay: per(idleOverlay),
			Ping: per(idlePing), Sync: per(idleSync), Groups: per(idleGroups)}
	}
	return r
}

func sum(counts []int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// rank is the value of the k-th smallest (from 0) of the values counts
// counts: counts[v] of value v.
func rank(counts []int, k int) int {
	for v, c := range counts {
		if k < c {
			return v
		}
		k -= c
	}
	panic("sim: rank beyond the count")
}

// connections is the mean, p99 and max over the live nodes of their
// distinct neighbours across their memberships.
func connections(s *Sim) (mean float64, p99, most int) {
	var counts []int
	var peers []topic.PeerID
	total := 0
	for _, n := range s.nodes {
		if n.down {
			continue
		}
		peers = peers[:0]
		for _, mb := range n.in {
			peers = append(peers, mb.core.Active()...)
		}
		slices.Sort(peers)
		c := len(slices.Compact(peers))
		counts = append(counts, c)
		total += c
	}
	if len(counts) == 0 {
		return 0, 0, 0
	}
	slices.Sort(counts)
	return float64(total) / float64(len(counts)), counts[len(counts)*99/100], counts[len(counts)-1]
}

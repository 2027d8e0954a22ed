package sim

import (
	"slices"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
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
	// Events counts the simulator's events: its unit of work.
	Events int64 `json:"events"`
	// Future counts the copies refused as from the future (Config.Skew):
	// pushes and entries of sync sessions.
	Future int `json:"refused_future,omitempty"`
}

type metrics struct {
	published map[plumtree.MessageID]time.Duration
	order     []plumtree.MessageID
	groups    []int                      // groups[k] is the group of order[k]
	copies    map[plumtree.MessageID]int // payload messages sent per post
	hops      []int
	latencies []time.Duration
	msgs      int
	bytes     int
	future    int
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
		m.hops = append(m.hops, hops)
	}
	if hops != 0 && m.published[id] >= since {
		m.latencies = append(m.latencies, at-m.published[id])
	}
}

func (m *metrics) reconcile(_ int, legs, bytes int) {
	if len(m.order) > 0 {
		m.msgs += legs
		m.bytes += bytes
	}
}

func (m *metrics) moved(_ int, entries int) { m.bytes += entries * (len(payload) + 36) }

func (m *metrics) result(s *Sim) Result {
	r := Result{Nodes: len(s.nodes), Posts: len(m.order), Seed: s.cfg.Seed, Drop: s.cfg.Drop, Crash: s.cfg.Crash,
		Churn: s.cfg.Churn, Joined: len(s.nodes) - s.cfg.Nodes, Events: s.events, Future: m.future}
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
			if !s.nodes[i].down {
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
			if _, ok := n.member(g).store.payloads[id]; ok && !n.down {
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
	slices.Sort(m.hops)
	if len(m.hops) > 0 {
		r.HopsP50, r.HopsP99, r.HopsMax = m.hops[len(m.hops)/2], m.hops[len(m.hops)*99/100], m.hops[len(m.hops)-1]
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
	return r
}

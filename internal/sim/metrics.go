package sim

import (
	"slices"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
)

// Result is what `hearsay sim` prints.
type Result struct {
	Nodes int     `json:"nodes"`
	Live  int     `json:"live"`
	Posts int     `json:"posts"`
	Seed  uint64  `json:"seed"`
	Drop  float64 `json:"drop"`
	Crash float64 `json:"crash"`
	// Delivery is the fraction of (post, live node) pairs delivered, by
	// broadcast or anti-entropy, when the run is quiescent; the posts
	// counted are those some live node holds (a post only crashed nodes
	// hold cannot reach anyone). Lost counts the others.
	Delivery float64 `json:"delivery"`
	Lost     int     `json:"lost"`
	// RMR is the relative message redundancy of payload messages, m/(n-1)-1
	// per post, over the posts after the first tenth (the tree forming).
	RMR     float64 `json:"rmr"`
	HopsP50 int     `json:"hops_p50"`
	HopsP99 int     `json:"hops_p99"`
	HopsMax int     `json:"hops_max"`
	// Latencies are simulated, from publication to delivery.
	LatencyP50 float64 `json:"latency_ms_p50"`
	LatencyP99 float64 `json:"latency_ms_p99"`
	// Per node per post, counting every protocol's messages after the
	// overlay formed.
	MsgsPerNodePerEntry  float64 `json:"msgs_per_node_per_entry"`
	BytesPerNodePerEntry float64 `json:"bytes_per_node_per_entry"`
}

type metrics struct {
	published map[plumtree.MessageID]time.Duration
	order     []plumtree.MessageID
	copies    map[plumtree.MessageID]int // payload messages sent per post
	hops      []int
	latencies []time.Duration
	msgs      int
	bytes     int
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

func (m *metrics) delivered(_ int, id plumtree.MessageID, at time.Duration, hops int) {
	if hops > 0 {
		m.hops = append(m.hops, hops)
	}
	if hops != 0 {
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
	r := Result{Nodes: len(s.nodes), Posts: len(m.order), Seed: s.cfg.Seed, Drop: s.cfg.Drop, Crash: s.cfg.Crash}
	var live []int
	for i, n := range s.nodes {
		if !n.down {
			live = append(live, i)
		}
	}
	r.Live = len(live)
	pairs, have := 0, 0
	for _, id := range m.order {
		held := 0
		for _, i := range live {
			if _, ok := s.nodes[i].store.payloads[id]; ok {
				held++
			}
		}
		if held == 0 {
			r.Lost++
			continue
		}
		pairs += len(live)
		have += held
	}
	if pairs > 0 {
		r.Delivery = float64(have) / float64(pairs)
	}
	steady := m.order[min(len(m.order), max(1, len(m.order)/10)):]
	if len(steady) > 0 && r.Live > 1 {
		sent := 0
		for _, id := range steady {
			sent += m.copies[id]
		}
		r.RMR = float64(sent)/float64(len(steady)*(r.Live-1)) - 1
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
		r.MsgsPerNodePerEntry = float64(m.msgs) / float64(r.Nodes*r.Posts)
		r.BytesPerNodePerEntry = float64(m.bytes) / float64(r.Nodes*r.Posts)
	}
	return r
}

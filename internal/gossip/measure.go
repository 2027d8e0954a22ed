package gossip

import (
	"context"
	"time"

	"hearsay/internal/proto/topic"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
)

// measure pings p, over the libp2p ping protocol that hosts serve, and
// feeds the overlay the shortest of a few round trips: the first includes
// setting up the stream. A peer that does not answer is left unmeasured.
func (g *Gossip) measure(st *groupState, p peer.ID) {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.DialTimeout)
	defer cancel()
	var best time.Duration
	n := 0
	for r := range ping.Ping(ctx, g.h, p) {
		if r.Error != nil {
			break
		}
		if n == 0 || r.RTT < best {
			best = r.RTT
		}
		if n++; n == pingsPerMeasure {
			break
		}
	}
	if n == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if len(g.rtts) >= maxRTTs {
		for q, m := range g.rtts {
			if now.Sub(m.at) >= rttFresh {
				delete(g.rtts, q)
			}
		}
	}
	g.rtts[p] = rttSample{best, now}
	if !g.closed && g.groups[st.id] == st {
		g.step(st, topic.Measured{Peer: topic.PeerID(p), RTT: best})
	}
}

// pingsPerMeasure is how many round trips a measurement takes; a sample
// answers other groups' measurements for rttFresh; beyond maxRTTs
// samples, stale ones are forgotten.
const (
	pingsPerMeasure = 3
	rttFresh        = 10 * time.Minute
	maxRTTs         = 1024
)

type rttSample struct {
	rtt time.Duration
	at  time.Time
}

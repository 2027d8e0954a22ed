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
	g.keepRTT(p, best, time.Now())
	if !g.closed && g.groups[st.id] == st {
		g.step(st, topic.Measured{Peer: topic.PeerID(p), RTT: best})
	}
}

// keepRTT keeps a sample of p's round trip, within maxRTTs samples.
// REQUIRES: g.mu held.
func (g *Gossip) keepRTT(p peer.ID, rtt time.Duration, now time.Time) {
	if _, ok := g.rtts[p]; !ok && len(g.rtts) >= maxRTTs {
		var oldest peer.ID
		for q, m := range g.rtts {
			if now.Sub(m.at) >= rttFresh {
				delete(g.rtts, q)
			} else if oldest == "" || m.at.Before(g.rtts[oldest].at) {
				oldest = q
			}
		}
		if len(g.rtts) >= maxRTTs {
			delete(g.rtts, oldest)
		}
	}
	g.rtts[p] = rttSample{rtt, now}
}

// pingsPerMeasure is how many round trips a measurement takes; a sample
// answers other groups' measurements for rttFresh; at maxRTTs samples,
// stale ones are forgotten, and if none is, the oldest (a node in many
// groups measures more peers than that within rttFresh).
const (
	pingsPerMeasure = 3
	rttFresh        = 10 * time.Minute
	maxRTTs         = 1024
)

type rttSample struct {
	rtt time.Duration
	at  time.Time
}

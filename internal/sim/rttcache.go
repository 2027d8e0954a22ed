package sim

import (
	"slices"
	"time"
)

// The round-trip times a node measured, as the node's gossip layer keeps
// them (gossip/measure.go): a sample answers every group's Measure of that
// peer for rttFresh, without a ping; at maxRTTs samples, stale ones are
// forgotten, and if none is, the oldest. A node in many groups measures a
// peer once for all, and a peer that comes back into a view soon is not
// pinged again.
const (
	rttFresh = 10 * time.Minute
	maxRTTs  = 1024
)

// rttSample is a round-trip time to a peer, and when it was measured.
type rttSample struct {
	peer    int32
	rtt, at time.Duration
}

// cachedRTT is node i's fresh sample of peer p, if it has one.
func (s *Sim) cachedRTT(i, p int) (time.Duration, bool) {
	for _, r := range s.nodes[i].rtts {
		if r.peer == int32(p) {
			return r.rtt, s.now-r.at < rttFresh
		}
	}
	return 0, false
}

// measured keeps node i's sample of peer p.
func (s *Sim) measured(i, p int, rtt time.Duration) {
	n := s.nodes[i]
	for k := range n.rtts {
		if n.rtts[k].peer == int32(p) {
			n.rtts[k].rtt, n.rtts[k].at = rtt, s.now
			return
		}
	}
	if len(n.rtts) >= maxRTTs {
		fresh := n.rtts[:0]
		for _, r := range n.rtts {
			if s.now-r.at < rttFresh {
				fresh = append(fresh, r)
			}
		}
		n.rtts = fresh
	}
	if len(n.rtts) >= maxRTTs {
		oldest := 0
		for k, r := range n.rtts {
			if r.at < n.rtts[oldest].at {
				oldest = k
			}
		}
		n.rtts = slices.Delete(n.rtts, oldest, oldest+1)
	}
	n.rtts = append(n.rtts, rttSample{int32(p), rtt, s.now})
}

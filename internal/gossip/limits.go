package gossip

import (
	"errors"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// Rates bound the gossip messages a node takes, per peer and per group
// (golang.org/x/time/rate token buckets). A message beyond them is
// dropped before it is decoded further (the broadcast's grafts and
// anti-entropy bring what was lost), and the sender is reported to the
// node (ErrFlood, a moderate fault) at most once per ChargeEvery: a
// burst costs a peer little, a sustained flood graylists and bans it.
type Rates struct {
	PeerRate  rate.Limit // messages per second from one peer, over all its streams and groups
	PeerBurst int
	// GroupRate bounds one group's messages from all peers; its excess is
	// charged to the peer whose message found the bucket empty.
	GroupRate   rate.Limit
	GroupBurst  int
	ChargeEvery time.Duration
}

// DefaultRates are well above what an honest overlay sends (a writer's
// pushes, batched IHaves, shuffles: tens a second; a bulk writer a few
// hundred), so that they only bite on a flood.
func DefaultRates() Rates {
	return Rates{PeerRate: 1000, PeerBurst: 4000, GroupRate: 4000, GroupBurst: 16000, ChargeEvery: 30 * time.Second}
}

// ErrFlood is reported to Handler.Violation for a peer whose messages went
// beyond the rates; its stream stays open.
var ErrFlood = errors.New("peer sent beyond the rate limits")

// errRateLimited drops one message over a group's rate.
var errRateLimited = errors.New("over the group's rate")

// peerLimits holds a bucket for each peer with an inbound stream open,
// and when its excess was last reported; it is bounded by the streams the
// host accepts (the resource manager's limits).
type peerLimits struct {
	mu    sync.Mutex
	rates Rates
	peers map[peer.ID]*peerLimit
}

type peerLimit struct {
	bucket  *rate.Limiter
	streams int
	charged time.Time // last excess reported; zero: never
}

// acquire returns p's limit for one more stream.
func (l *peerLimits) acquire(p peer.ID) *peerLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	pl, ok := l.peers[p]
	if !ok {
		pl = &peerLimit{bucket: rate.NewLimiter(l.rates.PeerRate, l.rates.PeerBurst)}
		l.peers[p] = pl
	}
	pl.streams++
	return pl
}

// release ends one stream of p; the last one forgets p's bucket.
func (l *peerLimits) release(p peer.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if pl, ok := l.peers[p]; ok {
		if pl.streams--; pl.streams <= 0 {
			delete(l.peers, p)
		}
	}
}

// allow takes a token of pl's bucket.
func (l *peerLimits) allow(pl *peerLimit) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return pl.bucket.Allow()
}

// charge reports whether excess of pl is to be reported now (once per
// ChargeEvery).
func (l *peerLimits) charge(pl *peerLimit, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !pl.charged.IsZero() && now.Sub(pl.charged) < l.rates.ChargeEvery {
		return false
	}
	pl.charged = now
	return true
}

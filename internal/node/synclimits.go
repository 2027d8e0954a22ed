package node

import (
	"errors"
	"sync"
	"time"

	"hearsay/internal/entry"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// SessionRates bound the sync sessions a node serves, per peer and per
// group (golang.org/x/time/rate token buckets), once a session's group is
// known to be held here; the resource manager bounds the sessions open at
// once (limits.go), these bound how fast they come. A session beyond them
// is answered Err code 5 (busy) at its Open: the client tries again at its
// next round. A peer beyond its own rate is charged a Flood (a moderate
// fault) at most once per ChargeEvery; the excess of a group's rate is
// refused but charged to nobody, since the peer that finds a group's
// bucket empty may be an honest one among many.
type SessionRates struct {
	// A node greets a peer it meets with a session for each group it
	// holds, one after another, and its rounds then ask one session per
	// group every 30 s: PeerBurst covers a greeting of that many shared
	// groups, PeerRate the rounds of a node in that many groups.
	PeerRate  rate.Limit
	PeerBurst int
	// A group with many members serves each of them about once a round.
	GroupRate   rate.Limit
	GroupBurst  int
	ChargeEvery time.Duration
}

// DefaultSessionRates let a peer share 1,000 groups with this node and a
// group have about 2,000 members syncing with it, with room to spare.
func DefaultSessionRates() SessionRates {
	return SessionRates{PeerRate: 64, PeerBurst: 1024, GroupRate: 128, GroupBurst: 1024, ChargeEvery: 30 * time.Second}
}

// errBusy refuses a session beyond the session rates.
var errBusy = errors.New("too many sync sessions now: try later")

// maxSessionBuckets bounds each of the limiter's maps. Past it, buckets
// that have filled up again (peers or groups idle for a while, which a
// fresh bucket would treat the same) are dropped first.
const maxSessionBuckets = 4096

// sessionLimits holds the buckets of the peers and groups that asked for
// sessions lately. It is safe for concurrent use and reads no clock.
type sessionLimits struct {
	mu     sync.Mutex
	rates  SessionRates
	peers  map[peer.ID]*peerSessions
	groups map[entry.ID]*rate.Limiter
}

type peerSessions struct {
	bucket  *rate.Limiter
	charged time.Time // last excess charged; zero: never
}

func newSessionLimits(r SessionRates) *sessionLimits {
	return &sessionLimits{rates: r, peers: map[peer.ID]*peerSessions{}, groups: map[entry.ID]*rate.Limiter{}}
}

// allow takes a session of p for group g at now. It reports errBusy when
// either bucket is empty, and whether p is to be charged for it. A session
// refused for its group's rate takes nothing from p's bucket.
func (l *sessionLimits) allow(p peer.ID, g entry.ID, now time.Time) (charge bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ps := l.peers[p]
	if ps == nil {
		trim(l.peers, func(ps *peerSessions) bool { return full(ps.bucket, now) })
		ps = &peerSessions{bucket: rate.NewLimiter(l.rates.PeerRate, l.rates.PeerBurst)}
		l.peers[p] = ps
	}
	gb := l.groups[g]
	if gb == nil {
		trim(l.groups, func(b *rate.Limiter) bool { return full(b, now) })
		gb = rate.NewLimiter(l.rates.GroupRate, l.rates.GroupBurst)
		l.groups[g] = gb
	}
	if ps.bucket.TokensAt(now) < 1 {
		if now.Sub(ps.charged) < l.rates.ChargeEvery {
			return false, errBusy
		}
		ps.charged = now
		return true, errBusy
	}
	if !gb.AllowN(now, 1) {
		return false, errBusy
	}
	ps.bucket.AllowN(now, 1)
	return false, nil
}

// full reports whether b has every token of its burst at now.
func full(b *rate.Limiter, now time.Time) bool { return b.TokensAt(now) >= float64(b.Burst()) }

// trim makes room in m for one more key: it drops the values idle says
// may go, and if none may, one at random (a fresh bucket is full, so
// what it forgets is a peer's or a group's recent excess).
func trim[K comparable, V any](m map[K]V, idle func(V) bool) {
	if len(m) < maxSessionBuckets {
		return
	}
	for k, v := range m {
		if idle(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < maxSessionBuckets {
			return
		}
		delete(m, k)
	}
}

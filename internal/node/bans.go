package node

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"hearsay/internal/home"

	"github.com/libp2p/go-libp2p/core/peer"
)

// The ban policy, until the peer scores of issue 12 replace it. Each
// misbehaviour adds its weight to the peer's score, which halves every
// scoreHalfLife; a score that reaches banAt bans the peer for banFor,
// doubled for each ban it had before, up to maxBanFor. Malformed frames,
// out-of-turn messages and bad signatures weigh 1 (no honest node sends
// them: one may be a bug, three within minutes are a pattern); a session
// or a batch of pushes that brought inadmissible entries weighs 0.25,
// since a replica that knows more (a grant this one lacks) may send them
// in good faith, and so does a failed audit of a shard (a disk may fail). Network faults and refusals weigh nothing.
const (
	banAt         = 3
	scoreHalfLife = 10 * time.Minute
	banFor        = 10 * time.Minute
	maxBanFor     = 7 * 24 * time.Hour
	// forgetAfter is how long after its last ban ended a peer's count of
	// bans is kept.
	forgetAfter = maxBanFor
	// maxStandings bounds the peers the policy remembers; beyond it, the
	// one with the least at stake is forgotten.
	maxStandings = 4096
)

func weight(f Fault) float64 {
	switch {
	case f == FaultInadmissible, f == FaultAudit:
		return 0.25
	case f.Misbehaviour():
		return 1
	}
	return 0
}

// bans keeps each peer's standing. It is safe for concurrent use; it does
// no I/O and reads no clock: the caller passes now.
type bans struct {
	mu    sync.Mutex
	peers map[peer.ID]*standing
	// charged counts the misbehaviour charged since start, by fault.
	charged [FaultAudit + 1]uint64
}

type standing struct {
	score  float64   // as of at
	at     time.Time // when score was last brought up to date
	until  time.Time // banned until then; zero: never banned
	count  int       // bans so far
	faults int       // misbehaviours charged, for `peers`
}

func newBans() *bans { return &bans{peers: map[peer.ID]*standing{}} }

// decayed is the score at now.
func (s *standing) decayed(now time.Time) float64 {
	if s.score == 0 || !now.After(s.at) {
		return s.score
	}
	return s.score * math.Exp2(-float64(now.Sub(s.at))/float64(scoreHalfLife))
}

// charge counts a fault of p; it reports whether that banned p, and until
// when. A peer already banned stays banned as it was.
func (b *bans) charge(p peer.ID, f Fault, now time.Time) (banned bool, until time.Time) {
	w := weight(f)
	if w == 0 {
		return false, time.Time{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.charged[f]++
	s := b.standing(p, now)
	s.faults++
	if now.Before(s.until) {
		return false, s.until
	}
	s.score, s.at = s.decayed(now)+w, now
	if s.score < banAt {
		return false, time.Time{}
	}
	d := banFor << min(s.count, 20)
	s.until, s.count, s.score = now.Add(min(d, maxBanFor)), s.count+1, 0
	return true, s.until
}

// standing returns p's standing, making room for it if needed.
// REQUIRES: b.mu held.
func (b *bans) standing(p peer.ID, now time.Time) *standing {
	if s, ok := b.peers[p]; ok {
		return s
	}
	if len(b.peers) >= maxStandings {
		b.evict(now)
	}
	s := &standing{at: now}
	b.peers[p] = s
	return s
}

// evict forgets the peer with the least at stake: not banned before any
// banned one, then the lowest score, then the earliest ban's end.
// REQUIRES: b.mu held.
func (b *bans) evict(now time.Time) {
	var victim peer.ID
	var worst *standing
	for p, s := range b.peers {
		if worst == nil || less(s, worst, now) || !less(worst, s, now) && p < victim {
			victim, worst = p, s
		}
	}
	delete(b.peers, victim)
}

func less(a, b *standing, now time.Time) bool {
	ab, bb := now.Before(a.until), now.Before(b.until)
	if ab != bb {
		return !ab
	}
	if ab {
		return a.until.Before(b.until)
	}
	return a.decayed(now) < b.decayed(now)
}

// banned reports whether p is banned at now.
func (b *bans) banned(p peer.ID, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.peers[p]
	return ok && now.Before(s.until)
}

// count is how many peers are banned at now, and the misbehaviour charged
// since start by fault.
func (b *bans) count(now time.Time) (banned int, charged map[Fault]uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.peers {
		if now.Before(s.until) {
			banned++
		}
	}
	charged = map[Fault]uint64{}
	for f, n := range b.charged {
		if n > 0 {
			charged[Fault(f)] = n
		}
	}
	return banned, charged
}

// faults is how many misbehaviours were charged to p.
func (b *bans) faults(p peer.ID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.peers[p]; ok {
		return s.faults
	}
	return 0
}

// list is what to persist: every peer banned now, or whose count of bans is
// still kept, in peer id order.
func (b *bans) list(now time.Time) []home.Ban {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []home.Ban{}
	for p, s := range b.peers {
		if s.count > 0 && now.Before(s.until.Add(forgetAfter)) {
			out = append(out, home.Ban{Peer: p.String(), Until: s.until, Count: s.count})
		}
	}
	slices.SortFunc(out, func(x, y home.Ban) int { return strings.Compare(x.Peer, y.Peer) })
	return out
}

// load takes bans saved by an earlier run; ones not kept any more and
// malformed peer ids are skipped.
func (b *bans) load(saved []home.Ban, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, sb := range saved {
		p, err := peer.Decode(sb.Peer)
		if err != nil || sb.Count <= 0 || !now.Before(sb.Until.Add(forgetAfter)) || len(b.peers) >= maxStandings {
			continue
		}
		b.peers[p] = &standing{at: now, until: sb.Until, count: sb.Count}
	}
}

// set bans p until until by the operator's word, counting it as a ban.
func (b *bans) set(p peer.ID, until, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.standing(p, now)
	s.until, s.count, s.score = until, s.count+1, 0
}

// lift forgives p: its ban, its score and its count of bans are gone.
// It reports whether p had a standing.
func (b *bans) lift(p peer.ID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.peers[p]
	delete(b.peers, p)
	return ok
}

// BanInfo is a banned peer as `hearsay bans` shows it.
type BanInfo struct {
	Peer  string    `json:"peer_id"`
	Until time.Time `json:"until"`
	Count int       `json:"count"` // bans so far, this one included; the next lasts twice as long
}

// current lists the peers banned at now, by peer id.
func (b *bans) current(now time.Time) []BanInfo {
	out := []BanInfo{}
	for _, sb := range b.list(now) {
		if now.Before(sb.Until) {
			out = append(out, BanInfo{Peer: sb.Peer, Until: sb.Until, Count: sb.Count})
		}
	}
	return out
}

// Ban bans p for d by the operator's word: it is cut from every overlay,
// disconnected and refused by the gater until then, across restarts.
func (nw *Network) Ban(p peer.ID, d time.Duration) {
	until := nw.n.now().Add(d)
	nw.bans.set(p, until, nw.n.now())
	nw.gossip.Ban(p, until)
	nw.Host.Network().ClosePeer(p)
	nw.saveBans()
}

// Unban lifts p's ban and forgets its misbehaviour; it reports whether
// the node knew p.
func (nw *Network) Unban(p peer.ID) bool {
	ok := nw.bans.lift(p)
	nw.gossip.Unban(p)
	nw.saveBans()
	return ok
}

// BanList lists the peers banned now.
func (nw *Network) BanList() []BanInfo { return nw.bans.current(nw.n.now()) }

// Ban, Unban and BanList on a home whose node does not serve edit and read
// <home>/bans.json, which the node loads when it starts.

// BanOffline bans p for d in the home's saved bans.
func (n *Node) BanOffline(p peer.ID, d time.Duration) error {
	b := newBans()
	b.load(n.Home.Bans(), n.now())
	b.set(p, n.now().Add(d), n.now())
	return n.Home.SaveBans(b.list(n.now()))
}

// UnbanOffline lifts p's ban in the home's saved bans.
func (n *Node) UnbanOffline(p peer.ID) (bool, error) {
	b := newBans()
	b.load(n.Home.Bans(), n.now())
	ok := b.lift(p)
	return ok, n.Home.SaveBans(b.list(n.now()))
}

// BanListOffline lists the bans saved in the home that hold now.
func (n *Node) BanListOffline() []BanInfo {
	b := newBans()
	b.load(n.Home.Bans(), n.now())
	return b.current(n.now())
}

// ParsePeer parses a peer id (12D3KooW…), with a clear error.
func ParsePeer(s string) (peer.ID, error) {
	p, err := peer.Decode(s)
	if err != nil {
		return "", fmt.Errorf("peer id %q: want a full libp2p peer id (12D3KooW…, from `hearsay peers`)", s)
	}
	return p, nil
}

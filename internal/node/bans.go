package node

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"hearsay/internal/home"
	"hearsay/internal/proto/score"

	"github.com/libp2p/go-libp2p/core/peer"
)

// The peers' scores and bans are one score.Table per node (package
// proto/score, its DefaultParams: docs/security.md): a peer that misbehaves
// in one group is no better in another, and the connection gater knows no
// groups. Each fault that is misbehaviour counts in one part: malformed
// frames, out-of-turn messages and bad signatures are Invalid (severe, 1);
// a session or a batch of pushes that brought inadmissible entries is
// Inadmissible, a stream or session a graylisted peer kept on with or an
// excess over a rate limit is Flood, a failed audit of a shard is Withheld
// (each moderate, 0.25). First deliveries and served reconciliations count
// for the peer. Network faults and refusals count nothing. What a group's
// core charges (gossip.Misbehaved: a broken promise) names its part
// itself, the simulator's too; coreFault only names it for counting.
var scoreParams = score.DefaultParams()

// part is the score's part a fault counts in, if any.
func part(f Fault) (score.Part, bool) {
	switch f {
	case FaultMalformed, FaultOutOfTurn, FaultBadSignature:
		return score.Invalid, true
	case FaultInadmissible:
		return score.Inadmissible, true
	case FaultFlood:
		return score.Flood, true
	case FaultAudit:
		return score.Withheld, true
	case FaultPromise:
		return score.Promises, true
	}
	return 0, false
}

// coreFault is the fault, for counting, of a charge a group's core made in
// part pt (topic.Fault.Part): part(coreFault(pt)) is pt.
func coreFault(pt score.Part) Fault {
	switch pt {
	case score.Promises:
		return FaultPromise
	case score.Flood:
		return FaultFlood
	}
	return FaultNone
}

// bans keeps each peer's score and bans. It is safe for concurrent use;
// it does no I/O and reads no clock: the caller passes now.
type bans struct {
	mu    sync.Mutex
	table *score.Table
	// faults counts the misbehaviours charged to each peer, for `peers`;
	// it holds the table's peers only, pruned when it outgrows the table.
	faults map[peer.ID]int
	// charged counts the misbehaviour charged since start, by fault.
	charged [numFaults]uint64
}

func newBans() *bans {
	return &bans{table: score.New(scoreParams), faults: map[peer.ID]int{}}
}

// charge counts a fault of p and reports what p's score now calls for; a
// fault that is not misbehaviour changes nothing.
func (b *bans) charge(p peer.ID, f Fault, now time.Time) score.Verdict {
	b.mu.Lock()
	defer b.mu.Unlock()
	pt, ok := part(f)
	if !ok {
		return score.Verdict{Level: b.table.Level(score.PeerID(p), now)}
	}
	b.charged[f]++
	v := b.table.Add(score.PeerID(p), pt, 1, now)
	b.faults[p]++
	if len(b.faults) > 2*scoreParams.MaxPeers {
		for q := range b.faults {
			if b.table.Standing(score.PeerID(q), now) == (score.Standing{}) {
				delete(b.faults, q)
			}
		}
	}
	return v
}

// credit counts n units of a positive part (score.Delivered, score.Served)
// for p.
func (b *bans) credit(p peer.ID, pt score.Part, n int, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.table.Add(score.PeerID(p), pt, float64(n), now)
}

// connected and disconnected note p's connections, for colocation.
func (b *bans) connected(p peer.ID, a netip.Addr, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.table.Connected(score.PeerID(p), a, now)
}

func (b *bans) disconnected(p peer.ID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.table.Disconnected(score.PeerID(p))
}

// level is p's level at now.
func (b *bans) level(p peer.ID, now time.Time) score.Level {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.table.Level(score.PeerID(p), now)
}

// standing is p's score and its parts at now.
func (b *bans) standing(p peer.ID, now time.Time) score.Standing {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.table.Standing(score.PeerID(p), now)
}

// banned reports whether p is banned at now.
func (b *bans) banned(p peer.ID, now time.Time) bool { return b.level(p, now) == score.Banned }

// count is how many peers are banned at now, and the misbehaviour charged
// since start by fault.
func (b *bans) count(now time.Time) (banned int, charged map[Fault]uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	banned = len(b.table.Banned(now))
	charged = map[Fault]uint64{}
	for f, n := range b.charged {
		if n > 0 {
			charged[Fault(f)] = n
		}
	}
	return banned, charged
}

// levels counts the peers held at each level at now, for /metrics.
func (b *bans) levels(now time.Time) map[score.Level]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[score.Level]int{}
	for _, p := range b.table.Peers() {
		out[b.table.Level(p, now)]++
	}
	return out
}

// faultsOf is how many misbehaviours were charged to p.
func (b *bans) faultsOf(p peer.ID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.faults[p]
}

// list is what to persist: every peer banned now, or whose count of bans is
// still kept, in peer id order.
func (b *bans) list(now time.Time) []home.Ban {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []home.Ban{}
	for _, sb := range b.table.Bans(now) {
		out = append(out, home.Ban{Peer: peer.ID(sb.Peer).String(), Until: sb.Until, Count: sb.Count})
	}
	return out
}

// load takes bans saved by an earlier run; ones not kept any more and
// malformed peer ids are skipped.
func (b *bans) load(saved []home.Ban, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var bs []score.Ban
	for _, sb := range saved {
		if p, err := peer.Decode(sb.Peer); err == nil {
			bs = append(bs, score.Ban{Peer: score.PeerID(p), Until: sb.Until, Count: sb.Count})
		}
	}
	b.table.Load(bs, now)
}

// set bans p until until by the operator's word, counting it as a ban.
func (b *bans) set(p peer.ID, until, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.table.Ban(score.PeerID(p), until, now)
}

// lift forgives p: its ban, its score and its count of bans are gone.
// It reports whether p had a standing.
func (b *bans) lift(p peer.ID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.faults, p)
	return b.table.Unban(score.PeerID(p))
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

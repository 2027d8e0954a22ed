package score

import (
	"math"
	"net/netip"
	"time"
)

// PeerID names a peer (the node passes libp2p peer ids as strings).
type PeerID string

// Level is what the node does with a peer; each level includes the ones
// before it.
type Level int

// The levels, from the thresholds of Params.
const (
	// Good: nothing held against the peer.
	Good Level = iota
	// NoGossip: nothing is pushed to it, and it is not picked from a
	// passive view.
	NoGossip
	// Graylisted: what it sends is ignored; it leaves every active view;
	// anti-entropy does not choose it and refuses its sessions.
	Graylisted
	// Disconnected: its connections are closed.
	Disconnected
	// Banned: refused for every protocol until the ban ends.
	Banned
)

var levelNames = [...]string{"good", "no-gossip", "graylisted", "disconnected", "banned"}

func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return "level(?)"
	}
	return levelNames[l]
}

// Table holds the peers' scores.
type Table struct {
	p     Params
	peers map[PeerID]*peerState
	// ranges counts the connected peers of each address range (P6).
	ranges map[netip.Prefix]int
}

type peerState struct {
	counter [NumParts]float64 // as of at
	at      time.Time
	until   time.Time // banned until then; zero: never banned
	bans    int       // bans so far
	rng     netip.Prefix
	conns   int // connections open, for colocation
}

// New makes an empty table.
func New(p Params) *Table {
	return &Table{p: p, peers: map[PeerID]*peerState{}, ranges: map[netip.Prefix]int{}}
}

// Params are the table's parameters.
func (t *Table) Params() Params { return t.p }

// decay brings s's counters to now.
func (t *Table) decay(s *peerState, now time.Time) {
	if !now.After(s.at) {
		return
	}
	dt := float64(now.Sub(s.at))
	for i, c := range s.counter {
		if c == 0 {
			continue
		}
		if hl := t.p.HalfLife[i]; hl > 0 {
			c *= math.Exp2(-dt / float64(hl))
		}
		if c < t.p.DecayToZero {
			c = 0
		}
		s.counter[i] = c
	}
	s.at = now
}

// Verdict is what a charge made of a peer.
type Verdict struct {
	Level Level
	// Until is when the peer's ban ends, if Level is Banned.
	Until time.Time
	// NewBan: this charge banned the peer.
	NewBan bool
}

// Add counts n units of part to p's counter (n ≥ 0; anything else is
// ignored) and says what the peer's score now calls for. A peer already
// banned stays banned as it was, and is not charged more.
func (t *Table) Add(p PeerID, part Part, n float64, now time.Time) Verdict {
	if part < 0 || part >= NumParts || !(n > 0) || math.IsInf(n, 0) {
		return t.verdict(p, now)
	}
	s := t.state(p, now)
	if now.Before(s.until) {
		return Verdict{Level: Banned, Until: s.until}
	}
	t.decay(s, now)
	s.counter[part] += n
	if c := t.p.Cap[part]; c > 0 && s.counter[part] > c {
		s.counter[part] = c
	}
	if t.penalty(s) > t.p.BanThreshold {
		return t.verdict(p, now)
	}
	d := t.p.BanFor << min(s.bans, 20)
	if d <= 0 || d > t.p.MaxBanFor {
		d = t.p.MaxBanFor
	}
	s.until, s.bans, s.counter = now.Add(d), s.bans+1, [NumParts]float64{}
	return Verdict{Level: Banned, Until: s.until, NewBan: true}
}

// penalty is the sum of the negative parts at s.at.
func (t *Table) penalty(s *peerState) float64 {
	sum := 0.0
	for i, c := range s.counter {
		if w := t.p.Weight[i]; w < 0 {
			sum += w * c
		}
	}
	return sum
}

// verdict is p's level at now, without charging it.
func (t *Table) verdict(p PeerID, now time.Time) Verdict {
	st := t.Standing(p, now)
	return Verdict{Level: st.Level, Until: st.Until}
}

// Standing is a peer's score and its parts, as `hearsay peers` shows it.
type Standing struct {
	Score float64
	// Parts are the weighted counters, by Part.
	Parts [NumParts]float64
	// Colocation is the P6 term (zero or negative).
	Colocation float64
	Level      Level
	// Until is when the ban ends; zero unless banned now.
	Until time.Time
	// Bans is how many bans the peer had, this one included.
	Bans int
}

// Standing reports p's score at now; a peer the table does not hold is
// Good with a score of zero.
func (t *Table) Standing(p PeerID, now time.Time) Standing {
	s, ok := t.peers[p]
	if !ok {
		return Standing{}
	}
	var st Standing
	dt := float64(0)
	if now.After(s.at) {
		dt = float64(now.Sub(s.at))
	}
	for i, c := range s.counter {
		if hl := t.p.HalfLife[i]; hl > 0 && c != 0 {
			c *= math.Exp2(-dt / float64(hl))
		}
		if c < t.p.DecayToZero {
			continue
		}
		st.Parts[i] = t.p.Weight[i] * c
		st.Score += st.Parts[i]
	}
	st.Colocation = t.colocation(s)
	st.Score += st.Colocation
	st.Bans = s.bans
	switch {
	case now.Before(s.until):
		st.Level, st.Until = Banned, s.until
	case st.Score < t.p.DisconnectThreshold:
		st.Level = Disconnected
	case st.Score < t.p.GraylistThreshold:
		st.Level = Graylisted
	case st.Score < t.p.GossipThreshold:
		st.Level = NoGossip
	}
	return st
}

// Level is p's level at now.
func (t *Table) Level(p PeerID, now time.Time) Level { return t.Standing(p, now).Level }

// state returns p's state, making room for it if needed.
func (t *Table) state(p PeerID, now time.Time) *peerState {
	if s, ok := t.peers[p]; ok {
		return s
	}
	if t.p.MaxPeers > 0 && len(t.peers) >= t.p.MaxPeers {
		t.evict(now)
	}
	s := &peerState{at: now}
	t.peers[p] = s
	return s
}

// evict forgets the peer with the least at stake: one not banned before
// one banned, then the one whose score is nearest zero, then the earliest
// ban's end, ties by peer id.
func (t *Table) evict(now time.Time) {
	var victim PeerID
	var worst stake
	first := true
	for p, s := range t.peers {
		k := t.stake(s, now)
		if first || k.less(worst) || !worst.less(k) && p < victim {
			victim, worst, first = p, k, false
		}
	}
	t.forget(victim)
}

type stake struct {
	banned bool
	until  time.Time
	score  float64 // magnitude
}

func (t *Table) stake(s *peerState, now time.Time) stake {
	k := stake{banned: now.Before(s.until), until: s.until}
	for i, c := range s.counter {
		k.score += math.Abs(t.p.Weight[i] * c)
	}
	return k
}

func (a stake) less(b stake) bool {
	if a.banned != b.banned {
		return !a.banned
	}
	if a.banned {
		return a.until.Before(b.until)
	}
	return a.score < b.score
}

// forget drops p, and its share of its address range.
func (t *Table) forget(p PeerID) {
	s, ok := t.peers[p]
	if !ok {
		return
	}
	if s.conns > 0 && s.rng.IsValid() {
		t.leaveRange(s.rng)
	}
	delete(t.peers, p)
}

// Len is how many peers the table holds.
func (t *Table) Len() int { return len(t.peers) }

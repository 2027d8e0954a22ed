package score

import (
	"slices"
	"strings"
	"time"
)

// Ban is a peer's bans as persisted: banned until Until, Count bans so far.
type Ban struct {
	Peer  PeerID
	Until time.Time
	Count int
}

// Ban bans p until until by the operator's word, counting it as a ban;
// its counters restart.
func (t *Table) Ban(p PeerID, until, now time.Time) {
	s := t.state(p, now)
	s.until, s.bans, s.counter, s.at = until, s.bans+1, [NumParts]float64{}, now
}

// Unban forgives p: its ban, its counters and its count of bans are gone
// (a peer still connected stays, for colocation). It reports whether
// anything was held against p: a ban, now or before, or a penalty.
func (t *Table) Unban(p PeerID) bool {
	s, ok := t.peers[p]
	if !ok {
		return false
	}
	held := s.bans > 0 || t.penalty(s) < 0
	if s.conns == 0 {
		t.forget(p)
		return held
	}
	s.counter, s.until, s.bans = [NumParts]float64{}, time.Time{}, 0
	return held
}

// Bans lists what to persist: every peer banned at now, or whose count of
// bans is still kept, by peer id.
func (t *Table) Bans(now time.Time) []Ban {
	out := []Ban{}
	for p, s := range t.peers {
		if s.bans > 0 && now.Before(s.until.Add(t.p.ForgetAfter)) {
			out = append(out, Ban{Peer: p, Until: s.until, Count: s.bans})
		}
	}
	slices.SortFunc(out, func(x, y Ban) int { return strings.Compare(string(x.Peer), string(y.Peer)) })
	return out
}

// Load takes bans saved by an earlier run; ones no longer kept, with no
// count, or beyond the table's bound are skipped.
func (t *Table) Load(saved []Ban, now time.Time) {
	for _, b := range saved {
		if b.Peer == "" || b.Count <= 0 || !now.Before(b.Until.Add(t.p.ForgetAfter)) {
			continue
		}
		if _, ok := t.peers[b.Peer]; !ok && t.p.MaxPeers > 0 && len(t.peers) >= t.p.MaxPeers {
			continue
		}
		s := t.state(b.Peer, now)
		s.until, s.bans = b.Until, b.Count
	}
}

// Banned lists the peers banned at now, by peer id.
func (t *Table) Banned(now time.Time) []Ban {
	return slices.DeleteFunc(t.Bans(now), func(b Ban) bool { return !now.Before(b.Until) })
}

// Peers lists the peers held, by id.
func (t *Table) Peers() []PeerID {
	out := make([]PeerID, 0, len(t.peers))
	for p := range t.peers {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

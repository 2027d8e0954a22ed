package hyparview

import (
	"math"
	"slices"
	"time"
	"unsafe"
)

// Latency-aware neighbours, after X-BOT.
//
// The random walks make a random overlay, and a random neighbour is as
// slow as the average link. A tree over such links is slow (on 100 members
// and 5–50 ms links, 250 ms to the 99th percentile), and even flooding
// every neighbour is (160 ms): the overlay, not the broadcast, sets the
// bound. So each node measures the round-trip time to its neighbours and
// passive peers (Measure, Measured) and trades its slowest neighbour for a
// passive peer with less than half its round-trip time: it sends that peer
// an Optimize, which the peer accepts if it has room, or if the link is
// less than half as long as its own slowest neighbour's, which it then
// drops. The two peers left a neighbour short are put in touch: the
// initiator's Disconnect to its dropped neighbour names the peer's dropped
// one (Suggest), to ask first. A node short of neighbours offers a trade
// to its fastest measured passive peer without dropping anyone, and a node
// whose passive view is under half full shuffles at repair ticks (see
// fillPassive), so that there are candidates to measure soon after
// joining. On that setting the links settle in about 30 s at a mean of
// 13 ms one way, against 27 ms at random; each shuffle then brings a few
// more trades.
//
// Three kinds of neighbour are never traded. Those the driver keeps
// (Keep): the broadcast tree's links, whose loss would split the tree
// until grafts repair it, after the graft timeout. The oldest unbiased
// ones (Config.Unbiased), which came by walks and repairs: with real
// geography the fastest links are local ones, and an overlay of only those
// would be clusters joined by few links. And those not measured yet. A
// claimed RTT only decides a trade; the receiver measures the link itself
// before it counts it as its own. Round-trip times are measured once per
// peer, while it stays in a view.

// optimization is the state of the trades.
type optimization struct {
	// rtt holds the measured round-trip times of peers in either view.
	rtt rtts
	// biased marks the neighbours a trade brought: bit i is active[i]'s
	// (so ActiveSize <= 64). A map by peer was looked up for each
	// neighbour at each tick, a tenth of the simulator's time.
	biased uint64
	// pending is the passive peer an Optimize is out to, and replacing
	// the neighbour it would replace; sentEarlier says it was out at the
	// last tick already.
	pending, replacing PeerID
	sentEarlier        bool
	// declined are the peers that turned a trade down (declines.go);
	// measuring the peers a Measure is out for, since the last repair
	// tick (nil when none): a peer that does not answer pings is not
	// pinged every tick.
	declined  map[PeerID]decline
	measuring map[PeerID]bool
	// floor is the shortest round trip this membership has measured (0
	// before any): a passive peer is measured only if one that fast
	// would be worth a trade (optimize).
	floor time.Duration
}

// measurePerTick bounds how many unmeasured passive peers a tick measures.
const measurePerTick = 8

// minGain is the least a trade must take off a link's round trip. On a
// LAN, or loopback, links differ by fractions of a millisecond, mostly
// jitter: trading on a ratio alone there churned the overlay and its
// tree without end, for no latency anyone would notice.
const minGain = 5 * time.Millisecond

// better reports whether a link of weighed time a (cost) is worth trading
// one of b for: less than half as long, and shorter by minGain at least
// unless the trade saves a connection (saves: the new peer is linked to
// for another group, the old one is not), which is a gain of its own.
func better(a, b time.Duration, saves bool) bool { return 2*a < b && (saves || b-a >= minGain) }

// optimize runs on each optimization tick.
func (s *State) optimize() {
	o := &s.opt
	if o.pending != "" {
		if !o.sentEarlier {
			o.sentEarlier = true
			return
		}
		s.noteDecline(o.pending) // lost, or the peer is gone
		o.pending = ""
	}
	var activeBuf, passiveBuf [64]time.Duration
	act, pas := s.viewRTTs(activeBuf[:0], passiveBuf[:0])
	if len(s.active) == 0 {
		return // the refill's business
	}
	for i, p := range s.active {
		if act[i] == unmeasured {
			s.measure(p)
		}
	}
	full := len(s.active) >= s.cfg.ActiveSize
	var best PeerID
	var bestRTT, bestCost time.Duration
	for i, p := range s.passive {
		// NB: the refusals and the driver's test only for a peer that would
		// be the best so far: looking them up for every passive peer at
		// every tick was a tenth of the simulator's time.
		if rtt := pas[i]; rtt != unmeasured {
			if c := s.cost(p, rtt); (best == "" || c < bestCost) && !o.onHold(p) && !s.avoided(p) {
				best, bestRTT, bestCost = p, rtt, c
			}
		}
	}
	actRTT := func(i int) (time.Duration, bool) { return act[i], act[i] != unmeasured }
	worst, worstCost, tradeable := s.slowestBy(actRTT, s.isShared(best))
	if best != "" && (!full || tradeable && better(bestCost, worstCost, s.isShared(best) && !s.isShared(worst))) {
		o.pending, o.replacing, o.sentEarlier = best, worst, false
		s.send(best, Optimize{RTT: bestRTT})
		return
	}
	// Most passive peers a shuffle brings are no faster than those
	// measured before: once even the fastest of those would not be worth
	// trading the slowest tradeable neighbour for, a full view measures
	// only shared peers (which a trade weighs at a quarter), and a ping
	// spent on the others would buy nothing unless the peer were faster
	// than any measured yet.
	onlyShared := false
	if full && o.floor > 0 {
		if s.isShared(best) { // the slowest above was for a shared replacement
			_, worstCost, tradeable = s.slowestBy(actRTT, false)
		}
		onlyShared = !tradeable || !better(o.floor, worstCost, false)
	}
	n := 0
	var permBuf [64]int
	for _, i := range s.perm(permBuf[:0], len(s.passive)) {
		if p := s.passive[i]; n < measurePerTick && (!onlyShared || s.isShared(p)) {
			if pas[i] == unmeasured && s.measure(p) {
				n++
			}
		}
	}
}

// perm is s.rng.Perm(n), drawing the same numbers, appended to p: the
// tick's permutation of the passive view, on the caller's stack, was a
// slice allocated a membership a second.
func (s *State) perm(p []int, n int) []int {
	for i := range n {
		p = append(p, i)
	}
	s.rng.Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// unmeasured marks a view slot without a round-trip time in viewRTTs.
const unmeasured = time.Duration(math.MinInt64)

// viewRTTs forgets the round-trip times of peers in neither view, and
// returns, appended to act and pas, the time of each active and passive
// slot (unmeasured if none). The tick then reads a slot's time by its
// index: looking each up by peer id compared every measured id with every
// view's, most of the simulator's time.
//
// The times are kept in the order of the slots (active, then passive),
// so that while the views stay as they were one walk down both lists
// matches them. When it does not (a peer came or went, or a time was
// added at the end), they are matched one by one and put in order again.
func (s *State) viewRTTs(act, pas []time.Duration) ([]time.Duration, []time.Duration) {
	for range s.active {
		act = append(act, unmeasured)
	}
	for range s.passive {
		pas = append(pas, unmeasured)
	}
	r := s.opt.rtt
	k := 0
	walk := func(view []PeerID, times []time.Duration) {
		for i, p := range view {
			if k < len(r) && same(r[k].peer, p) {
				times[i] = r[k].rtt
				k++
			}
		}
	}
	walk(s.active, act)
	walk(s.passive, pas)
	if k == len(r) {
		// Every time matched a slot, in order: since a peer is in one slot
		// at most and has one time at most, the slots passed over have
		// none.
		return act, pas
	}
	// Matched one by one, and kept with the views' own strings, which the
	// next walk then finds the same.
	for _, m := range r {
		if i := slices.Index(s.active, m.peer); i >= 0 {
			act[i] = m.rtt
		} else if i := slices.Index(s.passive, m.peer); i >= 0 {
			pas[i] = m.rtt
		}
	}
	r = r[:0]
	for i, t := range act {
		if t != unmeasured {
			r = append(r, peerRTT{s.active[i], t})
		}
	}
	for i, t := range pas {
		if t != unmeasured {
			r = append(r, peerRTT{s.passive[i], t})
		}
	}
	clear(s.opt.rtt[len(r):])
	s.opt.rtt = r
	return act, pas
}

// same reports whether a and b are one string: the same length and bytes
// at the same address. The walk of viewRTTs compares so. Most slots it
// passes have no time, and comparing such a slot's id with the next
// time's read both ids' bytes, a cache miss apiece at a million simulated
// nodes: a tenth of the simulator's time. Ids equal but stored apart are
// not the same, which sends the walk to matching by value: slower, as
// right.
func same(a, b PeerID) bool {
	return len(a) == len(b) && unsafe.StringData(string(a)) == unsafe.StringData(string(b))
}

// measure asks for a peer's round-trip time, unless it was asked for since
// the last repair tick, and reports whether it asked.
func (s *State) measure(p PeerID) bool {
	if s.opt.measuring[p] {
		return false
	}
	if s.opt.measuring == nil {
		s.opt.measuring = map[PeerID]bool{}
	}
	s.opt.measuring[p] = true
	s.out = append(s.out, Measure{Peer: p})
	return true
}

// slowest is the measured neighbour a trade may replace with the longest
// round-trip time, as trades weigh it (cost): any but the Unbiased oldest unbiased ones and those
// the driver keeps. A neighbour not measured yet, or that does not answer
// pings, is not traded. forShared says the replacement is a peer linked
// to for another group (shared.go): then only shared neighbours count as
// the unbiased ones kept.
func (s *State) slowest(forShared bool) (PeerID, bool) {
	worst, _, ok := s.slowestBy(func(i int) (time.Duration, bool) { return s.opt.rtt.get(s.active[i]) }, forShared)
	return worst, ok
}

// slowestBy is slowest, with rtt giving the time of the i-th neighbour;
// it also returns the weighed time (cost) of the one found.
func (s *State) slowestBy(rtt func(i int) (time.Duration, bool), forShared bool) (PeerID, time.Duration, bool) {
	var worst PeerID
	var worstCost time.Duration
	kept := 0
	for i, p := range s.active {
		if kept < s.cfg.Unbiased && s.opt.biased&(1<<i) == 0 && (!forShared || s.isShared(p)) {
			kept++
			continue
		}
		if s.keep != nil && s.keep(p) {
			continue
		}
		if t, ok := rtt(i); ok {
			if c := s.cost(p, t); worst == "" || c > worstCost {
				worst, worstCost = p, c
			}
		}
	}
	return worst, worstCost, worst != ""
}

// receiveOptimize answers a trade offered by from.
func (s *State) receiveOptimize(from PeerID, m Optimize) {
	switch {
	case slices.Contains(s.active, from):
		s.send(from, OptimizeReply{Accept: true})
	case len(s.active) < s.cfg.ActiveSize:
		s.addActive(from)
		s.markBiased(from)
		s.send(from, OptimizeReply{Accept: true})
	default:
		d, ok := s.slowest(s.isShared(from))
		if !ok || !better(s.cost(from, m.RTT), s.cost(d, s.opt.rtt.of(d)), s.isShared(from) && !s.isShared(d)) {
			s.send(from, OptimizeReply{})
			return
		}
		s.drop(d, Disconnect{})
		s.addActive(from)
		s.markBiased(from)
		s.send(from, OptimizeReply{Accept: true, Dropped: d})
	}
}

// receiveOptimizeReply completes or forgets a trade.
func (s *State) receiveOptimizeReply(from PeerID, m OptimizeReply) {
	o := &s.opt
	if from != o.pending {
		// Given up as lost: the peer took us in, so tell it we will not
		// take it.
		if m.Accept && !slices.Contains(s.active, from) {
			s.send(from, Disconnect{})
		}
		return
	}
	o.pending = ""
	switch {
	case !m.Accept:
		s.noteDecline(from)
	case slices.Contains(s.active, from):
		delete(o.declined, from)
	default:
		if len(s.active) >= s.cfg.ActiveSize {
			victim := o.replacing
			if !slices.Contains(s.active, victim) || s.keep != nil && s.keep(victim) {
				victim, _ = s.slowest(s.isShared(from))
			}
			if victim == "" {
				// Nothing is left to trade (the tree took the neighbour
				// meanwhile, say): undo the peer's side.
				s.send(from, Disconnect{})
				return
			}
			s.drop(victim, Disconnect{Suggest: m.Dropped})
		}
		delete(o.declined, from)
		s.addActive(from)
		s.markBiased(from)
	}
}

// markBiased marks neighbour p as one a trade brought.
func (s *State) markBiased(p PeerID) {
	if i := slices.Index(s.active, p); i >= 0 {
		s.opt.biased |= 1 << i
	}
}

// removeActive takes p out of the active view, and its slot's bit out of
// the biased ones, and reports whether p was there.
func (s *State) removeActive(p PeerID) bool {
	i := slices.Index(s.active, p)
	if i < 0 {
		return false
	}
	s.active = slices.Delete(s.active, i, i+1)
	low := uint64(1)<<i - 1
	s.opt.biased = s.opt.biased&low | s.opt.biased>>(i+1)<<i
	return true
}

// rtts are round-trip times by peer: a list, as a node measures only the
// few dozen peers of its views, which a map would hold at several times
// the bytes.
type rtts []peerRTT

type peerRTT struct {
	peer PeerID
	rtt  time.Duration
}

func (r rtts) get(p PeerID) (time.Duration, bool) {
	for _, m := range r {
		if m.peer == p {
			return m.rtt, true
		}
	}
	return 0, false
}

// of is p's round-trip time, or zero if it was not measured.
func (r rtts) of(p PeerID) time.Duration { rtt, _ := r.get(p); return rtt }

func (r *rtts) set(p PeerID, rtt time.Duration) {
	for i := range *r {
		if (*r)[i].peer == p {
			(*r)[i].rtt = rtt
			return
		}
	}
	*r = append(*r, peerRTT{p, rtt})
}

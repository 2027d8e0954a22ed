package hyparview

import (
	"math/rand/v2"
	"slices"
	"time"
)

// State is one node's view of one group's overlay. It is not safe for
// concurrent use: its driver feeds it one input at a time.
type State struct {
	cfg     Config
	self    PeerID
	rng     *rand.Rand
	active  []PeerID // in the order they entered; random picks index it
	passive []PeerID
	// asking is the passive peer a Neighbor request is out to, if any;
	// askedEarlier says it was out at the last repair tick already.
	// abandoned is the last peer whose request was given up as lost.
	asking, abandoned PeerID
	askedEarlier      bool
	// refused are the peers that turned a request down since the last
	// shuffle: not asked again until then, or a node with room would ask
	// full peers round and round.
	refused map[PeerID]bool
	// backoff is the repair ticks a node short of neighbours now waits
	// between rounds, doubled after each round and cleared once it has
	// more than half its active view; wait counts them down.
	backoff, wait int
	// insist says a repair round found every passive peer refusing: while
	// the node has at most half its active view, it asks with high
	// priority.
	insist bool
	// fillBackoff and fillWait space the shuffles of a node whose passive
	// view is under half full (see fillPassive) as backoff and wait do;
	// nobodyNew says the last shuffle's reply named nobody not known.
	fillBackoff, fillWait int
	nobodyNew             bool
	// shuffled is the sample of our last Shuffle: the first to give way
	// when the reply's ids enter the passive view.
	shuffled []PeerID
	// hint is a peer to ask first on the next refill: one a Disconnect
	// suggested.
	hint PeerID
	// The optimization's state (see optimize.go).
	opt optimization
	// keep says which neighbours a trade must not drop (see Keep); avoid
	// which passive peers are not to be promoted (see Avoid); shared which
	// peers the driver links to for another group (see shared.go).
	keep, avoid, shared func(PeerID) bool
	out                 []Output
}

// New makes the State of node self. Call Start once, then Step.
func New(cfg Config, self PeerID, rng *rand.Rand) *State {
	if cfg.ActiveSize > 64 {
		panic("hyparview: ActiveSize over 64")
	}
	return &State{cfg: cfg, self: self, rng: rng}
}

// Start arms the shuffle timer and, unless their periods are zero, the
// repair and optimization timers.
func (s *State) Start() []Output {
	out := []Output{SetTimer{Timer: ShuffleTimer, After: s.cfg.ShuffleEvery}}
	if s.cfg.RepairEvery > 0 {
		out = append(out, SetTimer{Timer: RepairTimer, After: s.cfg.RepairEvery})
	}
	if s.cfg.OptimizeEvery > 0 {
		out = append(out, SetTimer{Timer: OptimizeTimer, After: s.cfg.OptimizeEvery})
	}
	return out
}

// Active is the active view, in the order peers entered it.
func (s *State) Active() []PeerID { return slices.Clone(s.active) }

// Passive is the passive view.
func (s *State) Passive() []PeerID { return slices.Clone(s.passive) }

// Degree is how many neighbours the node has; IsNeighbor and InPassive
// test one peer. They copy nothing, as Active and Passive do.
func (s *State) Degree() int              { return len(s.active) }
func (s *State) IsNeighbor(p PeerID) bool { return slices.Contains(s.active, p) }
func (s *State) InPassive(p PeerID) bool  { return slices.Contains(s.passive, p) }

// Keep sets the test for neighbours a trade must not drop: the driver's
// broadcast tree links, whose loss would split the tree until grafts
// repair it. Without it, any neighbour but the unbiased ones may go.
func (s *State) Keep(keep func(PeerID) bool) { s.keep = keep }

// Avoid sets the test for passive peers the overlay must not promote: the
// driver's peers whose score is below its gossip threshold. Such a peer
// stays in the passive view, but is neither asked to be a neighbour nor
// offered a trade; a request it sends is answered as any. Without it,
// every passive peer may be promoted.
func (s *State) Avoid(avoid func(PeerID) bool) { s.avoid = avoid }

// avoided reports whether the overlay must not promote p (Avoid).
func (s *State) avoided(p PeerID) bool { return s.avoid != nil && s.avoid(p) }

// promotable are the passive peers the overlay may promote: the passive
// view itself (not to be changed) when none is avoided.
func (s *State) promotable() []PeerID {
	if s.avoid == nil || !slices.ContainsFunc(s.passive, s.avoid) {
		return s.passive
	}
	return slices.DeleteFunc(slices.Clone(s.passive), s.avoid)
}

// RTT is the measured round-trip time to a peer of either view.
func (s *State) RTT(p PeerID) (time.Duration, bool) { return s.opt.rtt.get(p) }

// Step processes one input and returns what to do.
func (s *State) Step(in Input) []Output {
	s.out = nil
	switch in := in.(type) {
	case JoinVia:
		if in.Contact != s.self {
			s.addActive(in.Contact)
			s.send(in.Contact, Join{})
		}
	case Receive:
		s.receive(in.From, in.Msg)
	case TimerFired:
		switch in.Timer {
		case ShuffleTimer:
			// NB: nil, not clear: a cleared map keeps the room it grew to
			// (the refusals of a join), for every group a node is in.
			s.refused = nil
			s.shuffle()
			s.refill()
			s.out = append(s.out, SetTimer{Timer: ShuffleTimer, After: s.cfg.ShuffleEvery})
		case RepairTimer:
			s.ageDeclines()
			s.opt.measuring = nil
			s.repair()
			s.out = append(s.out, SetTimer{Timer: RepairTimer, After: s.cfg.RepairEvery})
		case OptimizeTimer:
			s.optimize()
			s.out = append(s.out, SetTimer{Timer: OptimizeTimer, After: s.cfg.OptimizeEvery})
		}
	case Measured:
		delete(s.opt.measuring, in.Peer)
		if s.opt.floor == 0 || in.RTT < s.opt.floor {
			s.opt.floor = in.RTT
		}
		if slices.Contains(s.active, in.Peer) || slices.Contains(s.passive, in.Peer) {
			s.opt.rtt.set(in.Peer, in.RTT)
		}
	case PeerDown:
		s.forget(in.Peer)
	case Drop:
		s.forget(in.Peer)
	case Suggest:
		s.suggest(in.Peer)
	}
	return s.out
}

func (s *State) receive(from PeerID, m Message) {
	if from == s.self {
		return
	}
	switch m := m.(type) {
	case Join:
		s.addActive(from)
		for _, p := range s.active {
			if p != from {
				s.send(p, ForwardJoin{Peer: from, TTL: s.cfg.ARWL})
			}
		}
	case ForwardJoin:
		s.forwardJoin(from, m)
	case Neighbor:
		if m.High || len(s.active) < s.cfg.ActiveSize {
			s.addActive(from)
			s.send(from, NeighborReply{Accept: true})
		} else {
			s.send(from, NeighborReply{Accept: false})
		}
	case NeighborReply:
		// NB: a reply may come after its request was given up as lost
		// (see repair); an acceptance is honoured all the same, since the
		// peer has taken us in. Any other unasked reply is stale: one that
		// crossed our Disconnect, say, whose peer has dropped us since.
		switch from {
		case s.asking:
			s.asking = ""
		case s.abandoned:
			s.abandoned = ""
		default:
			return
		}
		switch {
		case !m.Accept:
			if s.refused == nil {
				s.refused = map[PeerID]bool{}
			}
			s.refused[from] = true
		case slices.Contains(s.active, from):
		case len(s.active) >= s.cfg.ActiveSize:
			// The view filled while we asked: the peer took us in, so tell
			// it we will not take it.
			s.send(from, Disconnect{})
			s.addPassive(from)
		default:
			s.addActive(from)
		}
		s.refill()
	case Disconnect:
		if slices.Contains(s.active, from) {
			if p := m.Suggest; p != "" && p != s.self && p != from && !slices.Contains(s.active, p) {
				s.addPassive(p)
				s.hint = p
			}
			s.lost(from)
			s.addPassive(from)
		}
	case Optimize:
		s.receiveOptimize(from, m)
	case OptimizeReply:
		s.receiveOptimizeReply(from, m)
	case Shuffle:
		s.receiveShuffle(from, m)
	case ShuffleReply:
		// An empty reply says nothing of the group's size (early on,
		// passive views are empty everywhere); one that names only
		// peers known here does.
		s.nobodyNew = slices.ContainsFunc(m.Peers, func(p PeerID) bool { return p != s.self }) &&
			!slices.ContainsFunc(m.Peers, func(p PeerID) bool {
				return p != s.self && !slices.Contains(s.active, p) && !slices.Contains(s.passive, p)
			})
		s.integrate(m.Peers, s.shuffled)
		s.shuffled = nil
		s.refill()
		if s.asking == "" && len(s.active) > 0 && s.short() {
			// The walk brought no one to ask: the neighbours, as far as
			// it went, know nobody else. The node is on an island.
			s.out = append(s.out, Isolated{})
		}
	}
}

// repair runs on each repair tick. Neither a Join nor a Neighbor request
// has a reply timeout, and the paper's repair reacts to failures only, so
// without it a lost Join leaves a node with one neighbour that does not
// know it, a lost request blocks refill for good, and a few nodes whose
// passive views never filled (loss and failures at the wrong time) can
// form an island that nothing reports.
//
// A request out since the previous tick is given up as lost, and its peer
// as failed. A node with at most half its active view and nobody left to
// ask then acts, in rounds spaced by a doubling backoff of up to one
// shuffle period: with no neighbour, it reports isolation; with an empty
// passive view, it asks the overlay for names with a Shuffle, whose reply
// reports isolation if it brings nobody to ask; with passive peers that
// all refused, it asks them again with high priority, which they cannot
// refuse. A node with more than half its view waits for the shuffle: it is
// connected, and every new link costs the broadcast tree a repair.
func (s *State) repair() {
	if s.asking != "" {
		if !s.askedEarlier {
			s.askedEarlier = true
			return
		}
		// Taken as failed, as a broken connection would be.
		s.passive = remove(s.passive, s.asking)
		s.asking, s.abandoned = "", s.asking
		s.refill()
	}
	if !s.short() {
		s.backoff, s.wait, s.insist = 0, 0, false
		s.fillPassive()
		return
	}
	if s.asking == "" && len(s.candidates()) > 0 {
		s.refill() // names may have come in with no refill since
	}
	if s.asking != "" {
		return
	}
	if s.wait > 0 {
		s.wait--
		return
	}
	switch {
	case len(s.active) == 0:
		s.out = append(s.out, Isolated{})
	case len(s.promotable()) == 0:
		s.shuffle()
	default:
		s.refused = nil
		s.insist = true
		s.refill()
	}
	s.backoff = min(2*s.backoff+1, max(int(s.cfg.ShuffleEvery/s.cfg.RepairEvery)-1, 0))
	s.wait = s.backoff
}

// fillPassive shuffles at a repair tick while the passive view is under
// half full, in rounds spaced as the repair's: a newcomer's passive view
// holds only the few peers its join walks and disconnections gave it, and
// waiting a shuffle period for more leaves the optimization (see
// optimize.go) nothing to measure. A small group's passive views cannot
// fill: once a shuffle's reply names nobody the node does not know, only
// the periodic shuffles run until one does. (Before, such a node went on
// shuffling at backed-off repair ticks, a shuffle a period on top of the
// periodic one: on 16 real nodes in groups of 12, shuffles were 0.40 of
// the 0.48–0.57 idle messages per membership a second.)
func (s *State) fillPassive() {
	if len(s.passive) >= s.cfg.PassiveSize/2 || s.nobodyNew {
		s.fillBackoff, s.fillWait = 0, 0
		return
	}
	if s.fillWait > 0 {
		s.fillWait--
		return
	}
	s.shuffle()
	s.fillBackoff = min(2*s.fillBackoff+1, max(int(s.cfg.ShuffleEvery/s.cfg.RepairEvery)-1, 0))
	s.fillWait = s.fillBackoff
}

// short reports whether the node has at most half its active view, few
// enough that its neighbours may be all there is of its part of the
// overlay.
func (s *State) short() bool { return len(s.active) <= s.cfg.ActiveSize/2 }

// forwardJoin moves a new node's walk on, or ends it here.
func (s *State) forwardJoin(from PeerID, m ForwardJoin) {
	if m.Peer == s.self {
		return
	}
	if m.TTL <= 0 || len(s.active) <= 1 {
		if !slices.Contains(s.active, m.Peer) {
			s.addActive(m.Peer)
			s.send(m.Peer, Neighbor{High: true})
		}
		return
	}
	if m.TTL == s.cfg.PRWL {
		s.addPassive(m.Peer)
	}
	if next, ok := s.pick(s.active, from, m.Peer); ok {
		s.send(next, ForwardJoin{Peer: m.Peer, TTL: m.TTL - 1})
	}
}

// shuffle sends a sample of both views on a walk from a random neighbour.
func (s *State) shuffle() {
	if len(s.active) == 0 {
		return
	}
	sample := append([]PeerID{s.self}, s.sample(s.active, s.cfg.ShuffleActive)...)
	sample = append(sample, s.sample(s.passive, s.cfg.ShufflePassive)...)
	s.shuffled = sample[1:]
	to := s.active[s.rng.IntN(len(s.active))]
	s.send(to, Shuffle{Origin: s.self, TTL: s.cfg.ARWL, Peers: sample})
}

func (s *State) receiveShuffle(from PeerID, m Shuffle) {
	if m.Origin == s.self {
		return
	}
	if m.TTL > 0 && len(s.active) > 1 {
		if next, ok := s.pick(s.active, from, m.Origin); ok {
			s.send(next, Shuffle{Origin: m.Origin, TTL: m.TTL - 1, Peers: m.Peers})
			return
		}
	}
	reply := s.sample(s.passive, len(m.Peers))
	s.send(m.Origin, ShuffleReply{Peers: reply})
	s.integrate(m.Peers, reply)
}

// integrate adds ids to the passive view, evicting first those in prefer
// (ids this node just sent away), then at random.
func (s *State) integrate(ids, prefer []PeerID) {
	prefer = slices.Clone(prefer)
	for _, p := range ids {
		if p == s.self || slices.Contains(s.active, p) || slices.Contains(s.passive, p) {
			continue
		}
		if len(s.passive) >= s.cfg.PassiveSize {
			evicted := false
			for len(prefer) > 0 && !evicted {
				victim := prefer[0]
				prefer = prefer[1:]
				if slices.Contains(s.passive, victim) {
					s.passive = remove(s.passive, victim)
					evicted = true
				}
			}
			if !evicted {
				i := s.rng.IntN(len(s.passive))
				s.passive = slices.Delete(s.passive, i, i+1)
			}
		}
		s.passive = append(s.passive, p)
	}
}

// addActive takes p into the active view, dropping a random neighbour to
// the passive view when it is full.
func (s *State) addActive(p PeerID) {
	if p == s.self || slices.Contains(s.active, p) {
		return
	}
	s.passive = remove(s.passive, p)
	if s.asking == p {
		s.asking = ""
	}
	if len(s.active) >= s.cfg.ActiveSize {
		// NB: no refill here: the slot is p's.
		s.drop(s.active[s.rng.IntN(len(s.active))], Disconnect{})
	}
	s.active = append(s.active, p)
	s.out = append(s.out, NeighborUp{Peer: p})
}

// drop moves a neighbour to the passive view, telling it with m.
func (s *State) drop(p PeerID, m Disconnect) {
	s.send(p, m)
	s.removeActive(p)
	s.out = append(s.out, NeighborDown{Peer: p})
	s.addPassive(p)
}

// forget removes a failed or dropped peer from both views.
func (s *State) forget(p PeerID) {
	s.passive = remove(s.passive, p)
	s.lost(p)
}

// lost removes p from the active view (if there) and looks for a
// replacement.
func (s *State) lost(p PeerID) {
	if s.asking == p {
		s.asking = ""
	}
	if s.removeActive(p) {
		s.out = append(s.out, NeighborDown{Peer: p})
	}
	s.refill()
}

// refill asks a random passive peer to become a neighbour while the active
// view has room, one request at a time, skipping peers that refused since
// the last timer: a peer a Disconnect suggested first, then one linked to
// for another group (shared.go).
func (s *State) refill() {
	if s.asking != "" || len(s.active) >= s.cfg.ActiveSize {
		return
	}
	candidates := s.candidates()
	if len(candidates) == 0 {
		if len(s.active) == 0 && len(s.promotable()) == 0 {
			s.out = append(s.out, Isolated{})
		}
		return
	}
	shared := s.sharedFirst(candidates)
	s.asking, s.askedEarlier = shared[s.rng.IntN(len(shared))], false
	if slices.Contains(candidates, s.hint) {
		s.asking = s.hint
	}
	s.hint = ""
	s.send(s.asking, Neighbor{High: len(s.active) == 0 || s.insist && s.short()})
}

// candidates are the promotable passive peers not refused since the last
// shuffle. A node with no neighbour asks with high priority, which no peer
// refuses, so earlier refusals do not count then.
func (s *State) candidates() []PeerID {
	var c []PeerID
	for _, p := range s.promotable() {
		if len(s.active) == 0 || !s.refused[p] {
			c = append(c, p)
		}
	}
	return c
}

func (s *State) addPassive(p PeerID) {
	if p == s.self || slices.Contains(s.active, p) || slices.Contains(s.passive, p) {
		return
	}
	if len(s.passive) >= s.cfg.PassiveSize {
		i := s.rng.IntN(len(s.passive))
		s.passive = slices.Delete(s.passive, i, i+1)
	}
	s.passive = append(s.passive, p)
}

// pick draws a peer from view other than the excluded ones.
func (s *State) pick(view []PeerID, exclude ...PeerID) (PeerID, bool) {
	var choices []PeerID
	for _, p := range view {
		if !slices.Contains(exclude, p) {
			choices = append(choices, p)
		}
	}
	if len(choices) == 0 {
		return "", false
	}
	return choices[s.rng.IntN(len(choices))], true
}

// sample draws up to n distinct peers of view.
func (s *State) sample(view []PeerID, n int) []PeerID {
	idx := s.rng.Perm(len(view))
	out := make([]PeerID, 0, min(n, len(view)))
	for _, i := range idx[:min(n, len(idx))] {
		out = append(out, view[i])
	}
	return out
}

func (s *State) send(to PeerID, m Message) { s.out = append(s.out, Send{To: to, Msg: m}) }

func remove(view []PeerID, p PeerID) []PeerID {
	if i := slices.Index(view, p); i >= 0 {
		return slices.Delete(view, i, i+1)
	}
	return view
}

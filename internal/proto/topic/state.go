package topic

import (
	"math/rand/v2"
	"slices"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
)

// State is one node's part in one group: its overlay, its broadcast and
// the policy over them. It is not safe for concurrent use: its driver feeds
// it one input at a time.
type State struct {
	cfg     Config
	self    PeerID
	rng     *rand.Rand
	overlay *hyparview.State
	bcast   *plumtree.State
	now     time.Time // the current step's
	// members are peers a sync session with ended well, the latest last:
	// they replicate the group, so they are ways into its overlay.
	members []PeerID
	// bans are the peers cut off, and until when; demoted those below the
	// gossip threshold, until when; each bounded by MaxBans.
	bans, demoted map[PeerID]time.Time
	// floods are the peers' counts of duplicates and future-dated pushes
	// in their current windows (flood.go); bounded by MaxBans.
	floods map[PeerID]*floodCount
	// fresh counts the entries new here in this window and the last.
	fresh newHere
	// shared is the driver's test for peers it links to for another
	// group (Shared); nil without one.
	shared func(PeerID) bool
	// isolatedAt is when the isolated fallback last acted, if acted;
	// finding says a FindContacts since findingSince awaits its Found.
	acted, finding           bool
	isolatedAt, findingSince time.Time
	out                      []Output
}

// New makes the State of node self in one group. rng drives every random
// choice of the overlay and the policy; store reads the payloads stored
// here, to answer grafts. Step Start first.
func New(cfg Config, self PeerID, rng *rand.Rand, store plumtree.Store) *State {
	s := &State{cfg: cfg, self: self, rng: rng, overlay: hyparview.New(cfg.Overlay, self, rng),
		bcast: plumtree.New(cfg.Broadcast, store), bans: map[PeerID]time.Time{}, demoted: map[PeerID]time.Time{},
		floods: map[PeerID]*floodCount{}}
	// The overlay's trades keep the broadcast tree's links, and it promotes
	// no demoted peer.
	s.overlay.Keep(func(p PeerID) bool { return s.bcast.InTree(plumtree.PeerID(p)) })
	s.overlay.Avoid(func(p PeerID) bool { return s.Demoted(p, s.now) })
	return s
}

// Shared sets the test for peers the driver links to for another group:
// the overlay prefers them as neighbours (hyparview's shared.go), and
// anti-entropy as the peers it syncs with (policy.go).
func (s *State) Shared(shared func(PeerID) bool) {
	s.shared = shared
	s.overlay.Shared(shared)
}

// Active is the overlay's active view, in the order peers entered it.
func (s *State) Active() []PeerID { return s.overlay.Active() }

// Passive is the overlay's passive view.
func (s *State) Passive() []PeerID { return s.overlay.Passive() }

// Eager are the broadcast's eager peers; Lazy its lazy ones.
func (s *State) Eager() []PeerID { return peers(s.bcast.Eager()) }

// Lazy are the broadcast's lazy peers.
func (s *State) Lazy() []PeerID { return peers(s.bcast.Lazy()) }

// RTT is the round trip measured to a peer of either view.
func (s *State) RTT(p PeerID) (time.Duration, bool) { return s.overlay.RTT(p) }

// Members are the peers synced with lately, the latest last.
func (s *State) Members() []PeerID { return slices.Clone(s.members) }

// Banned reports whether p is banned at now.
func (s *State) Banned(p PeerID, now time.Time) bool {
	until, ok := s.bans[p]
	return ok && now.Before(until)
}

// Demoted reports whether p is demoted at now (Demote).
func (s *State) Demoted(p PeerID, now time.Time) bool {
	until, ok := s.demoted[p]
	return ok && now.Before(until)
}

func peers(ps []plumtree.PeerID) []PeerID {
	out := make([]PeerID, len(ps))
	for i, p := range ps {
		out[i] = PeerID(p)
	}
	return out
}

// Step processes one input at now and returns what to do, in the order to
// do it (see the package doc).
func (s *State) Step(now time.Time, in Input) []Output {
	s.now, s.out = now, nil
	switch in := in.(type) {
	case Start:
		s.overlayOut(s.overlay.Start())
	case Join:
		if s.overlay.Degree() == 0 {
			s.meet(in.Contact)
		}
	case Meet:
		s.meet(in.Peer)
	case Leave:
		for _, p := range s.overlay.Active() {
			s.out = append(s.out, Send{To: p, Overlay: hyparview.Disconnect{}})
		}
	case Receive:
		s.receive(in)
	case Broadcast:
		s.broadcastOut(s.bcast.Step(plumtree.Broadcast{ID: in.ID, Payload: in.Payload}))
	case Admitted:
		switch {
		case in.From == s.self:
		case in.OK:
			if s.bcast.Seen(in.Msg.ID) {
				s.duplicate(in.From) // another copy was admitted while it waited
			}
			s.broadcastOut(s.bcast.Step(plumtree.Receive{From: plumtree.PeerID(in.From), Msg: in.Msg}))
		case in.Future:
			s.fromFuture(in.From)
		}
	case TimerFired:
		if in.Timer.Overlay != 0 {
			s.overlayOut(s.overlay.Step(hyparview.TimerFired{Timer: in.Timer.Overlay}))
		} else {
			s.broadcastOut(s.bcast.Step(plumtree.TimerFired{Timer: in.Timer.Broadcast}))
		}
	case PeerDown:
		s.overlayOut(s.overlay.Step(hyparview.PeerDown{Peer: in.Peer}))
	case Measured:
		s.overlayOut(s.overlay.Step(hyparview.Measured{Peer: in.Peer, RTT: in.RTT}))
	case Round:
		s.reconcile(in.Candidates, in.Prefer)
	case Suggest:
		if in.Peer != s.self && !s.Banned(in.Peer, s.now) && !s.Demoted(in.Peer, s.now) {
			s.overlayOut(s.overlay.Step(hyparview.Suggest{Peer: in.Peer}))
		}
	case SyncDone:
		s.synced(in.Peer, in.Received)
	case SyncFailed:
		s.members = remove(s.members, in.Peer)
		if in.Unreachable {
			s.overlayOut(s.overlay.Step(hyparview.PeerDown{Peer: in.Peer}))
		}
	case Found:
		s.found(in.Peers)
	case Ban:
		s.ban(in.Peer, in.Until)
	case Unban:
		delete(s.bans, in.Peer)
	case Demote:
		if in.Peer != s.self {
			hold(s.demoted, in.Peer, s.now.Add(s.cfg.DemoteFor), s.now, s.cfg.MaxBans)
		}
	}
	return s.out
}

// receive hands a peer's message to its core; one that claims to be from
// this node, or comes from a banned peer, is ignored. A pushed entry the broadcast
// has not seen goes to admission first: the broadcast forwards only what
// was admitted (validate before forwarding, as GossipSub does).
func (s *State) receive(in Receive) {
	if in.From == s.self || s.Banned(in.From, s.now) {
		return
	}
	if in.Overlay != nil {
		s.overlayOut(s.overlay.Step(hyparview.Receive{From: in.From, Msg: in.Overlay}))
		return
	}
	if push, ok := in.Broadcast.(plumtree.Gossip); ok && !s.bcast.Seen(push.ID) {
		// The copy came: a promise in.From made for it is kept, whatever
		// admission says.
		s.broadcastOut(s.bcast.Step(plumtree.Arrived{From: plumtree.PeerID(in.From), ID: push.ID}))
		s.out = append(s.out, Admit{From: in.From, Msg: push})
		return
	}
	if _, ok := in.Broadcast.(plumtree.Gossip); ok {
		s.duplicate(in.From)
	}
	if in.Broadcast != nil {
		s.broadcastOut(s.bcast.Step(plumtree.Receive{From: plumtree.PeerID(in.From), Msg: in.Broadcast}))
	}
}

// overlayOut passes on the overlay's outputs; neighbour changes feed the
// broadcast at once, after the NeighborUp or NeighborDown itself.
func (s *State) overlayOut(outs []hyparview.Output) {
	for _, o := range outs {
		switch o := o.(type) {
		case hyparview.Send:
			if s.Banned(o.To, s.now) {
				// A banned peer came back into a view (a shuffle named
				// it): the overlay forgets it now rather than wait out a
				// request nobody will carry.
				s.overlayOut(s.overlay.Step(hyparview.Drop{Peer: o.To}))
				continue
			}
			s.out = append(s.out, Send{To: o.To, Overlay: o.Msg})
		case hyparview.SetTimer:
			s.out = append(s.out, SetTimer{Timer: Timer{Overlay: o.Timer}, After: o.After})
		case hyparview.NeighborUp:
			s.out = append(s.out, NeighborUp(o))
			s.broadcastOut(s.bcast.Step(plumtree.NeighborUp{Peer: plumtree.PeerID(o.Peer)}))
		case hyparview.NeighborDown:
			s.out = append(s.out, NeighborDown(o))
			s.broadcastOut(s.bcast.Step(plumtree.NeighborDown{Peer: plumtree.PeerID(o.Peer)}))
		case hyparview.Isolated:
			s.isolated()
		case hyparview.Measure:
			if !s.Banned(o.Peer, s.now) {
				s.out = append(s.out, Measure(o))
			}
		}
	}
}

// broadcastOut passes on the broadcast's outputs.
func (s *State) broadcastOut(outs []plumtree.Output) {
	for _, o := range outs {
		switch o := o.(type) {
		case plumtree.Send:
			if !s.Banned(PeerID(o.To), s.now) {
				s.out = append(s.out, Send{To: PeerID(o.To), Broadcast: o.Msg})
			}
		case plumtree.SetTimer:
			s.out = append(s.out, SetTimer{Timer: Timer{Broadcast: o.Timer}, After: o.After})
		case plumtree.Deliver:
			s.deliveredNow()
			s.out = append(s.out, Deliver{ID: o.ID, From: PeerID(o.From), Round: o.Round})
		case plumtree.Broken:
			if !s.Banned(PeerID(o.Peer), s.now) {
				s.out = append(s.out, Charge{Peer: PeerID(o.Peer), Fault: BrokenPromise})
			}
		}
	}
}

func remove(ps []PeerID, p PeerID) []PeerID {
	return slices.DeleteFunc(ps, func(q PeerID) bool { return q == p })
}

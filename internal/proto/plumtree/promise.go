package plumtree

import "slices"

// Promises, after GossipSub v1.1's P7 (behaviour penalty: broken IHave
// promises).
//
// An IHave is a promise: the announcer holds the message and serves it to
// a Graft. A peer that announces and then does not serve (it withholds, or
// announces ids it never had) makes this node wait out a RetryTimeout per
// id before it asks another announcer, and keeps it from forming a tree
// through that link. So each Graft records a promise of its peer for the
// id, which any copy of the message from that peer keeps (received, or
// held back for admission: Arrived), whatever else delivered it first. A
// promise still pending PromiseTimeout after its graft is broken and
// reported (Broken), for the driver to charge the peer.
//
// Honest peers must not pay for the network: a neighbour that goes down
// (NeighborDown, also a ban) owes nothing, and a peer whose link stalls
// while several grafts are out is reported once, not once per graft: when
// one of its promises breaks, its others then pending are forgiven. The
// list is bounded by MaxMissing; a graft beyond it records no promise.

// promise is a graft's: peer was asked for id; done says it was kept or
// forgiven. Promises of one id are in the order of their grafts, as are
// their timers, so each PromiseTimer judges the oldest of its id.
type promise struct {
	peer PeerID
	id   MessageID
	done bool
}

// promised records p's promise for id, made by the Graft just sent.
func (s *State) promised(p PeerID, id MessageID) {
	if s.cfg.PromiseTimeout <= 0 || len(s.promises) >= s.cfg.MaxMissing {
		return
	}
	s.promises = append(s.promises, promise{peer: p, id: id})
	s.out = append(s.out, SetTimer{Timer: Timer{Kind: PromiseTimer, ID: id}, After: s.cfg.PromiseTimeout})
}

// kept marks p's pending promises for id kept: a copy came from p.
func (s *State) kept(p PeerID, id MessageID) {
	for i := range s.promises {
		if s.promises[i].peer == p && s.promises[i].id == id {
			s.promises[i].done = true
		}
	}
}

// forgive marks every pending promise of p done.
func (s *State) forgive(p PeerID) {
	for i := range s.promises {
		if s.promises[i].peer == p {
			s.promises[i].done = true
		}
	}
}

// due judges the oldest promise for id, whose time is up: one still
// pending is broken.
func (s *State) due(id MessageID) {
	i := slices.IndexFunc(s.promises, func(x promise) bool { return x.id == id })
	if i < 0 {
		return
	}
	x := s.promises[i]
	s.promises = slices.Delete(s.promises, i, i+1)
	if x.done {
		return
	}
	s.forgive(x.peer)
	s.out = append(s.out, Broken{Peer: x.peer, ID: x.id})
}

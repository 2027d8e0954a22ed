package plumtree

import "slices"

// State is one node's broadcast state for one group. It is not safe for
// concurrent use: its driver feeds it one input at a time.
type State struct {
	cfg   Config
	store Store
	eager []PeerID // in the order they became eager
	lazy  []PeerID

	seen seenSet // to forget beyond MaxSeen

	missing map[MessageID][]announcer // ids announced but not received
	armed   map[MessageID]bool        // a graft timer runs for the id

	queued   map[PeerID][]Announcement // IHaves waiting for the flush
	queue    []PeerID                  // the peers of queued, in order
	flushing bool                      // the IHave timer runs

	// window and grafted decide which duplicates prune (see prune.go).
	window  []inFlight
	grafted map[PeerID]bool
	// fed are the eager peers that have delivered a first copy since they
	// became eager: while there are any, the node is in a tree.
	fed map[PeerID]bool
	// promises are the grafts' promises awaiting their messages, oldest
	// first; at most MaxMissing (promise.go).
	promises []promise

	out []Output
}

// maxAnnouncers bounds the announcers remembered for one missing id, which
// peers could otherwise lengthen without bound: the grafts try them one per
// RetryTimeout, so eight cover two seconds of retries, and anti-entropy
// brings what they do not.
const maxAnnouncers = 8

type announcer struct {
	peer  PeerID
	round int
}

// New makes the State of a node whose payloads store reads.
func New(cfg Config, store Store) *State {
	return &State{cfg: cfg, store: store, missing: map[MessageID][]announcer{},
		armed: map[MessageID]bool{}, queued: map[PeerID][]Announcement{}, grafted: map[PeerID]bool{}, fed: map[PeerID]bool{}}
}

// Eager and Lazy are the current peer sets, in order.
func (s *State) Eager() []PeerID { return slices.Clone(s.eager) }

// Lazy is the set of peers that get announcements only.
func (s *State) Lazy() []PeerID { return slices.Clone(s.lazy) }

// InTree reports whether the link to p is one of the tree's: the node is
// in a tree (an eager peer has delivered it a first copy since it became
// eager), and p is eager, a parent or a child. The overlay keeps such
// links out of its trades, which would cut the tree.
func (s *State) InTree(p PeerID) bool { return len(s.fed) > 0 && slices.Contains(s.eager, p) }

// Seen reports whether the message was received (or broadcast) here, as
// far as MaxSeen remembers: a driver that validates a message before the
// State sees it need not validate a copy of one it has seen.
func (s *State) Seen(id MessageID) bool { return s.seen.has(id) }

// Step processes one input and returns what to do.
func (s *State) Step(in Input) []Output {
	s.out = nil
	switch in := in.(type) {
	case Broadcast:
		if !s.seen.has(in.ID) {
			s.markSeen(in.ID)
			s.enter(in.ID)
			s.push(in.ID, in.Payload, 0, "")
		}
	case Receive:
		s.receive(in.From, in.Msg)
	case Arrived:
		s.kept(in.From, in.ID)
	case NeighborUp:
		switch {
		case slices.Contains(s.eager, in.Peer) || slices.Contains(s.lazy, in.Peer):
		case len(s.fed) > 0:
			// The node is in a tree: a new link would only make a cycle
			// for the next message to cut. It stays lazy until a graft
			// needs it.
			s.lazy = append(s.lazy, in.Peer)
		default:
			s.eager = append(s.eager, in.Peer)
		}
	case NeighborDown:
		delete(s.grafted, in.Peer)
		delete(s.fed, in.Peer)
		s.eager = remove(s.eager, in.Peer)
		s.lazy = remove(s.lazy, in.Peer)
		delete(s.queued, in.Peer)
		s.queue = remove(s.queue, in.Peer)
		s.forgive(in.Peer) // gone: it owes nothing
		for id, anns := range s.missing {
			s.missing[id] = slices.DeleteFunc(anns, func(a announcer) bool { return a.peer == in.Peer })
		}
	case TimerFired:
		switch in.Timer.Kind {
		case IHaveTimer:
			s.flush()
		case GraftTimer:
			s.graft(in.Timer.ID)
		case WindowTimer:
			s.leave(in.Timer.ID)
		case PromiseTimer:
			s.due(in.Timer.ID)
		}
	}
	return s.out
}

// receive handles a message. One from a peer that is not a neighbour
// changes no tree state: the tree is made of the overlay's links, and state
// kept about other peers (grafted, fed) would be unbounded and would let
// anyone steer the tree. Its Graft is not answered (a stranger could make
// this node send payloads to anyone) and its Prune is moot. But the overlay's
// two ends disagree for a while after a lost Disconnect or NeighborReply,
// and the peer that still believes in the link may be the only way a
// message comes: a first copy it pushes is delivered and pushed on, as one
// from outside the tree (a second is answered with a Prune, so that it
// stops pushing over the link), and its IHave is taken as from any
// announcer, whose graft (below) makes no link eager.
func (s *State) receive(from PeerID, m Message) {
	if g, ok := m.(Gossip); ok {
		s.kept(from, g.ID)
	}
	if !s.neighbour(from) {
		switch m := m.(type) {
		case Gossip:
			if s.seen.has(m.ID) {
				s.send(from, Prune{})
				return
			}
			s.markSeen(m.ID)
			s.enter(m.ID)
			delete(s.missing, m.ID)
			s.out = append(s.out, Deliver{ID: m.ID, Payload: m.Payload, From: from, Round: m.Round})
			s.push(m.ID, m.Payload, m.Round+1, from)
		case IHave:
			s.announced(from, m)
		}
		return
	}
	switch m := m.(type) {
	case Gossip:
		if s.seen.has(m.ID) {
			// A second copy: this link is redundant, for this message.
			if s.mayPrune(from, m.ID) {
				s.makeLazy(from)
				s.send(from, Prune{})
			}
			return
		}
		s.markSeen(m.ID)
		s.enter(m.ID)
		delete(s.missing, m.ID)
		delete(s.grafted, from) // a first copy: the link is in the tree
		s.out = append(s.out, Deliver{ID: m.ID, Payload: m.Payload, From: from, Round: m.Round})
		s.makeEager(from)
		s.fed[from] = true
		s.push(m.ID, m.Payload, m.Round+1, from)
	case Prune:
		delete(s.grafted, from)
		s.makeLazy(from)
	case IHave:
		s.announced(from, m)
	case Graft:
		if !slices.Contains(s.eager, from) {
			s.grafted[from] = true
		}
		s.makeEager(from)
		if payload, ok := s.store.Payload(m.ID); ok {
			s.send(from, Gossip{ID: m.ID, Payload: payload, Round: m.Round})
		}
	}
}

// announced notes the ids an IHave announces that this node lacks, with
// a graft timer for each, within MaxMissing ids and maxAnnouncers each.
func (s *State) announced(from PeerID, m IHave) {
	for _, a := range m.Announced {
		if s.seen.has(a.ID) || !s.armed[a.ID] && len(s.armed) >= s.cfg.MaxMissing {
			continue
		}
		anns := s.missing[a.ID]
		if len(anns) < maxAnnouncers && !slices.ContainsFunc(anns, func(x announcer) bool { return x.peer == from }) {
			s.missing[a.ID] = append(anns, announcer{from, a.Round})
		}
		if !s.armed[a.ID] {
			s.armed[a.ID] = true
			s.out = append(s.out, SetTimer{Timer: Timer{Kind: GraftTimer, ID: a.ID}, After: s.cfg.GraftTimeout})
		}
	}
}

// push sends a message eagerly to the eager peers and queues its id for the
// lazy ones, all but the peer it came from. The author (from is empty)
// announces its own message to its eager peers too: an author with a
// single neighbour, all eager, whose one push is lost, would otherwise
// leave the message to anti-entropy (seconds); announced, it is grafted.
func (s *State) push(id MessageID, payload []byte, round int, from PeerID) {
	for _, p := range s.eager {
		if p != from {
			s.send(p, Gossip{ID: id, Payload: payload, Round: round})
		}
	}
	announce := s.lazy
	if from == "" {
		announce = append(slices.Clone(s.lazy), s.eager...)
	}
	for _, p := range announce {
		if p == from {
			continue
		}
		if _, ok := s.queued[p]; !ok {
			s.queue = append(s.queue, p)
		}
		s.queued[p] = append(s.queued[p], Announcement{ID: id, Round: round})
	}
	if len(s.queue) > 0 && !s.flushing {
		s.flushing = true
		s.out = append(s.out, SetTimer{Timer: Timer{Kind: IHaveTimer}, After: s.cfg.IHaveEvery})
	}
}

// flush sends the queued announcements, one IHave per peer.
func (s *State) flush() {
	s.flushing = false
	for _, p := range s.queue {
		s.send(p, IHave{Announced: s.queued[p]})
	}
	clear(s.queued)
	s.queue = s.queue[:0]
}

// graft asks an announcer of a still-missing id for it: the first one
// that is an eager peer already (one grafted for an earlier id, say), else
// the first to announce it. NB: preferring an eager peer matters after a
// cut, when several ids are missing at once: grafting each from its own
// first announcer would make as many new eager links, and cycles.
func (s *State) graft(id MessageID) {
	anns := s.missing[id]
	if s.seen.has(id) || len(anns) == 0 {
		delete(s.armed, id)
		delete(s.missing, id)
		return
	}
	k := max(slices.IndexFunc(anns, func(a announcer) bool { return slices.Contains(s.eager, a.peer) }), 0)
	a := anns[k]
	s.missing[id] = slices.Delete(anns, k, k+1)
	if slices.Contains(s.lazy, a.peer) {
		s.grafted[a.peer] = true // on probation: see prune.go
	}
	s.makeEager(a.peer)
	s.send(a.peer, Graft{ID: id, Round: a.round})
	s.out = append(s.out, SetTimer{Timer: Timer{Kind: GraftTimer, ID: id}, After: s.cfg.RetryTimeout})
	s.promised(a.peer, id)
}

func (s *State) neighbour(p PeerID) bool {
	return slices.Contains(s.eager, p) || slices.Contains(s.lazy, p)
}

func (s *State) makeEager(p PeerID) {
	if i := slices.Index(s.lazy, p); i >= 0 {
		s.lazy = slices.Delete(s.lazy, i, i+1)
		s.eager = append(s.eager, p)
	}
}

func (s *State) makeLazy(p PeerID) {
	delete(s.fed, p)
	if i := slices.Index(s.eager, p); i >= 0 {
		s.eager = slices.Delete(s.eager, i, i+1)
		s.lazy = append(s.lazy, p)
	}
}

func (s *State) markSeen(id MessageID) {
	s.seen.add(id, s.cfg.MaxSeen)
}

func (s *State) send(to PeerID, m Message) { s.out = append(s.out, Send{To: to, Msg: m}) }

func remove(ps []PeerID, p PeerID) []PeerID {
	if i := slices.Index(ps, p); i >= 0 {
		return slices.Delete(ps, i, i+1)
	}
	return ps
}

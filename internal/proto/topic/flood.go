package topic

// Floods: pushes of entries this node holds already, and of entries dated
// beyond the allowed clock skew, each counted per peer over a window.
//
// Neither is misbehaviour once: Plumtree prunes a redundant link by the
// duplicate it carries, a copy crosses a graft's answer, a reconnecting
// stream sends again what it had not flushed; and an entry a relay stored
// may be ahead of this node's clock when clocks differ (group.MaxSkew). A
// peer that sends many of them in a window is flooding: it replays what
// the group has, or writes ahead of every clock. Within a window of
// Config.FloodWindow (the clock's windows, the same for every peer), a
// peer may push Config.MaxFuture entries from the future, and
// Config.MaxDuplicates duplicates plus one for each entry new here in this
// window and the one before (an honest peer sends each entry about once,
// so its duplicates follow the group's traffic, a burst's included, not
// beyond it); beyond that it is charged a FutureFlood or a DuplicateFlood,
// and its count starts again, so a sustained flood costs one charge per
// bound's worth.
//
// The bound on duplicates is from the simulator's honest runs (10 s
// windows): with 1,000 nodes and a post every 50 ms, and with 300 nodes and
// one every 10 ms (100 a second), a bound of 10 plus one per new entry
// charged one honest peer once, 10 plus two charged none, nor did it with
// 5% loss, 1% duplication, crashes and churn, or a partition; a flat 80
// charged 479 times at 100 posts a second. MaxDuplicates (16), and each
// new entry counted in two windows (its own and the next), leave room
// above that; a replay of old entries at five times the group's rate goes
// beyond them within a window. MaxFuture (50)
// is above a busy group's rate in a window: a node whose own clock is
// behind refuses every entry as from the future, and must not cut off its
// honest peers for that.
//
// The table holds the peers heard from within a window, at most MaxBans of
// them: a full table forgets the peer whose window began first.

// floodCount is one peer's counts in the current window.
type floodCount struct {
	window       int64 // the window counted, in FloodWindows of the clock
	dups, future int
}

// newHere counts the broadcast's first deliveries in the current window
// and the one before, for the duplicates a peer may send.
type newHere struct {
	window     int64
	this, last int
}

// deliveredNow counts a first delivery.
func (s *State) deliveredNow() {
	s.roll()
	s.fresh.this++
}

// roll moves the count of new entries on to the current window.
func (s *State) roll() {
	if s.cfg.FloodWindow <= 0 {
		return
	}
	w := s.now.UnixNano() / int64(s.cfg.FloodWindow)
	switch w - s.fresh.window {
	case 0:
		return
	case 1:
		s.fresh.last = s.fresh.this
	default:
		s.fresh.last = 0
	}
	s.fresh.window, s.fresh.this = w, 0
}

// duplicate counts a copy from p of an entry the broadcast has seen.
func (s *State) duplicate(p PeerID) {
	if c := s.flood(p); c != nil {
		if c.dups++; c.dups > s.cfg.MaxDuplicates+s.fresh.this+s.fresh.last {
			c.dups = 0
			s.out = append(s.out, Charge{Peer: p, Fault: DuplicateFlood})
		}
	}
}

// fromFuture counts a push from p that admission refused as dated beyond
// the allowed clock skew.
func (s *State) fromFuture(p PeerID) {
	if c := s.flood(p); c != nil {
		if c.future++; c.future > s.cfg.MaxFuture {
			c.future = 0
			s.out = append(s.out, Charge{Peer: p, Fault: FutureFlood})
		}
	}
}

// flood returns p's counts in the current window, starting them if they
// are an earlier window's; nil if floods are not counted.
func (s *State) flood(p PeerID) *floodCount {
	if s.cfg.FloodWindow <= 0 || p == s.self {
		return nil
	}
	s.roll()
	c, ok := s.floods[p]
	switch {
	case ok && c.window == s.fresh.window:
		return c
	case ok:
		*c = floodCount{window: s.fresh.window}
		return c
	}
	if len(s.floods) >= s.cfg.MaxBans {
		// Forget the peer counted longest ago (ties by peer id).
		var first PeerID
		for q, d := range s.floods {
			if first == "" || d.window < s.floods[first].window || d.window == s.floods[first].window && q < first {
				first = q
			}
		}
		delete(s.floods, first)
	}
	c = &floodCount{window: s.fresh.window}
	s.floods[p] = c
	return c
}

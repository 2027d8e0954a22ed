package hyparview

import "slices"

// Declined trades. A full view offers a trade only for a much faster
// link, which the peer takes only if its own neighbours are slow; asked
// again at every repair tick, as the trades first were, nearly every such
// offer was refused again: at 3,000 simulated nodes in 30 groups, 86,345
// refusals for 932 trades, a third of the overlay's idle messages. A peer
// that keeps refusing a full view is asked again after one repair tick,
// then two, four, eight, and at most a shuffle period's worth; one that
// accepts starts over. Under churn a refusal goes stale soon (the peer
// loses a neighbour and would take the trade): holding every refusal for
// a shuffle period cut the trades further, but raised the latency p50 by
// 2% on average under loss, crashes and churn (docs/scale.md, "Idle rounds
// batched"). A view that is short forgets every refusal at each repair
// tick, as before: it needs neighbours, and the peers' views change.

// decline is a peer's standing after it refused: left is how many repair
// ticks it is not asked again, streak how many offers of a full view it
// refused in a row (bytes: a membership keeps one for each peer of its
// views that refused, and the simulator a million memberships).
type decline struct{ left, streak uint8 }

// noteDecline notes that p refused a trade, or that the offer was lost.
func (s *State) noteDecline(p PeerID) {
	d := s.opt.declined[p]
	if len(s.active) < s.cfg.ActiveSize {
		d.left = 1
	} else {
		d.streak = min(d.streak+1, 8)
		d.left = uint8(min(1<<(d.streak-1), s.maxDeclineHold()))
	}
	if s.opt.declined == nil {
		s.opt.declined = map[PeerID]decline{}
	}
	s.opt.declined[p] = d
}

// maxDeclineHold is the longest a refusal holds, in repair ticks: a
// shuffle period, and at most 255.
func (s *State) maxDeclineHold() int {
	if s.cfg.RepairEvery <= 0 {
		return 1
	}
	return min(max(int(s.cfg.ShuffleEvery/s.cfg.RepairEvery), 1), 255)
}

// onHold reports whether p refused a trade and is not to be asked again yet.
func (o *optimization) onHold(p PeerID) bool { return o.declined[p].left > 0 }

// ageDeclines runs at each repair tick. It forgets the refusals of peers
// in neither view once they have run out, which bounds the table by the
// views' peers and those the last shuffle period evicted.
func (s *State) ageDeclines() {
	if len(s.active) < s.cfg.ActiveSize {
		s.opt.declined = nil
		return
	}
	for p, d := range s.opt.declined {
		d.left = max(d.left, 1) - 1
		if d.left == 0 && !slices.Contains(s.passive, p) && !slices.Contains(s.active, p) {
			delete(s.opt.declined, p)
			continue
		}
		s.opt.declined[p] = d
	}
}

package sim

import (
	"time"

	"hearsay/internal/proto/topic"
)

// Churn, as simulated here. A leaving node stops: half the time gracefully,
// sending Disconnect to its active neighbours in every group, otherwise
// silently, and the overlay finds out when it next tries to reach it. It
// comes back as a restarted process would: fresh overlay and broadcast
// state, the same identity and stores (store-and-forward: what it held, it
// serves again), joining each group through a random live member, as
// discovery would find one. A brand-new node arrives the same way with
// empty stores. A restart breaks the old connections: a neighbour sending
// on one gets PeerDown, and a neighbour hearing from the new incarnation
// drops the old connection first, as a transport replacing a connection
// does.

type (
	leave struct{ graceful bool }
	up    struct{}
)

// churn schedules the leaves and the newcomers' arrivals in [from, to), and
// each return within ChurnAway of its leave; it returns the time of the
// last return or arrival. The nodes that crash take no part.
func (s *Sim) churn(from, to time.Duration, crashed []bool) time.Duration {
	var last time.Duration
	within := func() time.Duration { return from + time.Duration(s.rng.Int64N(int64(to-from))) }
	if leavers := int(s.cfg.Churn * float64(s.cfg.Nodes)); leavers > 0 {
		for _, i := range s.rng.Perm(s.cfg.Nodes) {
			if leavers == 0 {
				break
			}
			if crashed[i] {
				continue
			}
			leavers--
			at := within()
			back := at + time.Duration(s.rng.Int64N(int64(s.cfg.ChurnAway)))
			s.at(at, eventSpec{to: i, what: leave{graceful: s.rng.IntN(2) == 0}})
			s.at(back, eventSpec{to: i, what: up{}})
			last = max(last, back)
		}
	}
	for i := s.cfg.Nodes; i < len(s.nodes); i++ {
		at := within()
		s.at(at, eventSpec{to: i, what: up{}})
		last = max(last, at)
	}
	return last
}

// leave takes node i down.
func (s *Sim) leave(i int, graceful bool) {
	n := s.nodes[i]
	if graceful {
		for _, g := range n.groups {
			s.step(i, g, topic.Leave{})
		}
	}
	n.down = true
}

// up starts node i again, or for the first time if it is a newcomer.
func (s *Sim) up(i int) {
	n := s.nodes[i]
	n.down = false
	n.epoch++
	s.restarted = true
	n.since = s.now
	s.fresh(i)
	for _, g := range n.groups {
		s.step(i, g, topic.Start{})
		if c, ok := s.liveOther(i, g); ok {
			s.step(i, g, topic.Join{Contact: s.nodes[c].id})
		}
	}
	s.at(time.Duration(s.rng.Int64N(int64(s.cfg.AntiEntropyEvery))), eventSpec{to: i, what: antiEntropy{}})
}

// reachable reports whether node i can reach node j in group g: j is up
// and, if it is one of i's active neighbours, still the incarnation i
// connected to.
func (s *Sim) reachable(i, g, j int) bool {
	n := s.nodes[j]
	if n.down || s.att.refused(s, i, j) {
		return false
	}
	if !s.restarted {
		return true
	}
	for _, l := range s.nodes[i].member(g).links {
		if l.peer == j {
			return l.epoch == n.epoch
		}
	}
	return true
}

// heard runs before node i handles a message from j in group g: a message
// from a newer incarnation of a neighbour means its old connection is gone.
func (s *Sim) heard(i, g, j int) {
	if !s.restarted {
		return
	}
	for _, l := range s.nodes[i].member(g).links {
		if l.peer == j && l.epoch != s.nodes[j].epoch {
			s.step(i, g, topic.PeerDown{Peer: s.nodes[j].id})
			return
		}
	}
}

package sim

import (
	"slices"
	"time"

	"hearsay/internal/proto/negentropy"
	"hearsay/internal/proto/plumtree"
	"hearsay/internal/proto/topic"
)

// Anti-entropy as the node runs it (node.Network.Round): one tick a node
// for all its groups, in which each group's core picks its peer following
// the peers picked for the groups before it (topic.Round's Prefer), and
// each peer picked is probed once for all its groups (protocol.md §10,
// "Probes"): the groups found the same end there, the others get a
// Negentropy session each.

// pick is a group's choice of peer in a tick.
type pick struct{ group, peer int }

// round is node i's anti-entropy tick.
func (s *Sim) round(i int) {
	n := s.nodes[i]
	s.picks, s.picking = s.picks[:0], true
	var prefer []topic.PeerID
	for _, g := range n.groups {
		before := len(s.picks)
		s.step(i, g, topic.Round{Prefer: prefer})
		if len(s.picks) > before {
			if p := s.nodes[s.picks[before].peer].id; !slices.Contains(prefer, p) {
				prefer = append(prefer, p)
			}
		}
	}
	s.picking = false
	picks := append([]pick(nil), s.picks...)
	for k, p := range picks {
		if p.group < 0 {
			continue // probed with an earlier pick of its peer
		}
		groups := []int{p.group}
		for l := k + 1; l < len(picks); l++ {
			if picks[l].peer == p.peer {
				groups = append(groups, picks[l].group)
				picks[l].group = -1
			}
		}
		s.probe(i, p.peer, groups)
	}
}

// probeBytes is what a probe of k groups and its reply weigh: a type byte,
// the version and a count, then per group its id, a varint size and a
// fingerprint; the reply a type byte, a count and a verdict per group.
func probeBytes(k int) int { return 3 + k*(32+2+16) + 2 + k }

// probe runs node i's probe of groups with node j: a group whose peer is
// gone is reported unreachable, and its core picks again; the probe's two
// legs are subject to loss (then every group's sync failed, and the next
// tick tries again); a group found the same ends the round for both sides
// after the probe's round trip, and each of the others runs a session
// after it.
func (s *Sim) probe(i, j int, groups []int) {
	asked := groups[:0:0]
	for _, g := range groups {
		if !s.reachable(i, g, j) {
			s.step(i, g, topic.SyncFailed{Peer: s.nodes[j].id, Unreachable: true})
			s.step(i, g, topic.Round{})
			continue
		}
		asked = append(asked, g)
	}
	if len(asked) == 0 {
		return
	}
	failed := func() {
		for _, g := range asked {
			s.step(i, g, topic.SyncFailed{Peer: s.nodes[j].id})
		}
	}
	if s.att != nil && s.att.session(s, i, j) {
		failed()
		return
	}
	s.m.reconcile(i, 2, probeBytes(len(asked)))
	lost := s.severed(i, j)
	for range 2 {
		lost = lost || s.rng.Float64() < s.cfg.Drop
	}
	if lost {
		failed()
		return
	}
	rtt := 2 * s.latency(i, j)
	for _, g := range asked {
		mine, theirs := &s.nodes[i].member(g).store, &s.nodes[j].member(g).store
		if mine.Size() == theirs.Size() && mine.Fingerprint(0, mine.Size()) == theirs.Fingerprint(0, theirs.Size()) {
			s.at(rtt, eventSpec{to: i, group: g, what: synced{peer: j}})
			s.at(rtt, eventSpec{to: j, group: g, what: synced{peer: i}})
			continue
		}
		s.reconcile(i, g, j, rtt)
	}
}

// transfer carries the entries a sync session moves; it arrives after the
// session's round trips.
type transfer struct {
	ids []plumtree.MessageID
	// toClient: the session's client receives them.
	toClient bool
}

// reconcile runs node i's sync session of group g with node j, after a
// probe's round trip, using the real Negentropy sessions over both
// stores. The session runs at once; what it moves arrives after its round
// trips, each leg subject to loss, and both sides' cores hear that it
// ended then.
func (s *Sim) reconcile(i, g, j int, after time.Duration) {
	mi := s.nodes[i].member(g)
	client, _ := negentropy.New(&mi.store, 0)
	server, _ := negentropy.New(&s.nodes[j].member(g).store, 0)
	var have, need []negentropy.ID
	legs, bytes := 0, 0
	for msg := client.Initiate(); msg != nil; {
		reply, _, _, _ := server.Reconcile(msg, nil, nil)
		bytes += len(msg) + len(reply)
		legs += 2
		msg, have, need, _ = client.Reconcile(reply, have, need)
	}
	s.m.reconcile(i, legs, bytes)
	lost := s.severed(i, j)
	for range legs {
		lost = lost || s.rng.Float64() < s.cfg.Drop
	}
	if lost {
		// The session broke off; the next round tries again.
		s.step(i, g, topic.SyncFailed{Peer: s.nodes[j].id})
		return
	}
	rtt := after + time.Duration(legs)*s.latency(i, j)
	received := 0 // what i will store of what it needs: none from the future
	for _, id := range need {
		if s.admissible(i, plumtree.MessageID(id), s.now+rtt) {
			received++
		}
	}
	s.at(rtt, eventSpec{to: i, group: g, what: synced{peer: j, received: received}})
	s.at(rtt, eventSpec{to: j, group: g, what: synced{peer: i}})
	if len(need) > 0 {
		s.m.moved(i, len(need))
		s.at(rtt, eventSpec{to: i, from: j, group: g, what: transfer{ids: messageIDs(need), toClient: true}})
	}
	if len(have) > 0 && !s.att.withholds(i) {
		s.m.moved(i, len(have))
		s.at(rtt, eventSpec{to: j, from: i, group: g, what: transfer{ids: messageIDs(have)}})
	}
}

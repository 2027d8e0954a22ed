package sim

import (
	"slices"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/negentropy"
	"hearsay/internal/proto/plumtree"
	"hearsay/internal/proto/topic"
)

// joinEvery spaces the joins, up to joinSpan of them in all; settle lets
// the overlay shuffle and trade for faster links before posts (about 30 s
// on 100 nodes, see hyparview/optimize.go).
const (
	joinEvery = time.Millisecond
	joinSpan  = 100 * time.Second
	settle    = 30 * time.Second
)

// joinGap is the time between two of n nodes' joins: joinEvery up to 10^5
// nodes, closer beyond, so that the joins take joinSpan at most. Every
// node ticks from its join (an optimization tick a second, pings, repairs),
// so at 10^6 nodes one per millisecond would spend most of the run's
// events, 1,000 s of them, on the arrivals (docs/scale.md, "10^6 nodes").
func joinGap(n int) time.Duration {
	if n <= 0 {
		return joinEvery
	}
	return min(joinEvery, joinSpan/time.Duration(n))
}

// Run builds the overlays, publishes the posts from random live members of
// their groups, crashes and churns nodes mid-run if asked, lets
// anti-entropy run, and returns the figures.
func (s *Sim) Run() Result {
	gap := joinGap(s.cfg.Nodes)
	for i := range s.cfg.Nodes {
		for _, g := range s.nodes[i].groups {
			contact := -1
			if k, _ := slices.BinarySearch(s.groups[g], i); k > 0 {
				contact = s.groups[g][s.rng.IntN(k)]
			}
			s.at(time.Duration(i)*gap, eventSpec{to: i, group: g, what: join{contact}})
		}
	}
	start := time.Duration(s.cfg.Nodes)*gap + settle
	for p := range s.cfg.Posts {
		var id plumtree.MessageID
		for b := range id {
			id[b] = byte(s.rng.Uint32())
		}
		group := 0
		if s.cfg.Groups > 1 {
			group = s.rng.IntN(s.cfg.Groups)
		}
		s.at(start+time.Duration(p)*s.cfg.PostEvery, eventSpec{to: -1, what: publish{id, group}})
	}
	postsEnd := start + time.Duration(s.cfg.Posts)*s.cfg.PostEvery
	if side := int(s.cfg.Partition * float64(len(s.nodes))); side > 0 {
		s.cut = make([]bool, len(s.nodes))
		for _, i := range s.rng.Perm(len(s.nodes))[:side] {
			s.cut[i] = true
		}
		s.cutFrom = start + (postsEnd-start)/3
		s.cutTo = s.cutFrom + s.cfg.PartitionFor
	}
	crashed := make([]bool, s.cfg.Nodes)
	if crashes := int(s.cfg.Crash * float64(s.cfg.Nodes)); crashes > 0 {
		for _, i := range s.rng.Perm(s.cfg.Nodes)[:crashes] {
			crashed[i] = true
			s.at(start+(postsEnd-start)/2, eventSpec{to: i, what: crash{}})
		}
	}
	back := s.churn(start, postsEnd, crashed)
	for i := range s.cfg.Nodes {
		jitter := time.Duration(s.rng.Int64N(int64(s.cfg.AntiEntropyEvery)))
		s.at(start+jitter, eventSpec{to: i, what: antiEntropy{}})
	}
	if s.att != nil {
		s.att.schedule(s, start, postsEnd)
	}
	// Quiescence: in every group, every live member holds every post a
	// live member holds. It is checked each anti-entropy period after the
	// last post (and the partition's end, and the churn's last return), up
	// to a cap.
	drainFrom := max(postsEnd, s.cutTo, back, postsEnd+2*s.cfg.Skew-s.cfg.MaxSkew)
	for k := 1; k <= maxDrain; k++ {
		s.at(drainFrom-s.now+time.Duration(k)*s.cfg.AntiEntropyEvery, eventSpec{to: -1, what: checkDone{last: k == maxDrain}})
	}
	for s.queue.Len() > 0 && !s.done {
		e := s.queue.pop()
		s.now = e.at
		s.handle(&e)
		s.events++
		if s.cfg.Check && e.to >= 0 {
			s.checkNode(int(e.to))
		}
	}
	return s.m.result(s)
}

// maxDrain caps the anti-entropy periods a run waits after its last post.
const maxDrain = 60

type checkDone struct{ last bool }

// quiescent reports whether, in every group, every live member holds every
// post of the group some live member holds.
func (s *Sim) quiescent() bool {
	for k, id := range s.m.order {
		g := s.m.groups[k]
		held, live := 0, 0
		for _, i := range s.groups[g] {
			n := s.nodes[i]
			if n.down || s.att.is(i) {
				continue
			}
			live++
			if n.member(g).store.has(id) {
				held++
			}
		}
		if held > 0 && held < live {
			return false
		}
	}
	return true
}

// handle carries out event e: for node i, from node j, in group g.
func (s *Sim) handle(e *event) {
	i, j, g := int(e.to), int(e.from), int(e.group)
	switch t := e.what.(type) {
	case publish:
		s.publish(t)
		return
	case checkDone:
		s.done = t.last || s.quiescent()
		return
	case up:
		s.up(i)
		return
	case viewCheck:
		s.att.checkViews(s)
		return
	case sessionEnd:
		s.att.closeSession(t.server, t.client)
		return
	}
	n := s.nodes[i]
	if n.down || int(e.epoch) != n.epoch {
		return
	}
	switch t := e.what.(type) {
	case crash:
		n.down = true
		return
	case leave:
		s.leave(i, t.graceful)
		return
	case join:
		s.step(i, g, topic.Start{})
		if t.contact >= 0 {
			s.step(i, g, topic.Join{Contact: s.nodes[t.contact].id})
		}
		return
	case antiEntropy:
		s.round(i)
		s.at(s.cfg.AntiEntropyEvery, eventSpec{to: i, what: antiEntropy{}})
		return
	case synced:
		s.step(i, g, topic.SyncDone{Peer: s.nodes[t.peer].id, Received: t.received})
		return
	case attackAct:
		s.att.act(s, i, g)
		return
	case sybil:
		s.att.spawn(s, i)
		return
	case topic.Timer:
		s.step(i, g, topic.TimerFired{Timer: t})
		return
	case topic.Measured:
		s.measured(i, nodeIndex(t.Peer), t.RTT)
		s.step(i, g, t)
		return
	}
	from := s.nodes[j]
	if _, ok := e.what.(transfer); !ok && s.att != nil && s.att.ignores(s, i, j) {
		return
	}
	switch msg := e.what.(type) {
	case hyparview.Message:
		s.heard(i, g, j)
		s.step(i, g, topic.Receive{From: from.id, Overlay: msg})
	case plumtree.Message:
		s.heard(i, g, j)
		s.step(i, g, topic.Receive{From: from.id, Broadcast: msg})
	case transfer:
		if s.att != nil {
			s.att.transfer(s, i, j, g, msg)
			return
		}
		src := &from.member(g).store
		for _, id := range msg.ids {
			if src.has(id) {
				if stored, _ := s.admit(i, g, id); stored {
					s.m.delivered(id, s.now, n.since, -1)
				}
			}
		}
	}
}

// step feeds node i's core in group g one input at the virtual time and
// carries out its outputs in their order (proto/topic's package doc), as
// the node's gossip layer does over the network.
func (s *Sim) step(i, g int, in topic.Input) {
	m := s.nodes[i].member(g)
	for _, o := range m.core.Step(epoch.Add(s.now), in) {
		switch o := o.(type) {
		case topic.Send:
			to := nodeIndex(o.To)
			if !s.reachable(i, g, to) {
				// The transport notices a dead peer when it tries to reach it.
				s.step(i, g, topic.PeerDown{Peer: o.To})
				continue
			}
			if o.Overlay != nil {
				s.send(i, to, g, o.Overlay, 0)
				continue
			}
			size := 0
			if gossip, ok := o.Broadcast.(plumtree.Gossip); ok {
				size = len(gossip.Payload)
			}
			s.send(i, to, g, o.Broadcast, size)
		case topic.SetTimer:
			s.at(o.After, eventSpec{to: i, group: g, what: o.Timer})
		case topic.Measure:
			// A fresh sample answers at once (rttcache.go); else a ping,
			// whose answer comes back after a round trip, or not at all if
			// either leg is lost.
			to := nodeIndex(o.Peer)
			if rtt, ok := s.cachedRTT(i, to); ok {
				s.step(i, g, topic.Measured{Peer: o.Peer, RTT: rtt})
				continue
			}
			if !s.reachable(i, g, to) {
				s.step(i, g, topic.PeerDown{Peer: o.Peer})
				continue
			}
			s.m.pinged()
			if s.rng.Float64() < s.cfg.Drop || s.rng.Float64() < s.cfg.Drop || s.severed(i, to) {
				continue
			}
			rtt := s.latency(i, to) + s.latency(to, i)
			s.at(rtt, eventSpec{to: i, group: g, what: topic.Measured{Peer: o.Peer, RTT: rtt}})
		case topic.NeighborUp:
			p := nodeIndex(o.Peer)
			m.links = append(m.links, link{p, s.nodes[p].epoch})
			s.linkUp(i, g, p)
		case topic.NeighborDown:
			p := nodeIndex(o.Peer)
			if k := slices.IndexFunc(m.links, func(l link) bool { return l.peer == p }); k >= 0 {
				m.links = slices.Delete(m.links, k, k+1)
				s.linkDown(i, p)
			}
		case topic.Admit:
			if s.att != nil {
				s.att.pushed(s, i, g, o)
				continue
			}
			// A simulated entry is refused only from the future (Skew).
			stored, ok := s.admit(i, g, o.Msg.ID)
			if stored {
				s.m.delivered(o.Msg.ID, s.now, s.nodes[i].since, o.Msg.Round+1)
			}
			s.step(i, g, topic.Admitted{From: o.From, Msg: o.Msg, OK: ok, Future: !ok})
		case topic.Charge:
			s.charge(i, nodeIndex(o.Peer), o.Fault)
		case topic.Reconcile:
			if s.picking {
				s.picks = append(s.picks, pick{group: g, peer: nodeIndex(o.Peer)})
				continue
			}
			s.probe(i, nodeIndex(o.Peer), []int{g})
		case topic.FindContacts:
			// Discovery (bootstrap peers, the DHT) finds a live member.
			var found []topic.PeerID
			if c, ok := s.liveOther(i, g); ok {
				found = append(found, s.nodes[c].id)
			}
			s.step(i, g, topic.Found{Peers: found})
		}
	}
}

// liveOther draws a live member of group g other than i.
func (s *Sim) liveOther(i, g int) (int, bool) {
	members := s.groups[g]
	for range 64 {
		if c := members[s.rng.IntN(len(members))]; c != i && !s.nodes[c].down {
			return c, true
		}
	}
	return 0, false
}

// payload is what a simulated entry weighs: a typical post.
var payload = make([]byte, 300)

func (s *Sim) publish(p publish) {
	var live []int
	for _, i := range s.groups[p.group] {
		if !s.nodes[i].down && !s.att.is(i) {
			live = append(live, i)
		}
	}
	if len(live) == 0 {
		return // every member is away: nobody writes the post
	}
	from := live[s.rng.IntN(len(live))]
	if len(s.m.order) == 0 {
		s.m.postsFrom = s.now
	}
	s.m.published[p.id] = s.now
	s.stamps[p.id] = s.stamp(from)
	s.m.order = append(s.m.order, p.id)
	s.m.groups = append(s.m.groups, p.group)
	m := s.nodes[from].member(p.group)
	s.posts.add(p.id, s.stamps[p.id])
	m.store.put(p.id)
	s.m.delivered(p.id, s.now, s.nodes[from].since, 0)
	s.step(from, p.group, topic.Broadcast{ID: p.id, Payload: payload})
}

func messageIDs(ids []negentropy.ID) []plumtree.MessageID {
	out := make([]plumtree.MessageID, len(ids))
	for i, id := range ids {
		out[i] = plumtree.MessageID(id)
	}
	return out
}

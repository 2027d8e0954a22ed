package sim

import (
	"container/heap"
	"slices"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/negentropy"
	"hearsay/internal/proto/plumtree"
)

// joinEvery spaces the joins; settle lets the overlay shuffle and trade
// for faster links before posts (about 30 s on 100 nodes, see
// hyparview/optimize.go).
const (
	joinEvery = time.Millisecond
	settle    = 30 * time.Second
)

// Run builds the overlays, publishes the posts from random live members of
// their groups, crashes and churns nodes mid-run if asked, lets
// anti-entropy run, and returns the figures.
func (s *Sim) Run() Result {
	for i := range s.cfg.Nodes {
		for _, g := range s.nodes[i].groups {
			contact := -1
			if k, _ := slices.BinarySearch(s.groups[g], i); k > 0 {
				contact = s.groups[g][s.rng.IntN(k)]
			}
			s.at(time.Duration(i)*joinEvery, &event{to: i, group: g, timer: join{contact}})
		}
	}
	start := time.Duration(s.cfg.Nodes)*joinEvery + settle
	for p := range s.cfg.Posts {
		var id plumtree.MessageID
		for b := range id {
			id[b] = byte(s.rng.Uint32())
		}
		group := 0
		if s.cfg.Groups > 1 {
			group = s.rng.IntN(s.cfg.Groups)
		}
		s.at(start+time.Duration(p)*s.cfg.PostEvery, &event{to: -1, timer: publish{id, group}})
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
			s.at(start+(postsEnd-start)/2, &event{to: i, timer: crash{}})
		}
	}
	back := s.churn(start, postsEnd, crashed)
	for i := range s.cfg.Nodes {
		for _, g := range s.nodes[i].groups {
			jitter := time.Duration(s.rng.Int64N(int64(s.cfg.AntiEntropyEvery)))
			s.at(start+jitter, &event{to: i, group: g, timer: antiEntropy{}})
		}
	}
	// Quiescence: in every group, every live member holds every post a
	// live member holds. It is checked each anti-entropy period after the
	// last post (and the partition's end, and the churn's last return), up
	// to a cap.
	drainFrom := max(postsEnd, s.cutTo, back)
	for k := 1; k <= maxDrain; k++ {
		s.at(drainFrom-s.now+time.Duration(k)*s.cfg.AntiEntropyEvery, &event{to: -1, timer: checkDone{last: k == maxDrain}})
	}
	for s.queue.Len() > 0 && !s.done {
		e := heap.Pop(&s.queue).(*event)
		s.now = e.at
		s.handle(e)
		s.events++
		if s.cfg.Check && e.to >= 0 {
			s.checkNode(e.to)
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
			if n.down {
				continue
			}
			live++
			if _, ok := n.member(g).store.payloads[id]; ok {
				held++
			}
		}
		if held > 0 && held < live {
			return false
		}
	}
	return true
}

func (s *Sim) handle(e *event) {
	switch t := e.timer.(type) {
	case publish:
		s.publish(t)
		return
	case checkDone:
		s.done = t.last || s.quiescent()
		return
	case up:
		s.up(e.to)
		return
	}
	n := s.nodes[e.to]
	if n.down || e.epoch != n.epoch {
		return
	}
	switch t := e.timer.(type) {
	case crash:
		n.down = true
		return
	case leave:
		s.leave(e.to, t.graceful)
		return
	case join:
		m := n.member(e.group)
		s.overlayOut(e.to, e.group, m.overlay.Start())
		if t.contact >= 0 {
			s.overlayOut(e.to, e.group, m.overlay.Step(hyparview.JoinVia{Contact: s.nodes[t.contact].id}))
		}
		return
	case antiEntropy:
		s.antiEntropy(e.to, e.group)
		s.at(s.cfg.AntiEntropyEvery, &event{to: e.to, group: e.group, timer: antiEntropy{}})
		return
	case hyparview.Timer:
		s.overlayOut(e.to, e.group, n.member(e.group).overlay.Step(hyparview.TimerFired{Timer: t}))
		return
	case hyparview.Measured:
		s.overlayOut(e.to, e.group, n.member(e.group).overlay.Step(t))
		return
	case plumtree.Timer:
		s.broadcastOut(e.to, e.group, n.member(e.group).bcast.Step(plumtree.TimerFired{Timer: t}))
		return
	}
	m := n.member(e.group)
	from := s.nodes[e.from]
	switch msg := e.msg.(type) {
	case hyparview.Message:
		s.heard(e.to, e.group, e.from)
		s.overlayOut(e.to, e.group, m.overlay.Step(hyparview.Receive{From: from.id, Msg: msg}))
	case plumtree.Message:
		s.heard(e.to, e.group, e.from)
		s.broadcastOut(e.to, e.group, m.bcast.Step(plumtree.Receive{From: plumtree.PeerID(from.id), Msg: msg}))
	case transfer:
		src := &from.member(e.group).store
		for _, id := range msg.ids {
			if p, ok := src.payloads[id]; ok && m.store.put(id, s.m.published[id], p) {
				s.m.delivered(id, s.now, n.since, -1)
			}
		}
	}
}

// overlayOut carries out node i's overlay outputs in group g; neighbour
// changes feed the broadcast layer at once, as iroh-gossip does.
func (s *Sim) overlayOut(i, g int, outs []hyparview.Output) {
	m := s.nodes[i].member(g)
	for _, o := range outs {
		switch o := o.(type) {
		case hyparview.Send:
			to := s.index[o.To]
			if !s.reachable(i, g, to) {
				// The transport notices a dead peer when it tries to reach it.
				s.overlayOut(i, g, m.overlay.Step(hyparview.PeerDown{Peer: o.To}))
				continue
			}
			s.send(i, to, g, o.Msg, 0)
		case hyparview.SetTimer:
			s.at(o.After, &event{to: i, group: g, timer: o.Timer})
		case hyparview.Measure:
			// A ping: the answer comes back after a round trip, or not at
			// all if either leg is lost.
			to := s.index[o.Peer]
			if !s.reachable(i, g, to) {
				s.overlayOut(i, g, m.overlay.Step(hyparview.PeerDown{Peer: o.Peer}))
				continue
			}
			if s.rng.Float64() < s.cfg.Drop || s.rng.Float64() < s.cfg.Drop || s.severed(i, to) {
				continue
			}
			rtt := s.latency(i, to) + s.latency(to, i)
			s.at(rtt, &event{to: i, group: g, timer: hyparview.Measured{Peer: o.Peer, RTT: rtt}})
		case hyparview.NeighborUp:
			p := s.index[o.Peer]
			m.links = append(m.links, link{p, s.nodes[p].epoch})
			s.broadcastOut(i, g, m.bcast.Step(plumtree.NeighborUp{Peer: plumtree.PeerID(o.Peer)}))
		case hyparview.NeighborDown:
			p := s.index[o.Peer]
			m.links = slices.DeleteFunc(m.links, func(l link) bool { return l.peer == p })
			s.broadcastOut(i, g, m.bcast.Step(plumtree.NeighborDown{Peer: plumtree.PeerID(o.Peer)}))
		case hyparview.Isolated:
			// Discovery (bootstrap peers, the DHT) finds a live contact.
			if c, ok := s.liveOther(i, g); ok {
				s.overlayOut(i, g, m.overlay.Step(hyparview.JoinVia{Contact: s.nodes[c].id}))
			}
		}
	}
}

func (s *Sim) broadcastOut(i, g int, outs []plumtree.Output) {
	m := s.nodes[i].member(g)
	for _, o := range outs {
		switch o := o.(type) {
		case plumtree.Send:
			to := s.index[hyparview.PeerID(o.To)]
			if !s.reachable(i, g, to) {
				s.overlayOut(i, g, m.overlay.Step(hyparview.PeerDown{Peer: hyparview.PeerID(o.To)}))
				continue
			}
			size := 0
			if gossip, ok := o.Msg.(plumtree.Gossip); ok {
				size = len(gossip.Payload)
			}
			s.send(i, to, g, o.Msg, size)
		case plumtree.SetTimer:
			s.at(o.After, &event{to: i, group: g, timer: o.Timer})
		case plumtree.Deliver:
			if m.store.put(o.ID, s.m.published[o.ID], o.Payload) {
				s.m.delivered(o.ID, s.now, s.nodes[i].since, o.Round+1)
			}
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
		if !s.nodes[i].down {
			live = append(live, i)
		}
	}
	if len(live) == 0 {
		return // every member is away: nobody writes the post
	}
	from := live[s.rng.IntN(len(live))]
	s.m.published[p.id] = s.now
	s.m.order = append(s.m.order, p.id)
	s.m.groups = append(s.m.groups, p.group)
	m := s.nodes[from].member(p.group)
	m.store.put(p.id, s.now, payload)
	s.m.delivered(p.id, s.now, s.nodes[from].since, 0)
	s.broadcastOut(from, p.group, m.bcast.Step(plumtree.Broadcast{ID: p.id, Payload: payload}))
}

// transfer carries the entries a sync session moves; it arrives after the
// session's round trips.
type transfer struct{ ids []plumtree.MessageID }

// antiEntropy reconciles node i's entries of group g with a random
// neighbour's — active, or one time in four passive, which reaches across
// islands the active views may form after failures — using the real
// Negentropy sessions over both stores. The session runs at once; what it
// moves arrives after its round trips, each leg subject to loss.
func (s *Sim) antiEntropy(i, g int) {
	mi := s.nodes[i].member(g)
	j := -1
	for j < 0 { // a dead peer is noticed here, and the next one tried
		view := mi.overlay.Active()
		if passive := mi.overlay.Passive(); len(passive) > 0 && (len(view) == 0 || s.rng.IntN(4) == 0) {
			view = passive
		}
		if len(view) == 0 {
			return
		}
		j = s.index[view[s.rng.IntN(len(view))]]
		if !s.reachable(i, g, j) {
			s.overlayOut(i, g, mi.overlay.Step(hyparview.PeerDown{Peer: s.nodes[j].id}))
			j = -1
		}
	}
	client, _ := negentropy.New(&mi.store.items, 0)
	server, _ := negentropy.New(&s.nodes[j].member(g).store.items, 0)
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
		return // the session broke off; the next round tries again
	}
	rtt := time.Duration(legs) * s.latency(i, j)
	if len(need) > 0 {
		s.m.moved(i, len(need))
		s.at(rtt, &event{to: i, from: j, group: g, msg: transfer{ids: messageIDs(need)}})
	}
	if len(have) > 0 {
		s.m.moved(i, len(have))
		s.at(rtt, &event{to: j, from: i, group: g, msg: transfer{ids: messageIDs(have)}})
	}
}

func messageIDs(ids []negentropy.ID) []plumtree.MessageID {
	out := make([]plumtree.MessageID, len(ids))
	for i, id := range ids {
		out[i] = plumtree.MessageID(id)
	}
	return out
}

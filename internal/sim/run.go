package sim

import (
	"container/heap"
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/negentropy"
	"hearsay/internal/proto/plumtree"
)

// joinEvery spaces the joins; settle lets the overlay shuffle before posts.
const (
	joinEvery = time.Millisecond
	settle    = 10 * time.Second
)

// Run builds the overlay, publishes the posts from random live members,
// crashes nodes mid-run if asked, lets anti-entropy run, and returns the
// figures.
func (s *Sim) Run() Result {
	for i := range s.nodes {
		contact := -1
		if i > 0 {
			contact = s.rng.IntN(i)
		}
		s.at(time.Duration(i)*joinEvery, &event{to: i, timer: join{contact}})
	}
	start := time.Duration(len(s.nodes))*joinEvery + settle
	for p := range s.cfg.Posts {
		var id plumtree.MessageID
		for b := range id {
			id[b] = byte(s.rng.Uint32())
		}
		s.at(start+time.Duration(p)*s.cfg.PostEvery, &event{to: -1, timer: publish{id}})
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
	if crashes := int(s.cfg.Crash * float64(len(s.nodes))); crashes > 0 {
		for _, i := range s.rng.Perm(len(s.nodes))[:crashes] {
			s.at(start+(postsEnd-start)/2, &event{to: i, timer: crash{}})
		}
	}
	for i := range s.nodes {
		jitter := time.Duration(s.rng.Int64N(int64(s.cfg.AntiEntropyEvery)))
		s.at(start+jitter, &event{to: i, timer: antiEntropy{}})
	}
	// Quiescence: every live node holds every post a live node holds. It
	// is checked each anti-entropy period after the last post (and the
	// partition's end), up to a cap.
	drainFrom := max(postsEnd, s.cutTo)
	for k := 1; k <= maxDrain; k++ {
		s.at(drainFrom-s.now+time.Duration(k)*s.cfg.AntiEntropyEvery, &event{to: -1, timer: checkDone{last: k == maxDrain}})
	}
	for s.queue.Len() > 0 && !s.done {
		e := heap.Pop(&s.queue).(*event)
		s.now = e.at
		s.handle(e)
	}
	return s.m.result(s)
}

// maxDrain caps the anti-entropy periods a run waits after its last post.
const maxDrain = 60

type checkDone struct{ last bool }

// quiescent reports whether every live node holds every post some live
// node holds.
func (s *Sim) quiescent() bool {
	for _, id := range s.m.order {
		held, live := 0, 0
		for _, n := range s.nodes {
			if n.down {
				continue
			}
			live++
			if _, ok := n.store.payloads[id]; ok {
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
	if e.to >= 0 && s.nodes[e.to].down {
		return
	}
	switch t := e.timer.(type) {
	case join:
		n := s.nodes[e.to]
		s.overlayOut(e.to, n.overlay.Start())
		if t.contact >= 0 {
			s.overlayOut(e.to, n.overlay.Step(hyparview.JoinVia{Contact: s.nodes[t.contact].id}))
		}
		return
	case publish:
		s.publish(t.id)
		return
	case checkDone:
		s.done = t.last || s.quiescent()
		return
	case crash:
		s.nodes[e.to].down = true
		return
	case antiEntropy:
		s.antiEntropy(e.to)
		s.at(s.cfg.AntiEntropyEvery, &event{to: e.to, timer: antiEntropy{}})
		return
	case hyparview.Timer:
		s.overlayOut(e.to, s.nodes[e.to].overlay.Step(hyparview.TimerFired{Timer: t}))
		return
	case plumtree.Timer:
		s.broadcastOut(e.to, s.nodes[e.to].bcast.Step(plumtree.TimerFired{Timer: t}))
		return
	}
	from := s.nodes[e.from].id
	switch m := e.msg.(type) {
	case hyparview.Message:
		s.overlayOut(e.to, s.nodes[e.to].overlay.Step(hyparview.Receive{From: from, Msg: m}))
	case plumtree.Message:
		s.broadcastOut(e.to, s.nodes[e.to].bcast.Step(plumtree.Receive{From: plumtree.PeerID(from), Msg: m}))
	case transfer:
		for _, id := range m.ids {
			if p, ok := s.nodes[e.from].store.payloads[id]; ok && s.nodes[e.to].store.put(id, s.now, p) {
				s.m.delivered(e.to, id, s.now, -1)
			}
		}
	}
}

// overlayOut carries out the overlay's outputs; neighbour changes feed the
// broadcast layer at once, as iroh-gossip does.
func (s *Sim) overlayOut(i int, outs []hyparview.Output) {
	for _, o := range outs {
		switch o := o.(type) {
		case hyparview.Send:
			to := s.index[o.To]
			if s.nodes[to].down {
				// The transport notices a dead peer when it tries to reach it.
				s.overlayOut(i, s.nodes[i].overlay.Step(hyparview.PeerDown{Peer: o.To}))
				continue
			}
			s.send(i, to, o.Msg, 0)
		case hyparview.SetTimer:
			s.at(o.After, &event{to: i, timer: o.Timer})
		case hyparview.NeighborUp:
			s.broadcastOut(i, s.nodes[i].bcast.Step(plumtree.NeighborUp{Peer: plumtree.PeerID(o.Peer)}))
		case hyparview.NeighborDown:
			s.broadcastOut(i, s.nodes[i].bcast.Step(plumtree.NeighborDown{Peer: plumtree.PeerID(o.Peer)}))
		case hyparview.Isolated:
			// Discovery (bootstrap peers, the DHT) finds a live contact.
			if c, ok := s.liveOther(i); ok {
				s.overlayOut(i, s.nodes[i].overlay.Step(hyparview.JoinVia{Contact: s.nodes[c].id}))
			}
		}
	}
}

func (s *Sim) broadcastOut(i int, outs []plumtree.Output) {
	for _, o := range outs {
		switch o := o.(type) {
		case plumtree.Send:
			to := s.index[hyparview.PeerID(o.To)]
			if s.nodes[to].down {
				s.overlayOut(i, s.nodes[i].overlay.Step(hyparview.PeerDown{Peer: hyparview.PeerID(o.To)}))
				continue
			}
			size := 0
			if g, ok := o.Msg.(plumtree.Gossip); ok {
				size = len(g.Payload)
			}
			s.send(i, to, o.Msg, size)
		case plumtree.SetTimer:
			s.at(o.After, &event{to: i, timer: o.Timer})
		case plumtree.Deliver:
			if s.nodes[i].store.put(o.ID, s.now, o.Payload) {
				s.m.delivered(i, o.ID, s.now, o.Round+1)
			}
		}
	}
}

// liveOther draws a live node other than i.
func (s *Sim) liveOther(i int) (int, bool) {
	for range 64 {
		if c := s.rng.IntN(len(s.nodes)); c != i && !s.nodes[c].down {
			return c, true
		}
	}
	return 0, false
}

// payload is what a simulated entry weighs: a typical post.
var payload = make([]byte, 300)

func (s *Sim) publish(id plumtree.MessageID) {
	var live []int
	for i, n := range s.nodes {
		if !n.down {
			live = append(live, i)
		}
	}
	from := live[s.rng.IntN(len(live))]
	s.m.published[id] = s.now
	s.m.order = append(s.m.order, id)
	s.nodes[from].store.put(id, s.now, payload)
	s.m.delivered(from, id, s.now, 0)
	s.broadcastOut(from, s.nodes[from].bcast.Step(plumtree.Broadcast{ID: id, Payload: payload}))
}

// transfer carries the entries a sync session moves; it arrives after the
// session's round trips.
type transfer struct{ ids []plumtree.MessageID }

// antiEntropy reconciles node i with a random neighbour — active, or one
// time in four passive, which reaches across islands the active views may
// form after failures — using the real Negentropy sessions over both
// stores. The session runs at once; what it moves arrives after its round
// trips, each leg subject to loss.
func (s *Sim) antiEntropy(i int) {
	j := -1
	for j < 0 { // a dead peer is noticed here, and the next one tried
		view := s.nodes[i].overlay.Active()
		if passive := s.nodes[i].overlay.Passive(); len(passive) > 0 && (len(view) == 0 || s.rng.IntN(4) == 0) {
			view = passive
		}
		if len(view) == 0 {
			return
		}
		j = s.index[view[s.rng.IntN(len(view))]]
		if s.nodes[j].down {
			s.overlayOut(i, s.nodes[i].overlay.Step(hyparview.PeerDown{Peer: s.nodes[j].id}))
			j = -1
		}
	}
	client, _ := negentropy.New(&s.nodes[i].store.items, 0)
	server, _ := negentropy.New(&s.nodes[j].store.items, 0)
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
		s.at(rtt, &event{to: i, from: j, msg: transfer{ids: messageIDs(need)}})
	}
	if len(have) > 0 {
		s.m.moved(i, len(have))
		s.at(rtt, &event{to: j, from: i, msg: transfer{ids: messageIDs(have)}})
	}
}

func messageIDs(ids []negentropy.ID) []plumtree.MessageID {
	out := make([]plumtree.MessageID, len(ids))
	for i, id := range ids {
		out[i] = plumtree.MessageID(id)
	}
	return out
}

package gossip

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
	"hearsay/internal/proto/topic"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// cluster starts a gossip layer per host, each joining the group through a
// random earlier one, as nodes that bootstrap from members do, and waits
// until the overlays are stable and connected.
func cluster(t testing.TB, nw *testNet, gid entry.ID) ([]*Gossip, []*memNode) {
	t.Helper()
	var gs []*Gossip
	var ms []*memNode
	for _, h := range nw.hosts {
		m := newMemNode(gid)
		g := New(h, m, DefaultConfig())
		t.Cleanup(g.Close)
		gs, ms = append(gs, g), append(ms, m)
	}
	for i, g := range gs[1:] {
		g.Join(gid, nw.earlier(t, i+1))
	}
	if !waitFor(10*time.Second, func() bool {
		for _, g := range gs {
			if len(g.Neighbours(gid)) == 0 {
				return false
			}
		}
		return true
	}) {
		t.Fatal("overlays did not form")
	}
	// NB: the joins can leave a few nodes with only each other, an island
	// that is quiet until a repair tick (5 s) or two: a broadcast during
	// it reaches the island by anti-entropy only, which this layer leaves
	// to the node.
	for deadline := time.Now().Add(30 * time.Second); ; {
		settle(gs, gid)
		reached := reachable(gs, gid)
		if reached == len(gs) {
			return gs, ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("overlay not connected: node 0 reaches %d of %d", reached, len(gs))
		}
		t.Logf("overlay quiet but not connected yet: node 0 reaches %d of %d", reached, len(gs))
	}
}

// reachable counts the nodes node 0 reaches over links both ends hold: a
// one-sided link carries the broadcast one way only.
func reachable(gs []*Gossip, gid entry.ID) int {
	views := map[peer.ID][]peer.ID{}
	for _, g := range gs {
		views[g.h.ID()] = g.Neighbours(gid)
	}
	seen := map[peer.ID]bool{gs[0].h.ID(): true}
	for next := []peer.ID{gs[0].h.ID()}; len(next) > 0; {
		p := next[len(next)-1]
		next = next[:len(next)-1]
		for _, q := range views[p] {
			if !seen[q] && slices.Contains(views[q], p) {
				seen[q] = true
				next = append(next, q)
			}
		}
	}
	return len(seen)
}

func TestBroadcastReachesEveryNode(t *testing.T) {
	nw := newNetwork(t, 20, 3, time.Millisecond, 5*time.Millisecond, 1)
	a := newAuthor(1)
	gs, ms := cluster(t, nw, a.gid)
	var ids []entry.ID
	for k := range 20 {
		e := a.post(200)
		i := k * 7 % len(gs)
		ms[i].keep(e)
		gs[i].Broadcast(a.gid, e.ID, e.Raw)
		ids = append(ids, e.ID)
	}
	if !waitFor(10*time.Second, func() bool {
		for _, m := range ms {
			for _, id := range ids {
				if _, ok := m.has(id); !ok {
					return false
				}
			}
		}
		return true
	}) {
		for i, m := range ms {
			t.Logf("node %d: %d entries, neighbours %d, stats %+v", i, m.count(), len(gs[i].Neighbours(a.gid)), gs[i].Stats())
		}
		t.Fatal("not every node got every entry")
	}
	// The node stores a pushed entry before the broadcast core counts its
	// delivery, under the gossip lock: the count may lag the stores a
	// moment, on a loaded machine more.
	var sent, recv, delivered int64
	counted := func() bool {
		sent, recv, delivered = 0, 0, 0
		for _, g := range gs {
			st := g.Stats()
			sent += st.PayloadSent
			recv += st.PayloadReceived
			delivered += st.Delivered
		}
		return delivered >= int64(len(ids)*(len(gs)-1))
	}
	waitFor(10*time.Second, counted)
	for i := range gs {
		if v := ms[i].violations(); v != 0 {
			t.Fatalf("node %d saw %d violations among honest peers", i, v)
		}
	}
	if delivered != int64(len(ids)*(len(gs)-1)) {
		t.Fatalf("%d deliveries, want %d", delivered, len(ids)*(len(gs)-1))
	}
	t.Logf("payload messages sent %d, received %d, for %d deliveries", sent, recv, delivered)
}

// A peer that sends a malformed frame, or pushes an entry under another id
// or group, is reported, and nothing it sent is delivered.
func TestMisbehavingPeerIsReported(t *testing.T) {
	nw := newNetwork(t, 2, 1, 0, 0, 2)
	a := newAuthor(2)
	m := newMemNode(a.gid)
	g := New(nw.hosts[1], m, DefaultConfig())
	t.Cleanup(g.Close)
	e := a.post(10)
	other := newAuthor(3).post(10)
	for name, frame := range map[string][]byte{
		"garbage": {0x7f, 1, 2},
		"wrong id": mustEncode(t, wire.Gossip{Group: a.gid,
			Broadcast: plumtree.Gossip{ID: plumtree.MessageID{1}, Payload: e.Raw}}),
		"wrong group": mustEncode(t, wire.Gossip{Group: a.gid,
			Broadcast: plumtree.Gossip{ID: plumtree.MessageID(other.ID), Payload: other.Raw}}),
		"not an entry": mustEncode(t, wire.Gossip{Group: a.gid,
			Broadcast: plumtree.Gossip{ID: plumtree.MessageID{2}, Payload: []byte{1, 2, 3}}}),
	} {
		before := m.violations()
		s, err := nw.hosts[0].NewStream(context.Background(), nw.hosts[1].ID(), wire.GossipProtocol)
		if err != nil {
			t.Fatal(err)
		}
		if err := wire.WriteFrame(s, frame); err != nil {
			t.Fatal(err)
		}
		s.CloseWrite()
		if !waitFor(5*time.Second, func() bool { return m.violations() > before }) {
			t.Fatalf("%s: not reported", name)
		}
		s.Reset()
	}
	if n := m.count(); n != 0 {
		t.Fatalf("%d entries delivered from a misbehaving peer", n)
	}
}

// Gossip for a group the node does not replicate is turned away: a Join is
// answered with a Disconnect, and nothing is delivered.
func TestForeignGroupIsTurnedAway(t *testing.T) {
	nw := newNetwork(t, 2, 1, 0, 0, 3)
	a, b := newAuthor(4), newAuthor(5)
	ma, mb := newMemNode(a.gid), newMemNode(b.gid)
	ga, gb := New(nw.hosts[0], ma, DefaultConfig()), New(nw.hosts[1], mb, DefaultConfig())
	t.Cleanup(ga.Close)
	t.Cleanup(gb.Close)
	ga.Join(a.gid, nw.hosts[1].ID())
	if !waitFor(5*time.Second, func() bool { return len(ga.Neighbours(a.gid)) == 0 }) {
		t.Fatal("the joiner kept a contact that does not replicate the group")
	}
	e := a.post(10)
	s, err := nw.hosts[0].NewStream(context.Background(), nw.hosts[1].ID(), wire.GossipProtocol)
	if err != nil {
		t.Fatal(err)
	}
	wire.WriteFrame(s, mustEncode(t, wire.Gossip{Group: a.gid, Broadcast: plumtree.Gossip{ID: plumtree.MessageID(e.ID), Payload: e.Raw}}))
	s.CloseWrite()
	bufio.NewReader(s).ReadByte() // the server closes its side when the stream ends
	if mb.count() != 0 || mb.violations() != 0 || len(gb.Neighbours(a.gid)) != 0 {
		t.Fatalf("foreign gossip: %d delivered, %d violations", mb.count(), mb.violations())
	}
}

// settle waits until no overlay has changed its view for half a second:
// the broadcast tree grows along stable links.
func settle(gs []*Gossip, gid entry.ID) { settleFor(gs, gid, 500*time.Millisecond) }

// settleFor waits until no overlay changes for quiet.
func settleFor(gs []*Gossip, gid entry.ID, quiet time.Duration) {
	views := func() string {
		var b strings.Builder
		for _, g := range gs {
			fmt.Fprintln(&b, g.Neighbours(gid))
		}
		return b.String()
	}
	last := views()
	for stable := time.Duration(0); stable < quiet; {
		time.Sleep(100 * time.Millisecond)
		stable += 100 * time.Millisecond
		if now := views(); now != last {
			last, stable = now, 0
		}
	}
}

func mustEncode(t *testing.T, m wire.Gossip) []byte {
	b, err := wire.EncodeGossip(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A peer the policy bans and drops leaves every view, and what it sends
// afterwards is ignored: its Join does not bring it back.
func TestDroppedPeerStaysOut(t *testing.T) {
	nw := newNetwork(t, 2, 1, 0, 0, 4)
	a := newAuthor(6)
	ma := newMemNode(a.gid)
	ga, gb := New(nw.hosts[0], ma, DefaultConfig()), New(nw.hosts[1], newMemNode(a.gid), DefaultConfig())
	t.Cleanup(ga.Close)
	t.Cleanup(gb.Close)
	gb.Join(a.gid, nw.hosts[0].ID())
	if !waitFor(5*time.Second, func() bool { return len(ga.Neighbours(a.gid)) == 1 }) {
		t.Fatal("no overlay formed")
	}
	ma.ban(nw.hosts[1].ID())
	ga.Ban(nw.hosts[1].ID(), time.Now().Add(time.Hour))
	if n := ga.Neighbours(a.gid); len(n) != 0 {
		t.Fatalf("neighbours after the drop: %v", n)
	}
	gb.Leave(a.gid)
	gb.Join(a.gid, nw.hosts[0].ID())
	time.Sleep(200 * time.Millisecond)
	if n := ga.Neighbours(a.gid); len(n) != 0 {
		t.Fatalf("a dropped peer joined again: %v", n)
	}
	// A sync that brought entries does not meet it.
	views := func() ([]hyparview.PeerID, []hyparview.PeerID) {
		ga.mu.Lock()
		defer ga.mu.Unlock()
		c := ga.groups[a.gid].core
		return c.Active(), c.Passive()
	}
	ga.Synced(a.gid, nw.hosts[1].ID(), 5)
	if active, _ := views(); len(active) != 0 {
		t.Fatalf("a banned peer met after a sync: %v", active)
	}
	// A core that has not heard of the ban (lifted in the cores only, as
	// in a group made after it) forgets the peer as soon as it tries to
	// reach it: the handler still says banned.
	ga.Unban(nw.hosts[1].ID())
	ga.Synced(a.gid, nw.hosts[1].ID(), 5)
	if active, passive := views(); len(active) != 0 || slices.Contains(passive, hyparview.PeerID(nw.hosts[1].ID())) {
		t.Fatalf("a banned peer kept in the views: active %v, passive %v", active, passive)
	}
}

// TestNoPushesBelowTheGossipThreshold: a neighbour the node says not to
// push to (its score is below the gossip threshold) is sent neither the
// entry nor an IHave, and stays a neighbour, which the core then demotes
// (not to be chosen from a passive view); once it may be pushed to again,
// the next entry reaches it.
func TestNoPushesBelowTheGossipThreshold(t *testing.T) {
	nw := newNetwork(t, 2, 1, 0, 0, 7)
	a := newAuthor(7)
	ma, mb := newMemNode(a.gid), newMemNode(a.gid)
	ga, gb := New(nw.hosts[0], ma, DefaultConfig()), New(nw.hosts[1], mb, DefaultConfig())
	t.Cleanup(ga.Close)
	t.Cleanup(gb.Close)
	gb.Join(a.gid, nw.hosts[0].ID())
	if !waitFor(5*time.Second, func() bool { return len(ga.Neighbours(a.gid)) == 1 }) {
		t.Fatal("no overlay formed")
	}
	ma.mu.Lock()
	ma.quiet = map[peer.ID]bool{nw.hosts[1].ID(): true}
	ma.mu.Unlock()
	quiet := a.post(100)
	ma.keep(quiet)
	ga.Broadcast(a.gid, quiet.ID, quiet.Raw)
	time.Sleep(time.Second) // longer than the IHave batching
	if _, ok := mb.has(quiet.ID); ok || ga.Stats().PayloadSent != 0 {
		t.Fatalf("pushed to a peer below the gossip threshold: %+v", ga.Stats())
	}
	if len(ga.Neighbours(a.gid)) != 1 {
		t.Fatal("the peer left the overlay")
	}
	ga.mu.Lock()
	demoted := ga.groups[a.gid].core.Demoted(topic.PeerID(nw.hosts[1].ID()), time.Now())
	ga.mu.Unlock()
	if !demoted {
		t.Fatal("the core was not told: it may choose the peer from its passive view")
	}
	ma.mu.Lock()
	ma.quiet = nil
	ma.mu.Unlock()
	e := a.post(100)
	ma.keep(e)
	ga.Broadcast(a.gid, e.ID, e.Raw)
	if !waitFor(5*time.Second, func() bool { _, ok := mb.has(e.ID); return ok }) {
		t.Fatal("not pushed once allowed again")
	}
}

// TestFloodIsRateLimited: a peer that sends beyond its rate has the excess
// dropped and is reported once per ChargeEvery as a flood, its stream
// left open; within the rate, a second peer's messages are all taken,
// until the group's own rate is spent.
func TestFloodIsRateLimited(t *testing.T) {
	nw := newNetwork(t, 3, 2, 0, 0, 8)
	a := newAuthor(8)
	m := newMemNode(a.gid)
	cfg := DefaultConfig()
	cfg.Rates = Rates{PeerRate: 1, PeerBurst: 10, GroupRate: 1, GroupBurst: 15, ChargeEvery: time.Hour}
	g := New(nw.hosts[0], m, cfg)
	t.Cleanup(g.Close)
	prune := mustEncode(t, wire.Gossip{Group: a.gid, Broadcast: plumtree.Prune{}})
	send := func(from int, n int) network.Stream {
		s, err := nw.hosts[from].NewStream(context.Background(), nw.hosts[0].ID(), wire.GossipProtocol)
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			if err := wire.WriteFrame(s, prune); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	s := send(1, 50)
	if !waitFor(5*time.Second, func() bool { return g.Stats().RateLimited >= 39 }) {
		t.Fatalf("beyond a burst of 10, %d of 50 dropped", g.Stats().RateLimited)
	}
	if v := m.floods(); v != 1 {
		t.Fatalf("%d floods reported, want 1 (once per ChargeEvery)", v)
	}
	if err := wire.WriteFrame(s, prune); err != nil {
		t.Fatalf("the flooder's stream was closed: %v", err)
	}
	// The group's bucket (15) had 10 taken by the flooder: 5 more pass.
	before := g.Stats().RateLimited
	send(2, 10)
	if !waitFor(5*time.Second, func() bool { return g.Stats().RateLimited-before >= 5 }) {
		t.Fatalf("the group's rate: %d of 10 dropped", g.Stats().RateLimited-before)
	}
	if v := m.floods(); v != 2 {
		t.Fatalf("%d floods reported, want 2", v)
	}
}

// TestNeighboursAreMeasured: the overlay's Measure is answered with a
// libp2p ping's round trip, which the mocknet links bound from below.
func TestNeighboursAreMeasured(t *testing.T) {
	const minLat = 2 * time.Millisecond
	nw := newNetwork(t, 8, 2, minLat, 10*time.Millisecond, 3)
	a := newAuthor(3)
	gs, _ := cluster(t, nw, a.gid)
	measured := func(g *Gossip) bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		o := g.groups[a.gid].core
		for _, p := range o.Active() {
			if rtt, ok := o.RTT(p); !ok || rtt < 2*minLat {
				return false
			}
		}
		return true
	}
	if !waitFor(10*time.Second, func() bool { return !slices.ContainsFunc(gs, func(g *Gossip) bool { return !measured(g) }) }) {
		t.Fatal("neighbours not measured within 10 s")
	}
	for _, g := range gs {
		if rtt := g.NeighbourRTT(a.gid); rtt < 2*minLat {
			t.Fatalf("mean round trip %v, want at least %v", rtt, 2*minLat)
		}
	}
}

// TestMeasurementsAreShared: a peer in two groups' views is pinged once;
// the second group is answered from the first's sample.
func TestMeasurementsAreShared(t *testing.T) {
	nw := newNetwork(t, 2, 1, 2*time.Millisecond, 2*time.Millisecond, 4)
	g1, g2 := newAuthor(5).gid, newAuthor(6).gid
	ms := []*memNode{newMemNode(g1), newMemNode(g1)}
	var gs []*Gossip
	for i, h := range nw.hosts {
		ms[i].also = g2
		g := New(h, ms[i], DefaultConfig())
		t.Cleanup(g.Close)
		gs = append(gs, g)
	}
	peer := nw.hosts[0].ID()
	gs[1].Join(g1, peer)
	rtt := func(gid entry.ID) (time.Duration, bool) {
		gs[1].mu.Lock()
		defer gs[1].mu.Unlock()
		st, ok := gs[1].groups[gid]
		if !ok {
			return 0, false
		}
		return st.core.RTT(hyparview.PeerID(peer))
	}
	if !waitFor(10*time.Second, func() bool { _, ok := rtt(g1); return ok }) {
		t.Fatal("not measured in the first group")
	}
	gs[1].Join(g2, peer)
	if !waitFor(10*time.Second, func() bool { _, ok := rtt(g2); return ok }) {
		t.Fatal("not measured in the second group")
	}
	a, _ := rtt(g1)
	b, _ := rtt(g2)
	if a != b {
		t.Fatalf("two pings: %v in one group, %v in the other", a, b)
	}
}

// TestRefusedPushesAreNotForwarded: b, whose neighbour is c, is pushed by
// a three entries: one valid, one whose signature does not verify, one b's
// admission refuses. Only the valid one reaches c; the other two are
// charged to a, the peer that sent them.
func TestRefusedPushesAreNotForwarded(t *testing.T) {
	nw := newNetwork(t, 3, 2, 0, 0, 7)
	au := newAuthor(7)
	mb, mc := newMemNode(au.gid), newMemNode(au.gid)
	gb, gc := New(nw.hosts[1], mb, DefaultConfig()), New(nw.hosts[2], mc, DefaultConfig())
	t.Cleanup(gb.Close)
	t.Cleanup(gc.Close)
	gc.Join(au.gid, nw.hosts[1].ID())
	if !waitFor(5*time.Second, func() bool { return len(gb.Neighbours(au.gid)) == 1 && len(gc.Neighbours(au.gid)) == 1 }) {
		t.Fatal("no overlay formed")
	}
	valid, forged, inadmissible := au.post(10), au.post(10), au.post(10)
	forged.Raw = slices.Clone(forged.Raw)
	forged.Raw[len(forged.Raw)-1] ^= 1 // the signature's last byte
	mb.mu.Lock()
	mb.refuse = map[entry.ID]bool{inadmissible.ID: true}
	mb.mu.Unlock()
	s, err := nw.hosts[0].NewStream(context.Background(), nw.hosts[1].ID(), wire.GossipProtocol)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*entry.Signed{forged, inadmissible, valid} {
		wire.WriteFrame(s, mustEncode(t, wire.Gossip{Group: au.gid, Broadcast: plumtree.Gossip{ID: plumtree.MessageID(e.ID), Payload: e.Raw}}))
	}
	if !waitFor(5*time.Second, func() bool { _, ok := mc.has(valid.ID); return ok }) {
		t.Fatal("the valid entry was not forwarded")
	}
	// The refused ones came first, and b forwards in arrival order.
	for _, e := range []*entry.Signed{forged, inadmissible} {
		if _, ok := mc.has(e.ID); ok {
			t.Fatal("a refused entry was forwarded")
		}
	}
	mb.mu.Lock()
	charged := mb.refusedFrom[nw.hosts[0].ID()]
	mb.mu.Unlock()
	if charged != 2 || gb.Stats().Refused != 2 {
		t.Fatalf("%d refusals charged to the sender, %d counted, want 2", charged, gb.Stats().Refused)
	}
	s.Reset()
}

// TestIsolatedIsNotALoop: an overlay whose only way out is a peer that is
// gone asks the node for contacts at most once a second. Meeting the one
// contact found fails at once and isolates the overlay again; asked each
// time, that was a loop on the gossip lock.
func TestIsolatedIsNotALoop(t *testing.T) {
	nw := newNetwork(t, 2, 0, time.Millisecond, time.Millisecond, 7)
	gid := entry.ID{7}
	gone := nw.hosts[1].ID()
	nw.hosts[1].Close()
	m := newMemNode(gid)
	g := New(nw.hosts[0], m, DefaultConfig())
	t.Cleanup(g.Close)
	m.contacts = []peer.ID{gone}
	g.Join(gid, gone)
	time.Sleep(2500 * time.Millisecond)
	m.mu.Lock()
	n := m.asked
	m.mu.Unlock()
	if n < 1 || n > 4 {
		t.Fatalf("asked for a way out %d times in 2.5 s, want 1 to 4", n)
	}
}

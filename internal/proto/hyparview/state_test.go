package hyparview

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func newState(self PeerID, seed uint64) *State {
	return New(DefaultConfig(), self, rand.New(rand.NewPCG(seed, seed)))
}

func sends(out []Output) []string {
	var s []string
	for _, o := range out {
		switch o := o.(type) {
		case Send:
			s = append(s, fmt.Sprintf("->%s %T%v", o.To, o.Msg, o.Msg))
		case NeighborUp:
			s = append(s, "up "+string(o.Peer))
		case NeighborDown:
			s = append(s, "down "+string(o.Peer))
		}
	}
	return s
}

func TestJoinAnnouncesTheNewcomer(t *testing.T) {
	c := newState("c", 1)
	c.Step(Receive{From: "x", Msg: Join{}})
	c.Step(Receive{From: "y", Msg: Join{}})
	out := sends(c.Step(Receive{From: "n", Msg: Join{}}))
	want := []string{"up n", "->x hyparview.ForwardJoin{n 6}", "->y hyparview.ForwardJoin{n 6}"}
	if !slices.Equal(out, want) {
		t.Fatalf("got %q\nwant %q", out, want)
	}
	if !slices.Equal(c.Active(), []PeerID{"x", "y", "n"}) {
		t.Fatalf("active %v", c.Active())
	}
}

func TestForwardJoinWalk(t *testing.T) {
	p := newState("p", 1)
	p.Step(Receive{From: "a", Msg: Join{}})
	p.Step(Receive{From: "b", Msg: Join{}})
	// Mid-walk at PRWL: the newcomer enters the passive view and walks on.
	out := sends(p.Step(Receive{From: "a", Msg: ForwardJoin{Peer: "n", TTL: 3}}))
	if len(out) != 1 || out[0] != "->b hyparview.ForwardJoin{n 2}" || !slices.Contains(p.Passive(), "n") {
		t.Fatalf("mid-walk: %q, passive %v", out, p.Passive())
	}
	// At the end of the walk it enters the active view and is told so.
	out = sends(p.Step(Receive{From: "a", Msg: ForwardJoin{Peer: "m", TTL: 0}}))
	if !slices.Equal(out, []string{"up m", "->m hyparview.Neighbor{true}"}) {
		t.Fatalf("end of walk: %q", out)
	}
}

func TestFullActiveViewDropsToPassive(t *testing.T) {
	s := newState("s", 2)
	for i := range 5 {
		s.Step(Receive{From: PeerID(fmt.Sprint(i)), Msg: Neighbor{}})
	}
	if out := sends(s.Step(Receive{From: "low", Msg: Neighbor{High: false}})); !slices.Equal(out, []string{"->low hyparview.NeighborReply{false}"}) {
		t.Fatalf("a low-priority request to a full view: %q", out)
	}
	out := sends(s.Step(Receive{From: "high", Msg: Neighbor{High: true}}))
	if len(s.Active()) != 5 || !slices.Contains(s.Active(), "high") || len(s.Passive()) != 1 {
		t.Fatalf("after a high-priority request: active %v passive %v (%q)", s.Active(), s.Passive(), out)
	}
	if !slices.Contains(out, "->"+string(s.Passive()[0])+" hyparview.Disconnect{}") {
		t.Fatalf("the dropped neighbour was not told: %q", out)
	}
}

func TestFailureIsRepairedFromPassive(t *testing.T) {
	s := newState("s", 3)
	s.Step(Receive{From: "a", Msg: Neighbor{}})
	s.Step(Receive{From: "b", Msg: Disconnect{}}) // not a neighbour: ignored
	s.integrate([]PeerID{"p1", "p2"}, nil)
	out := sends(s.Step(PeerDown{Peer: "a"}))
	if len(out) != 2 || out[0] != "down a" || !slices.Contains([]string{"->p1 hyparview.Neighbor{true}", "->p2 hyparview.Neighbor{true}"}, out[1]) {
		t.Fatalf("after the only neighbour failed: %q", out)
	}
	asked := PeerID(out[1][2:4])
	s.Step(Receive{From: asked, Msg: NeighborReply{Accept: true}})
	if !slices.Equal(s.Active(), []PeerID{asked}) || slices.Contains(s.Passive(), asked) {
		t.Fatalf("active %v passive %v", s.Active(), s.Passive())
	}
	if out := s.Step(Drop{Peer: asked}); !slices.Contains(sends(out), "down "+string(asked)) || slices.Contains(s.Passive(), asked) {
		t.Fatalf("a dropped peer stays: %q", sends(out))
	}
}

func TestIsolationIsReported(t *testing.T) {
	s := newState("s", 4)
	s.Step(Receive{From: "a", Msg: Neighbor{}})
	out := s.Step(PeerDown{Peer: "a"})
	if len(out) != 2 || out[1] != (Isolated{}) {
		t.Fatalf("losing the last neighbour with no passive peer: %v", out)
	}
	if out := s.Step(JoinVia{Contact: "b"}); len(s.Active()) != 1 || len(out) != 2 {
		t.Fatalf("rejoining: %v", out)
	}
}

// network is a tiny deterministic driver: FIFO delivery, no loss. The
// simulator proper comes with the broadcast layer.
type network struct {
	nodes map[PeerID]*State
	queue []envelope
	down  map[PeerID]bool
	// contact, if set, names the contact a node reporting Isolated joins
	// through, as discovery would.
	contact func() PeerID
}

type envelope struct {
	from, to PeerID
	msg      Message
}

func (n *network) feed(id PeerID, out []Output) {
	for _, o := range out {
		switch o := o.(type) {
		case Send:
			n.queue = append(n.queue, envelope{id, o.To, o.Msg})
		case Isolated:
			if n.contact != nil {
				n.feed(id, n.nodes[id].Step(JoinVia{Contact: n.contact()}))
			}
		}
	}
}

func (n *network) run(t *testing.T, limit int) {
	var last []string
	for steps := 0; len(n.queue) > 0; steps++ {
		if steps > limit {
			t.Fatalf("the overlay did not quiesce; last deliveries:\n%s", strings.Join(last, "\n"))
		}
		e := n.queue[0]
		if steps > limit-12 {
			last = append(last, fmt.Sprintf("%s->%s %T%v  (to's active %v)", e.from, e.to, e.msg, e.msg, n.nodes[e.to].active))
		}
		n.queue = n.queue[1:]
		if n.down[e.to] {
			n.feed(e.from, n.nodes[e.from].Step(PeerDown{Peer: e.to}))
			n.check(t, e.from)
			continue
		}
		n.feed(e.to, n.nodes[e.to].Step(Receive{From: e.from, Msg: e.msg}))
		n.check(t, e.to)
	}
}

// check asserts a node's invariants; run after each of its steps.
func (n *network) check(t *testing.T, id PeerID) {
	s := n.nodes[id]
	if len(s.active) > s.cfg.ActiveSize || len(s.passive) > s.cfg.PassiveSize {
		t.Fatalf("%s: views over their sizes: %d active, %d passive", id, len(s.active), len(s.passive))
	}
	for _, p := range s.active {
		if p == id || slices.Contains(s.passive, p) {
			t.Fatalf("%s: %s is self or in both views", id, p)
		}
	}
	if slices.Contains(s.passive, id) {
		t.Fatalf("%s is in its own passive view", id)
	}
}

// connected reports whether the live nodes' active views connect them all.
func (n *network) connected() bool {
	var start PeerID
	live := 0
	for id := range n.nodes {
		if !n.down[id] {
			live++
			if start == "" || id < start {
				start = id
			}
		}
	}
	seen := map[PeerID]bool{start: true}
	queue := []PeerID{start}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, q := range n.nodes[p].active {
			if !n.down[q] && !seen[q] {
				seen[q] = true
				queue = append(queue, q)
			}
		}
	}
	return len(seen) == live
}

func TestOverlayFormsAndRepairs(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 99))
		net := &network{nodes: map[PeerID]*State{}, down: map[PeerID]bool{}}
		var ids []PeerID
		for i := range 200 {
			id := PeerID(fmt.Sprintf("n%03d", i))
			net.nodes[id] = New(DefaultConfig(), id, rand.New(rand.NewPCG(seed, uint64(i))))
			if i > 0 {
				net.feed(id, net.nodes[id].Step(JoinVia{Contact: ids[rng.IntN(len(ids))]}))
				net.run(t, 1_000_000)
			}
			ids = append(ids, id)
		}
		for range 5 { // shuffle rounds mix the passive views
			for _, id := range ids {
				net.feed(id, net.nodes[id].Step(TimerFired{Timer: ShuffleTimer}))
			}
			net.run(t, 1_000_000)
		}
		if !net.connected() {
			t.Fatalf("seed %d: the overlay of 200 is not connected", seed)
		}
		for _, id := range ids {
			if n := len(net.nodes[id].active); n == 0 {
				t.Fatalf("seed %d: %s has no neighbour", seed, id)
			}
		}
		// 20% fail; their neighbours notice on their next message to them.
		for _, i := range rng.Perm(len(ids))[:40] {
			net.down[ids[i]] = true
		}
		for range 3 {
			for _, id := range ids {
				if !net.down[id] {
					net.feed(id, net.nodes[id].Step(TimerFired{Timer: ShuffleTimer}))
				}
			}
			net.run(t, 1_000_000)
		}
		if !net.connected() {
			t.Fatalf("seed %d: the overlay did not repair after 20%% failed", seed)
		}
	}
}

// tick feeds s n repair ticks and returns what they asked for.
func tick(s *State, n int) []Output {
	var out []Output
	for range n {
		out = append(out, s.Step(TimerFired{Timer: RepairTimer})...)
	}
	return out
}

func without[T Output](out []Output) []Output {
	return slices.DeleteFunc(slices.Clone(out), func(o Output) bool { _, ok := o.(T); return ok })
}

func TestLostJoinIsRepaired(t *testing.T) {
	s := newState("s", 5)
	s.Step(JoinVia{Contact: "c"}) // the Join is lost: c never hears of s
	out := tick(s, 1)
	want := []Output{Send{To: "c", Msg: Shuffle{Origin: "s", TTL: 6, Peers: []PeerID{"s", "c"}}},
		SetTimer{Timer: RepairTimer, After: 5 * time.Second}}
	if fmt.Sprint(out) != fmt.Sprint(want) {
		t.Fatalf("a node with one neighbour and no candidate asks for names:\n got %v\nwant %v", out, want)
	}
	// The walk came back with names: s asks one.
	out = s.Step(Receive{From: "x", Msg: ShuffleReply{Peers: []PeerID{"p"}}})
	if fmt.Sprint(out) != fmt.Sprint([]Output{Send{To: "p", Msg: Neighbor{}}}) {
		t.Fatalf("names came: %v", out)
	}
}

func TestIslandIsReported(t *testing.T) {
	// Two nodes that know only each other.
	net := &network{nodes: map[PeerID]*State{"a": newState("a", 6), "b": newState("b", 7)}, down: map[PeerID]bool{}}
	net.feed("b", net.nodes["b"].Step(JoinVia{Contact: "a"}))
	net.run(t, 100)
	out := tick(net.nodes["a"], 1)
	net.feed("a", out)
	if len(net.queue) != 1 {
		t.Fatalf("the tick: %v", out)
	}
	e := net.queue[0]
	net.queue = nil
	out = net.nodes[e.to].Step(Receive{From: e.from, Msg: e.msg})
	reply := out[0].(Send)
	if _, ok := reply.Msg.(ShuffleReply); !ok || reply.To != "a" {
		t.Fatalf("b's answer to the shuffle: %v", out)
	}
	if out := net.nodes["a"].Step(Receive{From: "b", Msg: reply.Msg}); fmt.Sprint(out) != fmt.Sprint([]Output{Isolated{}}) {
		t.Fatalf("the walk brought nobody: %v, want Isolated", out)
	}
}

func TestRepairBacksOff(t *testing.T) {
	s := newState("s", 8)
	var at []int
	for i := 1; i <= 60; i++ {
		if out := without[SetTimer](tick(s, 1)); len(out) > 0 {
			if fmt.Sprint(out) != fmt.Sprint([]Output{Isolated{}}) {
				t.Fatalf("tick %d: %v", i, out)
			}
			at = append(at, i)
		}
	}
	// Rounds after 1, 2, 4 and 8 ticks, then once a shuffle period (12).
	if want := []int{1, 3, 7, 15, 27, 39, 51}; !slices.Equal(at, want) {
		t.Fatalf("isolation reported at ticks %v, want %v", at, want)
	}
	// A node with more than half its view leaves the rest to the shuffle,
	// but fills an empty passive view by shuffling early, backing off
	// likewise.
	for _, p := range []PeerID{"a", "b", "c"} {
		s.Step(Receive{From: p, Msg: Neighbor{}})
	}
	at = nil
	for i := 1; i <= 24; i++ {
		for _, o := range without[SetTimer](tick(s, 1)) {
			if m, ok := o.(Send); !ok || fmt.Sprintf("%T", m.Msg) != "hyparview.Shuffle" {
				t.Fatalf("three neighbours of five, no candidate, tick %d: %v", i, o)
			}
			at = append(at, i)
		}
	}
	if want := []int{1, 3, 7, 15}; !slices.Equal(at, want) {
		t.Fatalf("shuffled at ticks %v, want %v", at, want)
	}
}

// TestSmallGroupStopsFillShuffles: a node whose passive view is under half
// full shuffles at repair ticks until a shuffle's reply names peers, none
// of which it does not know; then it waits for the periodic shuffle, and
// fills again once a reply names someone new. An empty reply changes
// nothing.
func TestSmallGroupStopsFillShuffles(t *testing.T) {
	s := newState("s", 3)
	for _, p := range []PeerID{"a", "b", "c", "d", "e"} {
		s.Step(Receive{From: p, Msg: Neighbor{}})
	}
	shuffles := func(ticks int) int {
		n := 0
		for _, o := range tick(s, ticks) {
			if m, ok := o.(Send); ok && fmt.Sprintf("%T", m.Msg) == "hyparview.Shuffle" {
				n++
			}
		}
		return n
	}
	if n := shuffles(1); n != 1 {
		t.Fatalf("an empty passive view: %d shuffles at the first tick", n)
	}
	s.Step(Receive{From: "a", Msg: ShuffleReply{Peers: []PeerID{"s"}}})
	if n := shuffles(8); n == 0 {
		t.Fatal("after a reply naming nobody at all: no shuffle in 8 repair ticks")
	}
	s.Step(Receive{From: "a", Msg: ShuffleReply{Peers: []PeerID{"b", "c", "s"}}})
	if n := shuffles(40); n != 0 {
		t.Fatalf("after a reply naming nobody new: %d shuffles in 40 repair ticks", n)
	}
	s.Step(Receive{From: "a", Msg: ShuffleReply{Peers: []PeerID{"p"}}})
	if n := shuffles(12); n == 0 {
		t.Fatal("after a reply naming a new peer: no shuffle in 12 repair ticks")
	}
}

func TestLostNeighborRequestIsGivenUp(t *testing.T) {
	s := newState("s", 9)
	s.Step(Receive{From: "a", Msg: Neighbor{}})
	s.integrate([]PeerID{"p", "q"}, nil)
	out := s.Step(PeerDown{Peer: "a"})
	asked := out[len(out)-1].(Send).To
	other := map[PeerID]PeerID{"p": "q", "q": "p"}[asked]
	if out := without[SetTimer](tick(s, 1)); len(out) > 0 {
		t.Fatalf("a request out for less than a tick is left alone: %v", out)
	}
	out = without[SetTimer](tick(s, 1))
	if fmt.Sprint(out) != fmt.Sprint([]Output{Send{To: other, Msg: Neighbor{High: true}}}) {
		t.Fatalf("a request unanswered for a tick is given up: %v, want a request to %s", out, other)
	}
	// The late acceptance of the first request still counts: the peer
	// took s in.
	if out := sends(s.Step(Receive{From: asked, Msg: NeighborReply{Accept: true}})); !slices.Equal(out, []string{"up " + string(asked)}) {
		t.Fatalf("a late acceptance: %q", out)
	}
}

func TestRefusedShortNodeInsists(t *testing.T) {
	s := newState("s", 10)
	s.Step(Receive{From: "a", Msg: Neighbor{}})
	s.integrate([]PeerID{"p"}, nil)
	s.Step(TimerFired{Timer: ShuffleTimer})
	if out := sends(s.Step(Receive{From: "p", Msg: NeighborReply{Accept: false}})); len(out) > 0 {
		t.Fatalf("after the only candidate refused: %q", out)
	}
	if out := sends(s.Step(Receive{From: "q", Msg: NeighborReply{Accept: true}})); len(out) > 0 || slices.Contains(s.Active(), "q") {
		t.Fatalf("an acceptance nobody asked for: %q", out)
	}
	// One neighbour and every passive peer full: the next round asks with
	// high priority, which p cannot refuse.
	if out := sends(without[SetTimer](tick(s, 1))); !slices.Equal(out, []string{"->p hyparview.Neighbor{true}"}) {
		t.Fatalf("the repair round: %q", out)
	}
}

// TestLostJoinsAreRepaired joins 100 nodes of which a third lose their
// Join: the repair ticks find them neighbours, rejoining those that end up
// on an island, until the overlay is connected.
func TestLostJoinsAreRepaired(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 7))
		net := &network{nodes: map[PeerID]*State{}, down: map[PeerID]bool{}}
		var ids []PeerID
		for i := range 100 {
			id := PeerID(fmt.Sprintf("n%03d", i))
			net.nodes[id] = New(DefaultConfig(), id, rand.New(rand.NewPCG(seed, uint64(i))))
			if i > 0 {
				out := net.nodes[id].Step(JoinVia{Contact: ids[rng.IntN(len(ids))]})
				if rng.IntN(3) > 0 {
					net.feed(id, out)
				}
				net.run(t, 1_000_000)
			}
			ids = append(ids, id)
		}
		if net.connected() {
			t.Fatalf("seed %d: connected before any repair: the test lost no Join that mattered", seed)
		}
		net.contact = func() PeerID { return ids[rng.IntN(len(ids))] }
		for range 8 {
			for _, id := range ids {
				net.feed(id, net.nodes[id].Step(TimerFired{Timer: RepairTimer}))
			}
			net.run(t, 1_000_000)
		}
		if !net.connected() {
			for _, id := range ids {
				t.Logf("%s active %v passive %v", id, net.nodes[id].active, net.nodes[id].passive)
			}
			t.Fatalf("seed %d: the overlay did not repair after lost Joins", seed)
		}
	}
}

// TestAvoidedPeersAreNotPromoted: a passive peer the driver avoids (its
// score below the gossip threshold) is neither asked to be a neighbour nor
// offered a trade, and stays passive; with nobody else to ask, a node
// short of neighbours shuffles for names instead; a request the peer
// sends is still answered.
func TestAvoidedPeersAreNotPromoted(t *testing.T) {
	for seed := range uint64(8) {
		s := newState("s", seed)
		s.Avoid(func(p PeerID) bool { return p == "low" })
		s.Step(Receive{From: "a", Msg: Neighbor{}})
		s.Step(Receive{From: "b", Msg: Neighbor{}})
		s.Step(Receive{From: "c", Msg: Neighbor{}})
		s.integrate([]PeerID{"low", "p"}, nil)
		out := sends(s.Step(PeerDown{Peer: "a"}))
		if !slices.Equal(out, []string{"down a", "->p hyparview.Neighbor{false}"}) {
			t.Fatalf("seed %d: refill: %q", seed, out)
		}
		s.Step(Receive{From: "p", Msg: NeighborReply{Accept: true}})
		// Only low is left to ask: the repair shuffles rather than ask it.
		s.Step(PeerDown{Peer: "b"})
		if out := sends(s.Step(PeerDown{Peer: "p"})); !slices.Equal(out, []string{"down p"}) {
			t.Fatalf("seed %d: refill with only an avoided peer: %q", seed, out)
		}
		out = sends(tick(s, 3))
		if slices.ContainsFunc(out, func(o string) bool { return strings.HasPrefix(o, "->low") }) ||
			!slices.ContainsFunc(out, func(o string) bool { return strings.Contains(o, "Shuffle{") }) {
			t.Fatalf("seed %d: repair with only an avoided peer: %q", seed, out)
		}
		if !slices.Contains(s.Passive(), "low") {
			t.Fatalf("seed %d: low left the passive view: %v", seed, s.Passive())
		}
		// The optimization does not trade for it, however fast.
		s.Step(Measured{Peer: "low", RTT: time.Millisecond})
		for _, o := range sends(s.Step(TimerFired{Timer: OptimizeTimer})) {
			if strings.HasPrefix(o, "->low") {
				t.Fatalf("seed %d: optimization: %q", seed, o)
			}
		}
		if out := sends(s.Step(Receive{From: "low", Msg: Neighbor{}})); !slices.Equal(out, []string{"up low", "->low hyparview.NeighborReply{true}"}) {
			t.Fatalf("seed %d: low's own request: %q", seed, out)
		}
	}
}

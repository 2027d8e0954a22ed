package plumtree

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

type mapStore map[MessageID][]byte

func (m mapStore) Payload(id MessageID) ([]byte, bool) { p, ok := m[id]; return p, ok }

func id(b byte) MessageID { return MessageID{b} }

func TestDuplicatePrunesAndGraftRepairs(t *testing.T) {
	s := New(DefaultConfig(), mapStore{id(1): []byte("one")})
	for _, p := range []PeerID{"a", "b", "c"} {
		s.Step(NeighborUp{Peer: p})
	}
	out := s.Step(Receive{From: "a", Msg: Gossip{ID: id(7), Payload: []byte("x"), Round: 2}})
	want := []Output{
		SetTimer{Timer: Timer{Kind: WindowTimer, ID: id(7)}, After: time.Second},
		Deliver{ID: id(7), Payload: []byte("x"), From: "a", Round: 2},
		Send{To: "b", Msg: Gossip{ID: id(7), Payload: []byte("x"), Round: 3}},
		Send{To: "c", Msg: Gossip{ID: id(7), Payload: []byte("x"), Round: 3}},
	}
	if fmt.Sprint(out) != fmt.Sprint(want) {
		t.Fatalf("first copy:\n got %v\nwant %v", out, want)
	}
	out = s.Step(Receive{From: "b", Msg: Gossip{ID: id(7), Payload: []byte("x"), Round: 2}})
	if fmt.Sprint(out) != fmt.Sprint([]Output{Send{To: "b", Msg: Prune{}}}) || !slices.Equal(s.Lazy(), []PeerID{"b"}) {
		t.Fatalf("second copy: %v, lazy %v", out, s.Lazy())
	}
	// An id announced but never received is grafted from its announcer.
	out = s.Step(Receive{From: "b", Msg: IHave{Announced: []Announcement{{ID: id(9), Round: 4}}}})
	if fmt.Sprint(out) != fmt.Sprint([]Output{SetTimer{Timer: Timer{Kind: GraftTimer, ID: id(9)}, After: 500 * time.Millisecond}}) {
		t.Fatalf("IHave: %v", out)
	}
	out = s.Step(TimerFired{Timer: Timer{Kind: GraftTimer, ID: id(9)}})
	if len(out) != 3 || fmt.Sprint(out[0]) != fmt.Sprint(Send{To: "b", Msg: Graft{ID: id(9), Round: 4}}) || !slices.Contains(s.Eager(), "b") {
		t.Fatalf("graft: %v, eager %v", out, s.Eager())
	}
	// A graft for a stored message is answered with it.
	out = s.Step(Receive{From: "c", Msg: Graft{ID: id(1), Round: 1}})
	if fmt.Sprint(out) != fmt.Sprint([]Output{Send{To: "c", Msg: Gossip{ID: id(1), Payload: []byte("one"), Round: 1}}}) {
		t.Fatalf("answer to a graft: %v", out)
	}
}

// sim is a small discrete-event driver over a static overlay: messages take
// a random latency, timers fire at their time.
type sim struct {
	t      *testing.T
	rng    *rand.Rand
	now    time.Duration
	nodes  map[PeerID]*State
	stores map[PeerID]mapStore
	events []event
	cut    map[[2]PeerID]bool // links that drop every message
	copies int                // Gossip messages delivered, duplicates included
	got    map[MessageID]map[PeerID]bool
}

type event struct {
	at       time.Duration
	seq      int
	from, to PeerID
	msg      Message
	timer    *Timer
}

func (s *sim) schedule(e event) {
	e.seq = len(s.events) + int(s.now)
	s.events = append(s.events, e)
}

func (s *sim) feed(id PeerID, out []Output) {
	for _, o := range out {
		switch o := o.(type) {
		case Send:
			if !s.cut[[2]PeerID{id, o.To}] {
				s.schedule(event{at: s.now + time.Duration(1+s.rng.IntN(20))*time.Millisecond, from: id, to: o.To, msg: o.Msg})
			}
		case SetTimer:
			tm := o.Timer
			s.schedule(event{at: s.now + o.After, to: id, timer: &tm})
		case Deliver:
			s.stores[id][o.ID] = o.Payload
			s.got[o.ID][id] = true
		}
	}
}

func (s *sim) run() {
	for len(s.events) > 0 {
		i := 0
		for j, e := range s.events {
			if e.at < s.events[i].at || e.at == s.events[i].at && e.seq < s.events[i].seq {
				i = j
			}
		}
		e := s.events[i]
		s.events = slices.Delete(s.events, i, i+1)
		s.now = e.at
		if e.timer != nil {
			s.feed(e.to, s.nodes[e.to].Step(TimerFired{Timer: *e.timer}))
			continue
		}
		if _, ok := e.msg.(Gossip); ok {
			s.copies++
		}
		s.feed(e.to, s.nodes[e.to].Step(Receive{From: e.from, Msg: e.msg}))
	}
}

func newSim(t *testing.T, n, degree int, seed uint64) (*sim, []PeerID) {
	s := &sim{t: t, rng: rand.New(rand.NewPCG(seed, 1)), nodes: map[PeerID]*State{}, stores: map[PeerID]mapStore{},
		cut: map[[2]PeerID]bool{}, got: map[MessageID]map[PeerID]bool{}}
	var ids []PeerID
	for i := range n {
		p := PeerID(fmt.Sprintf("n%03d", i))
		ids = append(ids, p)
		s.stores[p] = mapStore{}
		s.nodes[p] = New(DefaultConfig(), s.stores[p])
	}
	// A ring for connectivity, plus random chords up to the degree.
	link := func(a, b PeerID) {
		if a == b || slices.Contains(s.nodes[a].Eager(), b) {
			return
		}
		s.nodes[a].Step(NeighborUp{Peer: b})
		s.nodes[b].Step(NeighborUp{Peer: a})
	}
	for i := range ids {
		link(ids[i], ids[(i+1)%n])
	}
	for _, a := range ids {
		for len(s.nodes[a].Eager()) < degree {
			link(a, ids[s.rng.IntN(n)])
		}
	}
	return s, ids
}

func (s *sim) broadcast(from PeerID, m MessageID) {
	s.got[m] = map[PeerID]bool{from: true}
	s.stores[from][m] = []byte("payload")
	s.feed(from, s.nodes[from].Step(Broadcast{ID: m, Payload: []byte("payload")}))
	s.run()
}

func TestTreeSettlesAndDeliversOnce(t *testing.T) {
	for seed := range uint64(3) {
		s, ids := newSim(t, 100, 5, seed)
		for i := range 20 { // the first broadcasts prune the redundant links
			s.broadcast(ids[s.rng.IntN(len(ids))], MessageID{0xaa, byte(i)})
		}
		s.copies = 0
		const steady = 20
		for i := range steady {
			m := MessageID{1, byte(i)}
			s.broadcast(ids[s.rng.IntN(len(ids))], m)
			if len(s.got[m]) != len(ids) {
				t.Fatalf("seed %d: message %d reached %d of %d", seed, i, len(s.got[m]), len(ids))
			}
		}
		rmr := float64(s.copies)/float64(steady*(len(ids)-1)) - 1
		t.Logf("seed %d: steady-state RMR %.4f", seed, rmr)
		if rmr > 0.1 {
			t.Fatalf("seed %d: relative message redundancy %.3f in steady state, want ≤ 0.1", seed, rmr)
		}
	}
}

func TestGraftRepairsACutTree(t *testing.T) {
	s, ids := newSim(t, 60, 4, 9)
	for i := range 10 {
		s.broadcast(ids[0], MessageID{0xaa, byte(i)})
	}
	// Cut every eager link into one node: it must graft from a lazy peer.
	victim := ids[30]
	for _, p := range ids {
		if slices.Contains(s.nodes[p].Eager(), victim) {
			s.cut[[2]PeerID{p, victim}] = true
		}
	}
	for i := range 5 {
		m := MessageID{2, byte(i)}
		s.broadcast(ids[0], m)
		if !s.got[m][victim] {
			t.Fatalf("message %d never reached the node whose eager links were cut", i)
		}
	}
}

func TestAuthorAnnouncesToEagerPeers(t *testing.T) {
	s := node(DefaultConfig(), "a")
	m := at(0.5, 1)
	s.Step(Broadcast{ID: m, Payload: []byte("x")})
	out := s.Step(TimerFired{Timer: Timer{Kind: IHaveTimer}})
	// The push to a may be lost; the announcement lets a graft it.
	if fmt.Sprint(out) != fmt.Sprint([]Output{Send{To: "a", Msg: IHave{Announced: []Announcement{{ID: m}}}}}) {
		t.Fatalf("the author's flush: %v", out)
	}
	// A relay announces to its lazy peers only.
	gossip(s, "a", at(0.5, 2))
	if out := s.Step(TimerFired{Timer: Timer{Kind: IHaveTimer}}); len(out) != 0 {
		t.Fatalf("a relay with no lazy peer: %v", out)
	}
}

func TestInTreeFollowsFirstCopies(t *testing.T) {
	s := New(DefaultConfig(), mapStore{})
	for _, p := range []PeerID{"a", "b", "c"} {
		s.Step(NeighborUp{Peer: p})
	}
	if s.InTree("a") || s.InTree("b") {
		t.Fatal("in a tree before carrying anything")
	}
	// A first copy puts the node in a tree: its eager links are the tree's.
	s.Step(Receive{From: "a", Msg: Gossip{ID: id(1), Payload: []byte("x")}})
	s.Step(Receive{From: "c", Msg: Prune{}})
	if !s.InTree("a") || !s.InTree("b") || s.InTree("c") {
		t.Fatalf("after a first copy from a and a prune from c: a %v, b %v, c %v", s.InTree("a"), s.InTree("b"), s.InTree("c"))
	}
	// A new neighbour of a node in a tree starts lazy.
	s.Step(NeighborUp{Peer: "d"})
	if !slices.Contains(s.Lazy(), "d") || s.InTree("d") {
		t.Fatalf("new neighbour: eager %v, lazy %v", s.Eager(), s.Lazy())
	}
	// Once the link that fed it is gone, the node is in no tree, and a
	// new neighbour starts eager.
	s.Step(NeighborDown{Peer: "a"})
	s.Step(NeighborUp{Peer: "e"})
	if s.InTree("b") || !slices.Contains(s.Eager(), "e") {
		t.Fatalf("after losing its parent: in tree %v, eager %v", s.InTree("b"), s.Eager())
	}
}

// A peer announcing ids that do not exist, at any rate, costs the node at
// most MaxMissing tracked ids and graft timers, and maxAnnouncers
// announcers per id; once their grafts are given up, announcements count
// again.
func TestAnnouncementsAreBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxMissing = 4
	s := New(cfg, mapStore{})
	s.Step(NeighborUp{Peer: "x"})
	s.Step(NeighborUp{Peer: "y"})
	for i := range 20 {
		s.Step(NeighborUp{Peer: PeerID(fmt.Sprint("p", i))})
	}
	timers := func(out []Output) []Timer {
		var ts []Timer
		for _, o := range out {
			if st, ok := o.(SetTimer); ok && st.Timer.Kind == GraftTimer {
				ts = append(ts, st.Timer)
			}
		}
		return ts
	}
	var flood []Announcement
	for i := range 10 {
		flood = append(flood, Announcement{ID: id(byte(i))})
	}
	armed := timers(s.Step(Receive{From: "x", Msg: IHave{Announced: flood}}))
	if len(armed) != 4 || len(s.missing) != 4 {
		t.Fatalf("%d timers, %d ids tracked for 10 announced, want 4", len(armed), len(s.missing))
	}
	if out := timers(s.Step(Receive{From: "y", Msg: IHave{Announced: flood[6:]}})); len(out) != 0 {
		t.Fatalf("more timers once full: %v", out)
	}
	for i := range 20 {
		s.Step(Receive{From: PeerID(fmt.Sprint("p", i)), Msg: IHave{Announced: flood[:1]}})
	}
	if n := len(s.missing[id(0)]); n != maxAnnouncers {
		t.Fatalf("%d announcers of one id, want %d", n, maxAnnouncers)
	}
	// Each graft asks the next announcer; after the last, the id is given up.
	for _, tm := range armed {
		for out := s.Step(TimerFired{Timer: tm}); len(timers(out)) > 0; out = s.Step(TimerFired{Timer: tm}) {
		}
	}
	if len(s.armed) != 0 || len(s.missing) != 0 {
		t.Fatalf("after the grafts: %d armed, %d missing", len(s.armed), len(s.missing))
	}
	if out := timers(s.Step(Receive{From: "y", Msg: IHave{Announced: flood[6:]}})); len(out) != 4 {
		t.Fatalf("%d timers for 4 new ids once the others were given up", len(out))
	}
}

// Messages from a peer that is not a neighbour (a neighbour gone down is
// one) change no tree state: its Graft is not answered and its Prune does
// nothing; its IHave is an announcement like any, whose graft makes no link
// eager; a first copy it pushes is delivered and pushed on as one from
// outside the tree, and a second is answered with a Prune.
func TestStrangersChangeNoTreeState(t *testing.T) {
	s := New(DefaultConfig(), mapStore{id(1): []byte("one")})
	s.Step(NeighborUp{Peer: "a"})
	s.Step(NeighborUp{Peer: "gone"})
	s.Step(NeighborDown{Peer: "gone"})
	for _, from := range []PeerID{"stranger", "gone"} {
		for _, m := range []Message{Graft{ID: id(1)}, Prune{}} {
			if out := s.Step(Receive{From: from, Msg: m}); len(out) != 0 {
				t.Errorf("%T from %s: %v", m, from, out)
			}
		}
	}
	out := s.Step(Receive{From: "stranger", Msg: IHave{Announced: []Announcement{{ID: id(9), Round: 4}}}})
	if fmt.Sprint(out) != fmt.Sprint([]Output{SetTimer{Timer: Timer{Kind: GraftTimer, ID: id(9)}, After: 500 * time.Millisecond}}) {
		t.Fatalf("a stranger's IHave: %v", out)
	}
	out = s.Step(TimerFired{Timer: Timer{Kind: GraftTimer, ID: id(9)}})
	if len(out) != 3 || fmt.Sprint(out[0]) != fmt.Sprint(Send{To: "stranger", Msg: Graft{ID: id(9), Round: 4}}) {
		t.Fatalf("the graft of a stranger's announcement: %v", out)
	}
	out = s.Step(Receive{From: "stranger", Msg: Gossip{ID: id(7), Payload: []byte("x"), Round: 2}})
	want := []Output{
		SetTimer{Timer: Timer{Kind: WindowTimer, ID: id(7)}, After: time.Second},
		Deliver{ID: id(7), Payload: []byte("x"), From: "stranger", Round: 2},
		Send{To: "a", Msg: Gossip{ID: id(7), Payload: []byte("x"), Round: 3}},
	}
	if fmt.Sprint(out) != fmt.Sprint(want) {
		t.Fatalf("a stranger's first copy:\n got %v\nwant %v", out, want)
	}
	if out := s.Step(Receive{From: "gone", Msg: Gossip{ID: id(7), Payload: []byte("x")}}); fmt.Sprint(out) != fmt.Sprint([]Output{Send{To: "gone", Msg: Prune{}}}) {
		t.Fatalf("a stranger's second copy: %v", out)
	}
	if len(s.grafted) != 0 || len(s.fed) != 0 || !slices.Equal(s.Eager(), []PeerID{"a"}) || len(s.Lazy()) != 0 || s.InTree("a") {
		t.Fatalf("state about strangers: grafted %v, fed %v, eager %v, lazy %v", s.grafted, s.fed, s.Eager(), s.Lazy())
	}
}

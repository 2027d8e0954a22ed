package hyparview

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// fullView makes a node with neighbours n0..n4, oldest first, and the
// given round-trip times, and passive peers with theirs.
func fullView(t *testing.T, self PeerID, active []time.Duration, passive map[PeerID]time.Duration) *State {
	t.Helper()
	s := newState(self, 7)
	for i, rtt := range active {
		p := PeerID(fmt.Sprint("n", i))
		s.Step(Receive{From: p, Msg: Neighbor{}})
		s.Step(Measured{Peer: p, RTT: rtt})
	}
	for p, rtt := range passive {
		s.addPassive(p)
		s.Step(Measured{Peer: p, RTT: rtt})
	}
	if len(s.Active()) != len(active) {
		t.Fatalf("active %v", s.Active())
	}
	return s
}

func optimizeTick(s *State) []Output { return s.Step(TimerFired{Timer: OptimizeTimer}) }

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestTradeReplacesTheSlowestNeighbour(t *testing.T) {
	// n0 is the slowest but the oldest unbiased neighbour: kept.
	s := fullView(t, "s", []time.Duration{ms(200), ms(20), ms(90), ms(30), ms(40)}, map[PeerID]time.Duration{"fast": ms(30), "slow": ms(60)})
	out := sends(optimizeTick(s))
	if !slices.Equal(out, []string{"->fast hyparview.Optimize{30ms}"}) {
		t.Fatalf("tick: %q", out)
	}
	out = sends(s.Step(Receive{From: "fast", Msg: OptimizeReply{Accept: true, Dropped: "d"}}))
	want := []string{"->n2 hyparview.Disconnect{d}", "down n2", "up fast"}
	if !slices.Equal(out, want) {
		t.Fatalf("accepted: got %q\nwant %q", out, want)
	}
	if !slices.Contains(s.Active(), "n0") || !slices.Contains(s.Passive(), "n2") {
		t.Fatalf("active %v passive %v", s.Active(), s.Passive())
	}
}

func TestNoTradeForASmallGain(t *testing.T) {
	s := fullView(t, "s", []time.Duration{ms(10), ms(20), ms(50), ms(30), ms(40)}, map[PeerID]time.Duration{"p": ms(26)})
	for _, o := range optimizeTick(s) {
		if m, ok := o.(Send); ok {
			t.Fatalf("a trade for 26 ms against 50 ms: %v", m)
		}
	}
}

func TestNoTradeOnALAN(t *testing.T) {
	// Three times as fast, but 0.4 ms sooner: jitter on a LAN, not a gain.
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	s := fullView(t, "s", []time.Duration{us(100), us(150), us(600), us(200), us(250)}, map[PeerID]time.Duration{"p": us(200)})
	for _, o := range optimizeTick(s) {
		if m, ok := o.(Send); ok {
			t.Fatalf("a trade for 0.2 ms against 0.6 ms: %v", m)
		}
	}
	if out := sends(s.Step(Receive{From: "i", Msg: Optimize{RTT: us(100)}})); !slices.Equal(out, []string{"->i hyparview.OptimizeReply{false }"}) {
		t.Fatalf("an offer of 0.1 ms against 0.6 ms: %q", out)
	}
	// A peer linked to for another group saves a connection: that is gain
	// enough, for the initiator and for the receiver.
	s.Shared(sharedSet("p", "i"))
	if out := sends(optimizeTick(s)); !slices.Equal(out, []string{"->p hyparview.Optimize{200µs}"}) {
		t.Fatalf("shared, 0.2 ms against 0.6 ms: %q", out)
	}
	if out := sends(s.Step(Receive{From: "i", Msg: Optimize{RTT: us(100)}})); len(out) == 0 || out[len(out)-1] != "->i hyparview.OptimizeReply{true n2}" {
		t.Fatalf("a shared offer of 0.1 ms against 0.6 ms: %q", out)
	}
}

// measured lists the peers a tick's outputs measure, sorted.
func measured(out []Output) []PeerID {
	var ps []PeerID
	for _, o := range out {
		if m, ok := o.(Measure); ok {
			ps = append(ps, m.Peer)
		}
	}
	slices.Sort(ps)
	return ps
}

func TestNoPingThatCouldBuyNoTrade(t *testing.T) {
	// The slowest tradeable neighbour is at 30 ms (n0, the unbiased one,
	// is kept), and the fastest peer measured at 20 ms: a new passive
	// peer would have to beat every peer measured so far to be worth it.
	s := fullView(t, "s", []time.Duration{ms(200), ms(20), ms(30), ms(25), ms(28)}, nil)
	for _, p := range []PeerID{"u1", "u2", "shared"} {
		s.addPassive(p)
	}
	s.Shared(sharedSet("shared"))
	if got := measured(optimizeTick(s)); !slices.Equal(got, []PeerID{"shared"}) {
		t.Fatalf("measured %v, want only the shared peer, which a trade weighs at a quarter", got)
	}
	// With a slow neighbour to trade, a peer as fast as the fastest seen
	// would be worth it: every new passive peer is measured.
	s = fullView(t, "s", []time.Duration{ms(200), ms(20), ms(90), ms(25), ms(28)}, nil)
	s.addPassive("u1")
	s.addPassive("u2")
	if got := measured(optimizeTick(s)); !slices.Equal(got, []PeerID{"u1", "u2"}) {
		t.Fatalf("with a 90 ms neighbour: measured %v, want u1 and u2", got)
	}
	// A node with room measures them whatever its neighbours are.
	s = fullView(t, "s", []time.Duration{ms(200), ms(20), ms(30), ms(25)}, nil)
	s.addPassive("u1")
	if got := measured(optimizeTick(s)); !slices.Equal(got, []PeerID{"u1"}) {
		t.Fatalf("with room: measured %v, want u1", got)
	}
}

func TestTradeOfferIsJudgedAgainstTheSlowestNeighbour(t *testing.T) {
	s := fullView(t, "s", []time.Duration{ms(10), ms(20), ms(80), ms(30), ms(40)}, nil)
	if out := sends(s.Step(Receive{From: "i", Msg: Optimize{RTT: ms(50)}})); !slices.Equal(out, []string{"->i hyparview.OptimizeReply{false }"}) {
		t.Fatalf("50 ms against 80 ms: %q", out)
	}
	out := sends(s.Step(Receive{From: "i", Msg: Optimize{RTT: ms(30)}}))
	want := []string{"->n2 hyparview.Disconnect{}", "down n2", "up i", "->i hyparview.OptimizeReply{true n2}"}
	if !slices.Equal(out, want) {
		t.Fatalf("30 ms against 80 ms: got %q\nwant %q", out, want)
	}
	// The new neighbour is measured before its claim counts.
	if out := optimizeTick(s); fmt.Sprint(out[0]) != fmt.Sprint(Measure{Peer: "i"}) {
		t.Fatalf("after the trade: %v", out)
	}
	// A node with room takes any offer.
	r := newState("r", 1)
	if out := sends(r.Step(Receive{From: "i", Msg: Optimize{RTT: ms(500)}})); !slices.Equal(out, []string{"up i", "->i hyparview.OptimizeReply{true }"}) {
		t.Fatalf("with room: %q", out)
	}
}

func TestSuggestedPeerIsAskedFirst(t *testing.T) {
	s := newState("s", 3)
	for _, p := range []PeerID{"a", "b"} {
		s.Step(Receive{From: p, Msg: Neighbor{}})
	}
	for _, p := range []PeerID{"p1", "p2", "p3"} {
		s.addPassive(p)
	}
	out := sends(s.Step(Receive{From: "a", Msg: Disconnect{Suggest: "d"}}))
	if !slices.Equal(out, []string{"down a", "->d hyparview.Neighbor{false}"}) {
		t.Fatalf("got %q", out)
	}
}

func TestUnansweredTradeIsGivenUp(t *testing.T) {
	s := fullView(t, "s", []time.Duration{ms(10), ms(20), ms(90), ms(30), ms(40)}, map[PeerID]time.Duration{"p": ms(20), "q": ms(25)})
	if out := sends(optimizeTick(s)); !slices.Equal(out, []string{"->p hyparview.Optimize{20ms}"}) {
		t.Fatalf("first offer: %q", out)
	}
	optimizeTick(s) // still out
	if out := sends(optimizeTick(s)); !slices.Equal(out, []string{"->q hyparview.Optimize{25ms}"}) {
		t.Fatalf("after giving p up: %q", out)
	}
	// p's late acceptance is undone.
	if out := sends(s.Step(Receive{From: "p", Msg: OptimizeReply{Accept: true}})); !slices.Equal(out, []string{"->p hyparview.Disconnect{}"}) {
		t.Fatalf("late acceptance: %q", out)
	}
	// q's refusal keeps it from being asked until the repair tick.
	s.Step(Receive{From: "q", Msg: OptimizeReply{}})
	if out := sends(optimizeTick(s)); len(out) != 0 {
		t.Fatalf("after q refused: %q", out)
	}
}

func TestMeasuredOnlyForPeersInAView(t *testing.T) {
	s := newState("s", 1)
	s.Step(Measured{Peer: "stranger", RTT: ms(5)})
	if _, ok := s.RTT("stranger"); ok {
		t.Fatal("kept the RTT of a peer in neither view")
	}
}

func TestKeptNeighboursAreNotTraded(t *testing.T) {
	s := fullView(t, "s", []time.Duration{ms(10), ms(20), ms(90), ms(30), ms(80)}, map[PeerID]time.Duration{"p": ms(20)})
	s.Keep(func(p PeerID) bool { return p == "n2" })
	if out := sends(optimizeTick(s)); !slices.Equal(out, []string{"->p hyparview.Optimize{20ms}"}) {
		t.Fatalf("tick: %q", out)
	}
	out := sends(s.Step(Receive{From: "p", Msg: OptimizeReply{Accept: true}}))
	if !slices.Contains(out, "down n4") || !slices.Contains(s.Active(), "n2") {
		t.Fatalf("traded away a kept neighbour: %q, active %v", out, s.Active())
	}
	// An offer is judged against the slowest neighbour not kept, too.
	s.Keep(func(PeerID) bool { return true })
	if out := sends(s.Step(Receive{From: "q", Msg: Optimize{RTT: ms(1)}})); !slices.Equal(out, []string{"->q hyparview.OptimizeReply{false }"}) {
		t.Fatalf("every neighbour kept: %q", out)
	}
}

func TestTradeUndoneWhenNothingIsLeftToTrade(t *testing.T) {
	s := fullView(t, "s", []time.Duration{ms(10), ms(20), ms(90), ms(30), ms(80)}, map[PeerID]time.Duration{"p": ms(20)})
	if out := sends(optimizeTick(s)); !slices.Equal(out, []string{"->p hyparview.Optimize{20ms}"}) {
		t.Fatalf("tick: %q", out)
	}
	// The tree takes every neighbour while the offer is out.
	s.Keep(func(PeerID) bool { return true })
	out := sends(s.Step(Receive{From: "p", Msg: OptimizeReply{Accept: true, Dropped: "d"}}))
	if !slices.Equal(out, []string{"->p hyparview.Disconnect{}"}) || slices.Contains(s.Active(), "p") || len(s.Active()) != 5 {
		t.Fatalf("got %q, active %v", out, s.Active())
	}
}

// TestViewRTTsMatchTheViews: however the views and the measured times
// change, each slot gets the time measured for its peer, the times of
// peers in neither view are forgotten, each peer keeps one time, and the
// neighbours a trade brought stay marked as such, and only they.
func TestViewRTTsMatchTheViews(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := newState("self", 3)
	peers := make([]PeerID, 60)
	for i := range peers {
		// A new string each time: equal ids need not share their bytes.
		peers[i] = PeerID(fmt.Sprint("p", i))
	}
	want := map[PeerID]time.Duration{}
	biased := map[PeerID]bool{}
	for step := range 5000 {
		p := PeerID(fmt.Sprint(peers[rng.IntN(len(peers))]))
		switch rng.IntN(6) {
		case 0:
			if len(s.active) < s.cfg.ActiveSize && !slices.Contains(s.active, p) {
				s.addActive(p)
				if rng.IntN(2) == 0 {
					s.markBiased(p)
					biased[p] = true
				}
			}
		case 1:
			s.addPassive(p)
		case 2:
			s.removeActive(p)
			s.passive = remove(s.passive, p)
			delete(biased, p)
		case 3:
			if s.removeActive(p) {
				delete(biased, p)
				s.addPassive(p)
			}
		default:
			rtt := time.Duration(rng.IntN(1000))
			s.opt.rtt.set(p, rtt)
			want[p] = rtt
		}
		if rng.IntN(3) > 0 {
			continue
		}
		act, pas := s.viewRTTs(nil, nil)
		for view, times := range map[string][]time.Duration{"active": act, "passive": pas} {
			slots := map[string][]PeerID{"active": s.active, "passive": s.passive}[view]
			for i, p := range slots {
				w, ok := want[p]
				if !ok {
					w = unmeasured
				}
				if times[i] != w {
					t.Fatalf("step %d: %s slot %d (%s): %v, want %v", step, view, i, p, times[i], w)
				}
			}
		}
		for p := range want {
			if !slices.Contains(s.active, p) && !slices.Contains(s.passive, p) {
				delete(want, p)
			}
		}
		if len(s.opt.rtt) != len(want) {
			t.Fatalf("step %d: %d times kept, want %d", step, len(s.opt.rtt), len(want))
		}
		for i, p := range s.active {
			if got := s.opt.biased&(1<<i) != 0; got != biased[p] {
				t.Fatalf("step %d: neighbour %s biased %v, want %v", step, p, got, biased[p])
			}
		}
		if s.opt.biased>>len(s.active) != 0 {
			t.Fatalf("step %d: biased bits %b beyond %d neighbours", step, s.opt.biased, len(s.active))
		}
	}
}

// TestRefusalsBackOff: a peer that keeps refusing a full view's trade is
// offered it again after one repair tick, then two, then four, up to a
// shuffle period's worth; one that takes a trade starts over. A short
// view asks again at every repair tick.
func TestRefusalsBackOff(t *testing.T) {
	s := fullView(t, "s", []time.Duration{ms(20), ms(20), ms(200), ms(20), ms(20)}, map[PeerID]time.Duration{"fast": ms(10)})
	repairTick := func() { s.Step(TimerFired{Timer: RepairTimer}) }
	offered := func() bool {
		for _, o := range sends(optimizeTick(s)) {
			if o == "->fast hyparview.Optimize{10ms}" {
				return true
			}
		}
		return false
	}
	var gaps []int
	for ticks := 0; len(gaps) < 6 && ticks < 200; ticks++ {
		if offered() {
			gaps = append(gaps, ticks)
			ticks = 0
			s.Step(Receive{From: "fast", Msg: OptimizeReply{}})
		}
		repairTick()
	}
	// Ticks are counted from the refusal's: it holds for 1, 2, 4, 8, then
	// 12 (a 60 s shuffle period of 5 s repair ticks).
	if want := []int{0, 1, 2, 4, 8, 12}; !slices.Equal(gaps, want) {
		t.Fatalf("repair ticks between offers %v, want %v", gaps, want)
	}
	// A view with room asks again at every repair tick.
	s = fullView(t, "s", []time.Duration{ms(20), ms(20), ms(200), ms(20)}, map[PeerID]time.Duration{"fast": ms(10)})
	for i := range 5 {
		if !offered() {
			t.Fatalf("a short view did not ask again after %d refusals", i)
		}
		s.Step(Receive{From: "fast", Msg: OptimizeReply{}})
		repairTick()
	}
}

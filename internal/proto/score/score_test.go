package score

import (
	"math"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestSevereFaultsWalkTheThresholds(t *testing.T) {
	tb := New(DefaultParams())
	// The scores -1, -2 and -3: one severe fault stops pushes, two are
	// not below the graylist threshold yet, the third bans.
	want := []Level{NoGossip, NoGossip, Banned}
	for i, w := range want {
		v := tb.Add("p", Invalid, 1, t0)
		if v.Level != w {
			t.Fatalf("fault %d: level %v, want %v", i+1, v.Level, w)
		}
	}
	v := tb.Add("p", Invalid, 1, t0)
	if v.NewBan || v.Until != t0.Add(10*time.Minute) {
		t.Fatalf("a banned peer's verdict: %+v, want the ban it had", v)
	}
	if st := tb.Standing("p", t0); st.Score != 0 || st.Bans != 1 {
		t.Fatalf("after the ban: %+v, want the counters reset and one ban", st)
	}
}

func TestModerateFaultsGraylistThenDisconnectThenBan(t *testing.T) {
	tb := New(DefaultParams())
	var levels []Level
	for range 12 {
		levels = append(levels, tb.Add("p", Inadmissible, 1, t0).Level)
	}
	// -0.25 each: below -0.5 from the 3rd, -2 from the 9th, -2.5 from
	// the 11th, and the 12th (-3, at most -2.9) bans.
	want := []Level{Good, Good, NoGossip, NoGossip, NoGossip, NoGossip, NoGossip, NoGossip, Graylisted, Graylisted, Disconnected, Banned}
	for i := range want {
		if levels[i] != want[i] {
			t.Fatalf("levels %v, want %v", levels, want)
		}
	}
}

// TestThreeSpreadOverSecondsBan: three severe faults 100 ms apart have
// decayed a little (2.9997) and still ban; spread over minutes they do not.
func TestThreeSpreadOverSecondsBan(t *testing.T) {
	tb := New(DefaultParams())
	var v Verdict
	for i := range 3 {
		v = tb.Add("p", Invalid, 1, t0.Add(time.Duration(i)*100*time.Millisecond))
	}
	if !v.NewBan {
		t.Fatalf("three faults 100 ms apart: %+v, want a ban", v)
	}
	for i := range 3 {
		v = tb.Add("q", Invalid, 1, t0.Add(time.Duration(i)*time.Minute))
	}
	if v.Level == Banned {
		t.Fatalf("three faults a minute apart: %+v, want no ban", v)
	}
}

func TestBansExpireAndDouble(t *testing.T) {
	tb := New(DefaultParams())
	now := t0
	for ban := range 3 {
		var v Verdict
		for range 3 {
			v = tb.Add("p", Invalid, 1, now)
		}
		if d := v.Until.Sub(now); !v.NewBan || d != 10*time.Minute<<ban {
			t.Fatalf("ban %d: %+v, lasting %v, want %v", ban+1, v, d, 10*time.Minute<<ban)
		}
		if tb.Level("p", v.Until.Add(-time.Nanosecond)) != Banned || tb.Level("p", v.Until) != Good {
			t.Fatalf("ban %d does not end at %v", ban+1, v.Until)
		}
		now = v.Until
	}
	tb.Ban("q", t0.Add(1000*time.Hour), t0)
	if !tb.Unban("p") || tb.Unban("p") {
		t.Fatal("Unban does not report what was held against p, once")
	}
	tb.Connected("c", netip.MustParseAddr("203.0.113.1"), t0)
	tb.Add("c", Delivered, 1, t0)
	if tb.Unban("c") || tb.Len() != 2 {
		t.Fatal("a connected peer with nothing against it: unbanned, or forgotten")
	}
	if got := tb.Bans(t0); len(got) != 1 || got[0].Peer != "q" || got[0].Count != 1 {
		t.Fatalf("bans %+v, want only q's", got)
	}
}

func TestMaxBanFor(t *testing.T) {
	p := DefaultParams()
	tb := New(p)
	tb.Load([]Ban{{Peer: "p", Until: t0, Count: 40}}, t0)
	var v Verdict
	for range 3 {
		v = tb.Add("p", Invalid, 1, t0)
	}
	if v.Until != t0.Add(p.MaxBanFor) {
		t.Fatalf("the 41st ban ends %v, want %v", v.Until, t0.Add(p.MaxBanFor))
	}
}

func TestCountersDecay(t *testing.T) {
	tb := New(DefaultParams())
	tb.Add("p", Invalid, 2, t0)
	if got := tb.Standing("p", t0.Add(10*time.Minute)).Parts[Invalid]; math.Abs(got+1) > 1e-9 {
		t.Fatalf("after one half-life: %v, want -1", got)
	}
	// Two faults, two half-lives apart, and a third: -0.5 -1 ... not a ban.
	if v := tb.Add("p", Invalid, 2, t0.Add(20*time.Minute)); v.Level == Banned {
		t.Fatalf("decayed faults banned: %+v", v)
	}
	if st := tb.Standing("p", t0.Add(24*time.Hour)); st.Score != 0 || st.Level != Good {
		t.Fatalf("a day later: %+v, want decayed to zero", st)
	}
}

func TestPositivesAreCappedAndBuyNoMisbehaviour(t *testing.T) {
	tb := New(DefaultParams())
	tb.Add("p", Delivered, 1e6, t0)
	tb.Add("p", Served, 1e6, t0)
	if st := tb.Standing("p", t0); st.Score != 1 {
		t.Fatalf("capped positives: %+v, want a score of 1", st)
	}
	var v Verdict
	for range 3 {
		v = tb.Add("p", Invalid, 1, t0)
	}
	if !v.NewBan {
		t.Fatalf("three severe faults of a peer with standing: %+v, want banned", v)
	}
	for _, n := range []float64{-1, math.NaN(), math.Inf(1), 0} {
		if v := tb.Add("q", Invalid, n, t0); v.Level != Good {
			t.Fatalf("Add(%v): %+v, want nothing charged", n, v)
		}
	}
}

func TestColocation(t *testing.T) {
	tb := New(DefaultParams())
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	for i := range 7 {
		tb.Connected(PeerID(rune('a'+i)), ip("203.0.113."+string(rune('1'+i))), t0)
	}
	tb.Connected("x", ip("198.51.100.1"), t0)
	tb.Connected("l", ip("127.0.0.1"), t0)
	tb.Connected("lan", ip("192.168.1.7"), t0)
	// Seven in one /24, three over the threshold of 4: -0.25×9, floored at
	// -0.4, which crosses no threshold alone; one severe fault more than
	// elsewhere does.
	if st := tb.Standing("a", t0); st.Colocation != -0.4 || st.Level != Good {
		t.Fatalf("colocated: %+v, want -0.4 and good", st)
	}
	tb.Add("a", Inadmissible, 1, t0)
	tb.Add("x", Inadmissible, 1, t0)
	if tb.Level("a", t0) != NoGossip || tb.Level("x", t0) != Good {
		t.Fatalf("one moderate fault: colocated %v, alone %v", tb.Level("a", t0), tb.Level("x", t0))
	}
	if st := tb.Standing("x", t0); st.Colocation != 0 {
		t.Fatalf("alone in its range: %+v", st)
	}
	for _, p := range []PeerID{"l", "lan"} {
		if st := tb.Standing(p, t0); st.Colocation != 0 {
			t.Fatalf("%s: %+v, want loopback and private addresses exempt", p, st)
		}
	}
	tb.Disconnected("a")
	tb.Disconnected("b")
	if st := tb.Standing("c", t0); st.Colocation != -0.25 {
		t.Fatalf("five in the range: %+v, want -0.25", st)
	}
	tb.Disconnected("c")
	tb.Disconnected("c") // a second close of one connection changes nothing
	if st := tb.Standing("d", t0); st.Colocation != 0 || tb.ranges[netip.MustParsePrefix("203.0.113.0/24")] != 4 {
		t.Fatalf("four in the range: %+v, %v", st, tb.ranges)
	}
	if pf, ok := Range(ip("2001:db8:1:2::5")); !ok || pf.String() != "2001:db8:1::/48" {
		t.Fatalf("IPv6 range %v %v", pf, ok)
	}
	if pf, ok := Range(ip("::ffff:203.0.113.9")); !ok || pf.String() != "203.0.113.0/24" {
		t.Fatalf("IPv4-mapped range %v %v", pf, ok)
	}
}

func TestBounded(t *testing.T) {
	p := DefaultParams()
	p.MaxPeers = 3
	tb := New(p)
	tb.Ban("banned", t0.Add(time.Hour), t0)
	tb.Add("bad", Invalid, 2, t0)
	tb.Add("meh", Inadmissible, 1, t0)
	tb.Connected("new", netip.MustParseAddr("203.0.113.1"), t0)
	if got := tb.Peers(); len(got) != 3 || got[0] != "bad" || got[1] != "banned" || got[2] != "new" {
		t.Fatalf("peers %v, want the one with least at stake (meh) forgotten", got)
	}
	tb.Add("other", Invalid, 1, t0) // evicts new, whose range is released
	if len(tb.ranges) != 0 {
		t.Fatalf("ranges %v after the connected peer was forgotten", tb.ranges)
	}
	tb.Load([]Ban{{Peer: "late", Until: t0.Add(time.Hour), Count: 1}}, t0)
	if tb.Len() != 3 || tb.Level("late", t0) == Banned {
		t.Fatalf("a load beyond the bound was taken")
	}
}

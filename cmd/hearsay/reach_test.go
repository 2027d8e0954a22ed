package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"hearsay/internal/node"
	"hearsay/internal/transport"
)

// natLab is three homes, each behind its own NAT router, and a public
// node's namespace on the lab's Internet (192.0.0.64/26, see netns_test.go).
// Routers a and b keep a host's port as they masquerade it, as most home
// routers do; router c picks a random port for every connection
// ("symmetric"), which no hole punch gets through; router d maps ports by
// NAT-PMP when asked.
//
//	hostA 10.0.1.2 ─ routerA 10.0.1.1 | 192.0.0.70 ─┐
//	hostB 10.0.2.2 ─ routerB 10.0.2.1 | 192.0.0.71 ─┤
//	hostC 10.0.3.2 ─ routerC 10.0.3.1 | 192.0.0.72 ─┼─ br0 192.0.0.65 (wan: the public node)
//	hostD 10.0.4.2 ─ routerD 10.0.4.1 | 192.0.0.73 ─┘
type natLab struct {
	*lab
	wan, hostA, hostB, hostC, hostD string
}

func newNATLab(t *testing.T) *natLab {
	l := &natLab{lab: newLab(t)}
	l.wan = l.host("wan")
	attach := l.bridge(l.wan, "br0", "192.0.0.65/26")
	for i, h := range []*string{&l.hostA, &l.hostB, &l.hostC, &l.hostD} {
		side := string(rune('a' + i))
		r := l.host("router-" + side)
		*h = l.host("host-" + side)
		l.link(r, "wan", fmt.Sprintf("192.0.0.%d/26", 70+i), l.wan, "to-"+side, "")
		attach("to-" + side)
		lan := fmt.Sprintf("10.0.%d", i+1)
		l.link(r, "lan", lan+".1/24", *h, "eth0", lan+".2/24")
		l.in(*h, "ip", "route", "add", "default", "via", lan+".1")
		l.router(r, "wan", side == "c")
		if side == "d" {
			l.natPMP(r, lan+".1", fmt.Sprintf("192.0.0.%d", 70+i), lan+".2", "wan")
		}
	}
	return l
}

// openedAt is when a connection opened.
func openedAt(t *testing.T, c node.ConnStatus) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, c.Opened)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// connTo is the first connection in st to peer p that is relayed (or
// direct, as relayed says), if any.
func connTo(st *node.Status, p string, relayed bool) (node.ConnStatus, bool) {
	if st == nil {
		return node.ConnStatus{}, false
	}
	for _, c := range st.Reach.Connections {
		if c.Peer == p && c.Relayed == relayed {
			return c, true
		}
	}
	return node.ConnStatus{}, false
}

// TestReachableBehindNAT: three nodes, each behind its own NAT, and a
// public node. Each finds it is private (AutoNAT) and reserves a slot on
// the public node (circuit relay v2); b joins a's group through the DHT on
// the public node, over the relay, and the relayed connection is upgraded
// to a direct one by hole punching (DCUtR); posts cross both ways within
// 2 s; with the public node killed, a and b go on syncing directly. c,
// behind a symmetric NAT, joins too and stays relayed, and posts cross
// through the relay within 2 s. d, whose router maps ports by NAT-PMP,
// finds itself public at its router's address.
func TestReachableBehindNAT(t *testing.T) {
	l := newNATLab(t)
	dir := t.TempDir()
	for _, h := range []string{"pub", "a", "b", "c", "d"} {
		must(t, hearsay(t, dir, nil, "--home", h, "init"))
	}
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	start := time.Now()
	pub := l.serve(l.wan, dir, "--home", "pub")
	entry := addrWith(t, pub.addrs, "/ip4/192.0.0.65/", "/quic-v1/")
	a := l.serve(l.hostA, dir, "--home", "a", "--bootstrap", entry)
	b := l.serve(l.hostB, dir, "--home", "b", "--bootstrap", entry)
	c := l.serve(l.hostC, dir, "--home", "c", "--bootstrap", entry)
	d := l.serve(l.hostD, dir, "--home", "d", "--bootstrap", entry, "--relay-service=false")

	for _, n := range []struct{ ns, home string }{{l.hostA, "a"}, {l.hostB, "b"}, {l.hostC, "c"}} {
		var st *node.Status
		for st = l.status(n.ns, dir, n.home); st == nil || st.Reach.Reachability != "private" || len(st.Reach.RelayReservations) == 0; st = l.status(n.ns, dir, n.home) {
			if time.Since(start) > 40*time.Second {
				var pst *node.Status = l.status(l.wan, dir, "pub")
				t.Fatalf("%s did not find itself private and hold a relay slot within 40 s of the start: %+v\npublic node: %+v", n.home, st.Reach, pst.Reach)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("%s: private, relayed by %s, %v after start", n.home, st.Reach.RelayReservations[0], time.Since(start).Round(time.Millisecond))
		if out := must(t, l.hearsay(n.ns, dir, "--home", n.home, "status")); !strings.Contains(out, "\nreach     private\n") || !strings.Contains(out, "\nrelayed   /ip4/192.0.0.65/") {
			t.Fatalf("%s's status:\n%s", n.home, out)
		}
	}
	// d asked its router for a port (NAT-PMP), and AutoNAT v2 found the
	// mapped address dialable from outside: d is public behind its NAT.
	var dst *node.Status
	for dst = l.status(l.hostD, dir, "d"); dst == nil || dst.Reach.Reachability != "public"; dst = l.status(l.hostD, dir, "d") {
		if time.Since(start) > 40*time.Second {
			t.Fatalf("d, whose router maps ports, did not find itself public within 40 s of the start: %+v\naddrs %v\n%s", dst.Reach, dst.Addrs, d.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	mapped := addrWith(t, dst.Reach.ReachableAddrs, "/ip4/192.0.0.73/")
	t.Logf("d: public through its mapped port %s, %v after start", mapped, time.Since(start).Round(time.Millisecond))
	pst := l.status(l.wan, dir, "pub")
	if pst == nil || pst.Reach.Reachability != "public" || pst.Reach.Relay == nil || !pst.Reach.Relay.Active || pst.Reach.Relay.Reservations < 3 {
		t.Fatalf("the public node's reach: %+v", pst.Reach)
	}
	ast := l.status(l.hostA, dir, "a")
	aID := ast.PeerID

	joined := time.Now()
	if got := must(t, l.hearsay(l.hostB, dir, "--home", "b", "group", "join", g)); got != g {
		t.Fatalf("join printed %q", got)
	}
	t.Logf("b joined a's group, found through the DHT on the public node, in %v", time.Since(joined).Round(time.Millisecond))

	// The two met through the relay as soon as the DHT named one to the
	// other (or at the join, at the latest); a hole punch turned that
	// connection direct.
	var direct node.ConnStatus
	upgrade := waitFor(t, 20*time.Second, "b's connection to a turning direct", func() bool {
		var ok bool
		direct, ok = connTo(l.status(l.hostB, dir, "b"), aID, false)
		return ok
	})
	if !strings.Contains(direct.Addr, "/ip4/192.0.0.70/") {
		t.Fatalf("b's direct connection to a is to %s, not a's router", direct.Addr)
	}
	var punched []string
	for _, n := range []struct{ ns, home string }{{l.hostA, "a"}, {l.hostB, "b"}} {
		for _, hp := range l.status(n.ns, dir, n.home).Reach.HolePunches {
			outcome := "succeeded"
			if !hp.Success {
				outcome = "failed (" + hp.Error + ")"
			}
			punched = append(punched, fmt.Sprintf("%s's hole punch %s in %v, %v after the start", n.home, outcome, hp.Took.Round(time.Millisecond), hp.At.Sub(start).Round(time.Millisecond)))
		}
	}
	if !slices.ContainsFunc(append(l.status(l.hostA, dir, "a").Reach.HolePunches, l.status(l.hostB, dir, "b").Reach.HolePunches...),
		func(hp transport.HolePunch) bool { return hp.Success }) {
		t.Fatal("b reaches a directly, but neither reports a hole punch: the NATs let a dial through")
	}
	t.Logf("hole punched: b reaches a directly at %s (connected %v after the start, %v after the join returned); %s",
		direct.Addr, openedAt(t, direct).Sub(start).Round(time.Millisecond), upgrade.Round(time.Millisecond), strings.Join(punched, "; "))
	waitFor(t, 10*time.Second, "the relayed connections between a and b closing", func() bool {
		_, relayed := connTo(l.status(l.hostB, dir, "b"), aID, true)
		return !relayed
	})

	// c, behind its symmetric NAT, joins too, from a member it reaches
	// through the relay only.
	if got := must(t, l.hearsay(l.hostC, dir, "--home", "c", "group", "join", g)); got != g {
		t.Fatalf("c's join printed %q", got)
	}
	bID := l.status(l.hostB, dir, "b").PeerID
	cst := l.status(l.hostC, dir, "c")
	_, relayedA := connTo(cst, aID, true)
	_, relayedB := connTo(cst, bID, true)
	if !relayedA && !relayedB {
		t.Fatalf("c has no relayed connection to a member: %+v", cst.Reach.Connections)
	}

	// Posts cross both ways within 2 s: directly between a and b, through
	// the relay to and from c.
	nodes := map[string]struct {
		ns      string
		arrived *arrivals
		s       *serving
	}{}
	for h, n := range map[string]struct {
		ns string
		s  *serving
	}{"a": {l.hostA, a}, "b": {l.hostB, b}, "c": {l.hostC, c}} {
		nodes[h] = struct {
			ns      string
			arrived *arrivals
			s       *serving
		}{n.ns, watchArrivalsVia(t, l.client(n.ns), filepath.Join(dir, h), g), n.s}
	}
	exchange := func(when string, pairs ...[2]string) {
		t.Helper()
		for _, pair := range pairs {
			from, to := nodes[pair[0]], nodes[pair[1]]
			post := must(t, l.hearsay(from.ns, dir, "--home", pair[0], "post", g, "from "+pair[0]+" "+when))
			deadline := time.Now().Add(10 * time.Second)
			// Both ends' event streams: the author's may report its own
			// post after the other end's reports it (a loaded CI run read
			// the author's as not yet seen, and the post as late by the
			// longest duration there is).
			both := func() bool {
				_, ok := to.arrived.of(post)
				_, mine := from.arrived.of(post)
				return ok && mine
			}
			for !both() {
				if time.Now().After(deadline) {
					t.Fatalf("the post from %s did not reach %s %s within 10 s, or its author's own event stream did not report it\n%s: %+v\n%s: %+v\n%s's log:\n%s\n%s's log:\n%s", pair[0], pair[1], when,
						pair[0], l.status(from.ns, dir, pair[0]).Reach, pair[1], l.status(to.ns, dir, pair[1]).Reach, pair[0], from.s.stderr.String(), pair[1], to.s.stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			stored, _ := from.arrived.of(post)
			at, _ := to.arrived.of(post)
			t.Logf("%s's post on %s %v after it was stored on %s (%s)", pair[0], pair[1], at.Sub(stored).Round(time.Microsecond), pair[0], when)
			if at.Sub(stored) > 2*time.Second {
				t.Fatalf("%s's post took %v to reach %s %s, want at most 2 s", pair[0], at.Sub(stored), pair[1], when)
			}
		}
	}
	exchange("with the public node up", [2]string{"a", "b"}, [2]string{"b", "a"}, [2]string{"a", "c"}, [2]string{"c", "a"})
	cst = l.status(l.hostC, dir, "c")
	for _, p := range []string{aID, bID} {
		if c, ok := connTo(cst, p, false); ok {
			t.Fatalf("c, behind a symmetric NAT, reaches a member directly: %+v", c)
		}
	}
	var failed int
	for _, ns := range []struct{ ns, home string }{{l.hostA, "a"}, {l.hostB, "b"}, {l.hostC, "c"}} {
		for _, hp := range l.status(ns.ns, dir, ns.home).Reach.HolePunches {
			if !hp.Success {
				failed++
			}
		}
	}
	t.Logf("c stays relayed; %d hole punches failed so far", failed)

	pub.cmd.Process.Signal(syscall.SIGKILL)
	pub.cmd.Wait()
	exchange("after the public node was killed", [2]string{"a", "b"}, [2]string{"b", "a"})
	if _, ok := connTo(l.status(l.hostB, dir, "b"), aID, false); !ok {
		t.Fatal("b lost its direct connection to a")
	}
}

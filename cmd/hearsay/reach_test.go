package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hearsay/internal/node"
)

// natLab is two homes, each behind its own NAT router, and a public node's
// namespace on the lab's Internet (192.0.0.64/26, see netns_test.go):
//
//	hostA 10.0.1.2 ─ routerA 10.0.1.1 | 192.0.0.70 ─┐
//	                                                 ├─ br0 192.0.0.65 (wan: the public node)
//	hostB 10.0.2.2 ─ routerB 10.0.2.1 | 192.0.0.71 ─┘
type natLab struct {
	*lab
	wan, hostA, hostB string
}

func newNATLab(t *testing.T) *natLab {
	l := &natLab{lab: newLab(t)}
	l.wan = l.host("wan")
	attach := l.bridge(l.wan, "br0", "192.0.0.65/26")
	for i, side := range []string{"a", "b"} {
		r := l.host("router-" + side)
		h := l.host("host-" + side)
		l.link(r, "wan", "192.0.0."+[]string{"70", "71"}[i]+"/26", l.wan, "to-"+side, "")
		attach("to-" + side)
		lan := []string{"10.0.1", "10.0.2"}[i]
		l.link(r, "lan", lan+".1/24", h, "eth0", lan+".2/24")
		l.in(h, "ip", "route", "add", "default", "via", lan+".1")
		l.router(r, "wan")
		if side == "a" {
			l.hostA = h
		} else {
			l.hostB = h
		}
	}
	return l
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

// TestReachableBehindNAT: two nodes, each behind its own NAT, and a public
// node. Both find they are private (AutoNAT), reserve a slot on the public
// node (circuit relay v2), and b joins a's group through the DHT on the
// public node, over the relay; posts cross both ways within 2 s; the
// relayed connection is upgraded to a direct one by hole punching (DCUtR);
// and with the public node killed, they go on syncing directly.
func TestReachableBehindNAT(t *testing.T) {
	l := newNATLab(t)
	dir := t.TempDir()
	for _, h := range []string{"pub", "a", "b"} {
		must(t, hearsay(t, dir, nil, "--home", h, "init"))
	}
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	start := time.Now()
	pub := l.serve(l.wan, dir, "--home", "pub")
	entry := addrWith(t, pub.addrs, "/ip4/192.0.0.65/", "/quic-v1/")
	a := l.serve(l.hostA, dir, "--home", "a", "--bootstrap", entry)
	b := l.serve(l.hostB, dir, "--home", "b", "--bootstrap", entry)

	for _, n := range []struct{ ns, home string }{{l.hostA, "a"}, {l.hostB, "b"}} {
		var st *node.Status
		for st = l.status(n.ns, dir, n.home); st == nil || st.Reach.Reachability != "private" || len(st.Reach.RelayReservations) == 0; st = l.status(n.ns, dir, n.home) {
			if time.Since(start) > 40*time.Second {
				var pst *node.Status = l.status(l.wan, dir, "pub")
				t.Fatalf("%s did not find itself private and hold a relay slot within 40 s of the start: %+v\npublic node: %+v", n.home, st.Reach, pst.Reach)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("%s: private, relayed by %s, %v after start", n.home, st.Reach.RelayReservations[0], time.Since(start).Round(time.Millisecond))
	}
	pst := l.status(l.wan, dir, "pub")
	if pst == nil || pst.Reach.Reachability != "public" || pst.Reach.Relay == nil || !pst.Reach.Relay.Active || pst.Reach.Relay.Reservations < 2 {
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
	waitFor(t, 20*time.Second, "b's connection to a turning direct", func() bool {
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
			if hp.Success {
				punched = append(punched, fmt.Sprintf("%s's hole punch took %v (at %v after the start)", n.home, hp.Took.Round(time.Millisecond), hp.At.Sub(start).Round(time.Millisecond)))
			}
		}
	}
	if len(punched) == 0 {
		t.Fatal("b reaches a directly, but neither reports a hole punch: the NATs let a dial through")
	}
	t.Logf("hole punched: b reaches a directly at %s; %s", direct.Addr, strings.Join(punched, "; "))
	waitFor(t, 10*time.Second, "the relayed connections between a and b closing", func() bool {
		_, relayed := connTo(l.status(l.hostB, dir, "b"), aID, true)
		return !relayed
	})

	// Posts cross both ways within 2 s.
	watchA := watchArrivalsVia(t, l.client(l.hostA), filepath.Join(dir, "a"), g)
	watchB := watchArrivalsVia(t, l.client(l.hostB), filepath.Join(dir, "b"), g)
	exchange := func(when string) {
		t.Helper()
		for _, c := range []struct {
			from, fromNS, to string
			src, dst         *arrivals
		}{{"a", l.hostA, "b", watchA, watchB}, {"b", l.hostB, "a", watchB, watchA}} {
			post := must(t, l.hearsay(c.fromNS, dir, "--home", c.from, "post", g, "from "+c.from+" "+when))
			deadline := time.Now().Add(10 * time.Second)
			for _, ok := c.dst.of(post); !ok; _, ok = c.dst.of(post) {
				if time.Now().After(deadline) {
					sa, sb := l.status(l.hostA, dir, "a"), l.status(l.hostB, dir, "b")
					t.Fatalf("the post from %s did not reach %s %s within 10 s\na: %+v %+v\nb: %+v %+v\na's log:\n%s\nb's log:\n%s", c.from, c.to, when,
						sa.Reach, sa.Groups, sb.Reach, sb.Groups, a.stderr.String(), b.stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			stored, _ := c.src.of(post)
			at, _ := c.dst.of(post)
			t.Logf("%s's post on %s %v after it was stored on %s (%s)", c.from, c.to, at.Sub(stored).Round(time.Microsecond), c.from, when)
			if at.Sub(stored) > 2*time.Second {
				t.Fatalf("%s's post took %v to reach %s %s, want at most 2 s", c.from, at.Sub(stored), c.to, when)
			}
		}
	}
	exchange("with the public node up")

	pub.cmd.Process.Signal(syscall.SIGKILL)
	pub.cmd.Wait()
	exchange("after the public node was killed")
	if _, ok := connTo(l.status(l.hostB, dir, "b"), aID, false); !ok {
		t.Fatal("b lost its direct connection to a")
	}
}

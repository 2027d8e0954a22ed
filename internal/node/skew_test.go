package node

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/store"
)

// skewedNode is a node on disk whose clock runs at now plus an offset the
// test moves.
func skewedNode(t *testing.T, offset *atomic.Int64) *Node {
	t.Helper()
	h, _, err := home.Init(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := Open(h, store.Options{}, func() time.Time { return now.Add(time.Duration(offset.Load())) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// TestClockSkew: three nodes on real libp2p hosts share an open group with
// clocks apart — a 20 minutes fast, b right, c 5 minutes slow — against the
// 10 minutes an entry may come from the future (group.MaxSkew).
//   - b's post reaches a and c (pushed, or brought by a sync the test
//     runs); c's next post, written on its slow clock, still comes after
//     it (the hybrid clock follows what the store holds).
//   - a's post is from the future for b and c: pushed and synced, it is
//     refused and a is charged nothing.
//   - Once b's clock has moved 11 minutes on, the next sync brings a's post
//     to b; once c's has too, everything reaches c and the digests agree.
func TestClockSkew(t *testing.T) {
	var offA, offB, offC atomic.Int64
	offA.Store(int64(20 * time.Minute))
	offC.Store(int64(-5 * time.Minute))
	a, b, c := skewedNode(t, &offA), skewedNode(t, &offB), skewedNode(t, &offC)
	gen := openGenesis()
	gen.Write = group.WriteOpen
	g, err := b.CreateGroup(gen)
	if err != nil {
		t.Fatal(err)
	}
	nets := map[*Node]*Network{}
	for _, n := range []*Node{a, b, c} {
		nw, err := n.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nw.Close() })
		nets[n] = nw
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	syncWith := func(n, with *Node) SyncResult {
		t.Helper()
		res, err := nets[n].SyncWith(ctx, nets[with].Addrs()[0], g)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	syncWith(a, b)
	syncWith(c, b)
	holds := func(n *Node, id entry.ID) bool { _, err := n.Store.Get(g, id); return err == nil }
	// arrives syncs n with from, which brings id unless a push did already.
	arrives := func(n, from *Node, id entry.ID, what string) {
		t.Helper()
		if syncWith(n, from); !holds(n, id) {
			t.Fatalf("%s: not held after a sync", what)
		}
	}

	pb, err := b.Post(g, group.Post{Text: "from b, on time"}, entry.ID{})
	if err != nil {
		t.Fatal(err)
	}
	arrives(a, b, pb, "b's post reaching a")
	arrives(c, b, pb, "b's post reaching c, 5 minutes slow")
	pc, err := c.Post(g, group.Post{Text: "from c, slow"}, entry.ID{})
	if err != nil {
		t.Fatal(err)
	}
	eb, _ := b.Store.Get(g, pb)
	ec, _ := c.Store.Get(g, pc)
	if ec.HLC <= eb.HLC {
		t.Fatalf("c's post (hlc %v) does not come after b's (%v), which c held", ec.HLC, eb.HLC)
	}
	arrives(b, c, pc, "c's post reaching b")

	pa, err := a.Post(g, group.Post{Text: "from a, 20 minutes fast"}, entry.ID{})
	if err != nil {
		t.Fatal(err)
	}
	if res := syncWith(b, a); res.Received != 0 || res.Refused != 1 {
		t.Fatalf("b syncing with a while a's post is 20 minutes ahead: %+v", res)
	}
	if res := syncWith(c, a); res.Received != 0 || res.Refused != 1 {
		t.Fatalf("c syncing with a while a's post is 25 minutes ahead: %+v", res)
	}
	if holds(b, pa) || holds(c, pa) {
		t.Fatal("a post from the future was stored")
	}
	for _, n := range []*Node{b, c} {
		if f := nets[n].bans.faultsOf(nets[a].Host.ID()); f != 0 || nets[n].Banned(nets[a].Host.ID()) {
			t.Fatalf("a charged %d faults for a fast clock", f)
		}
	}

	offB.Add(int64(11 * time.Minute))
	if res := syncWith(b, a); res.Received != 1 {
		t.Fatalf("b syncing with a once its clock moved on: %+v", res)
	}
	if holds(c, pa) {
		t.Fatal("c stored a's post while still 25 minutes behind it")
	}
	offC.Add(int64(16 * time.Minute))
	syncWith(c, a)
	syncWith(c, b)
	if !holds(c, pa) {
		t.Fatal("c lacks a's post once its clock moved on")
	}
	if da, db, dc := digest(t, a, g), digest(t, b, g), digest(t, c, g); da != db || db != dc {
		t.Fatalf("digests differ after the clocks moved on: %s %s %s", da, db, dc)
	}
}

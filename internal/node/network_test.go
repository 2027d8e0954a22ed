package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/proto/negentropy"
	"hearsay/internal/proto/score"
	"hearsay/internal/transport"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/network"
)

// TestJoinOverLibp2p: two nodes with stores on disk and real libp2p hosts on
// loopback; one joins the other's group over TCP, which makes them
// neighbours in the group's overlay: a write then travels by push, and the
// next sync finds nothing to move.
func TestJoinOverLibp2p(t *testing.T) {
	a, b := newNode(t, true), newNode(t, true)
	gen := openGenesis()
	gen.Write = group.WriteOpen
	g, _ := a.CreateGroup(gen)
	for range 20 {
		a.Post(g, group.Post{Text: "hello"}, entry.ID{})
	}
	na, nb := pairOnLoopback(t, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := nb.SyncWith(ctx, na.Addrs()[0], g)
	if err != nil || res.Received != 21 {
		t.Fatalf("join: %+v, %v", res, err)
	}
	post, err := b.Post(g, group.Post{Text: "from b"}, entry.ID{})
	if err != nil {
		t.Fatal(err)
	}
	// The store holds an ingested entry a moment before the reconciliation
	// index does (noteStored follows the commit): wait for both, or the
	// sync below may see a still lacking it.
	for {
		if e, err := a.Store.Get(g, post); err == nil && indexed(a, g, e) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("b's post was not pushed to a")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if res, err := nb.SyncWith(ctx, na.Addrs()[0], g); err != nil || res.Sent != 0 || res.Received != 0 {
		t.Fatalf("sync after the push: %+v, %v", res, err)
	}
	if digest(t, a, g) != digest(t, b, g) {
		t.Fatal("digests differ")
	}
}

// pairOnLoopback starts server's network, listening on loopback, and
// client's, which dials out only; both close when the test ends.
func pairOnLoopback(t *testing.T, server, client *Node) (*Network, *Network) {
	t.Helper()
	ns, err := server.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	nc, err := client.StartNetwork(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return ns, nc
}

// indexed reports whether n's reconciliation index of group g holds e.
func indexed(n *Node, g entry.ID, e *entry.Signed) bool {
	n.idx.mu.Lock()
	gi, ok := n.idx.trees[g]
	n.idx.mu.Unlock()
	if !ok {
		return false
	}
	gi.mu.Lock()
	defer gi.mu.Unlock()
	it := negentropy.Item{Timestamp: uint64(e.HLC), ID: e.ID}
	i := gi.tree.LowerBound(0, gi.tree.Size(), it)
	return i < gi.tree.Size() && gi.tree.Item(i) == it
}

// TestViolationsAreNoted: a peer that sends garbage on the sync protocol
// has the session closed and is counted; the node carries on.
func TestViolationsAreNoted(t *testing.T) {
	a, b := newNode(t, false), newNode(t, false)
	g, _ := a.CreateGroup(openGenesis())
	na, nb := pairOnLoopback(t, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := transport.Dial(ctx, nb.Host, na.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	s, err := transport.Open(ctx, nb.Host, p, wire.SyncProtocol)
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte{0x05, 0x7f, 1, 2, 3, 4}) // a frame holding an unknown message type
	io.ReadAll(s)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var broke int
		for _, pi := range na.Peers() {
			broke += pi.Violations
		}
		if broke == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the violation was not noted: %+v", na.Peers())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := nb.SyncWith(ctx, na.Addrs()[0], g); err != nil {
		t.Fatalf("the node stopped serving after a bad peer: %v", err)
	}
}

// rawSession opens a sync stream from nb's host to the node at addr, writes
// frames, and ends the stream as end says: "close" (a clean end), "reset",
// or "cut" (half a frame more, then the end: a peer killed mid-write). It
// waits for the server's side to end, for the server to have judged the
// session.
func rawSession(t *testing.T, nb *Network, addr string, frames [][]byte, end string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := transport.Dial(ctx, nb.Host, addr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := transport.Open(ctx, nb.Host, p, wire.SyncProtocol)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		wire.WriteFrame(s, f)
	}
	switch end {
	case "reset":
		time.Sleep(20 * time.Millisecond) // let the frames arrive first
		s.Reset()
		return
	case "cut":
		s.Write([]byte{0x40, 1, 2, 3}) // a frame of 64 bytes, 3 of them sent
	}
	s.CloseWrite()
	io.ReadAll(s)
	s.Close()
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNetworkFaultsAreNotCharged: sessions that end early, in every way a
// crash, a restart or a cancelled command ends them, on either side, cost
// the peer nothing; the next sync works.
func TestNetworkFaultsAreNotCharged(t *testing.T) {
	a, b := newNode(t, false), newNode(t, false)
	g, _ := a.CreateGroup(openGenesis())
	na, _ := a.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	defer na.Close()
	nb, _ := b.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	defer nb.Close()
	open := wire.Encode(wire.Open{Version: wire.Version, Group: g})
	for range 5 {
		for _, end := range []string{"close", "reset", "cut"} {
			rawSession(t, nb, na.Addrs()[0], nil, end)
			rawSession(t, nb, na.Addrs()[0], [][]byte{open}, end)
		}
	}
	// As the client: b's server reads the Open, then dies mid-answer.
	nb.Host.SetStreamHandler(wire.SyncProtocol, func(s network.Stream) {
		wire.ReadFrame(bufio.NewReader(s))
		s.Write([]byte{0x40, 0x02})
		s.Reset()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 5 {
		if _, err := na.SyncPeer(ctx, nb.Host.ID(), g); Classify(err) != FaultNetwork {
			t.Fatalf("a session whose server died: %v, classified %v", err, Classify(err))
		}
	}
	if na.Banned(nb.Host.ID()) || na.bans.faultsOf(nb.Host.ID()) != 0 {
		t.Fatalf("an honest peer charged %d faults", na.bans.faultsOf(nb.Host.ID()))
	}
	nb.Host.RemoveStreamHandler(wire.SyncProtocol)
	if res, err := nb.SyncWith(ctx, na.Addrs()[0], g); err != nil || res.Received != 1 {
		t.Fatalf("sync after the faults: %+v, %v", res, err)
	}
}

// TestMisbehaviourIsBannedEverywhere: a peer that sends a malformed
// frame, an entry with a bad signature and a message out of turn is
// banned: disconnected, its connections and sync sessions refused, left
// out of anti-entropy; the ban is saved in the home and holds after a
// restart.
func TestMisbehaviourIsBannedEverywhere(t *testing.T) {
	a, b := newNode(t, false), newNode(t, false)
	g, _ := a.CreateGroup(openGenesis())
	na, _ := a.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	nb, _ := b.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	defer nb.Close()
	bad := nb.Host.ID()
	gen, err := a.Store.Get(g, g)
	if err != nil {
		t.Fatal(err)
	}
	forged := append([]byte(nil), gen.Raw...)
	forged[len(forged)-1] ^= 1 // the signature's last byte
	if e, err := entry.Decode(forged); err != nil || !errors.Is(e.Verify(), entry.ErrBadSignature) {
		t.Fatalf("the forged entry: %v", err)
	}
	open := wire.Encode(wire.Open{Version: wire.Version, Group: g})
	for i, frames := range [][][]byte{
		{{0x7f, 1, 2}}, // an unknown message type
		{open, wire.Encode(wire.Put{Raws: [][]byte{forged}})},
		{open, wire.Encode(wire.Ack{})}, // a server's message, sent to the server
	} {
		rawSession(t, nb, na.Addrs()[0], frames, "close")
		want := i + 1
		waitUntil(t, fmt.Sprintf("fault %d charged", want), func() bool { return na.bans.faultsOf(bad) == want })
	}
	waitUntil(t, "the banned peer disconnected", func() bool { return na.Host.Network().Connectedness(bad) != network.Connected })
	if !na.Banned(bad) {
		t.Fatal("not banned after three misbehaviours")
	}
	if n, charged := na.Bans(); n != 1 || len(charged) != 3 || charged[FaultMalformed] != 1 || charged[FaultBadSignature] != 1 || charged[FaultOutOfTurn] != 1 {
		t.Fatalf("bans reported: %d banned, charged %v", n, charged)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := nb.SyncWith(ctx, na.Addrs()[0], g); err == nil {
		t.Fatal("the banned peer synced")
	}
	if _, err := na.SyncPeer(ctx, bad, g); !errors.Is(err, ErrBanned) {
		t.Fatalf("a sync with the banned peer: %v", err)
	}
	na.Remember(nb.Addrs())
	var picked []string
	na.Round(ctx, func(p, _ string, _ SyncResult, _ error) { picked = append(picked, p) })
	if len(picked) != 0 {
		t.Fatalf("anti-entropy picked %v", picked)
	}
	waitUntil(t, "the ban saved", func() bool { return len(a.Home.Bans()) > 0 })
	saved := a.Home.Bans()
	if len(saved) != 1 || saved[0].Peer != bad.String() || !saved[0].Until.Equal(fixedNow().Add(scoreParams.BanFor)) {
		t.Fatalf("bans.json: %+v", saved)
	}
	na.Close()
	na, err = a.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer na.Close()
	if !na.Banned(bad) {
		t.Fatal("the ban did not survive a restart")
	}
	if _, err := transport.Dial(ctx, nb.Host, na.Addrs()[0]); err == nil {
		waitUntil(t, "the banned peer refused after the restart", func() bool { return na.Host.Network().Connectedness(bad) != network.Connected })
	}
}

// TestInadmissibleEntriesWeighAQuarter: a peer that pushes, in each of its
// sessions, a validly signed post its author may not write (no member) is
// charged once per session (0.25) and the session goes on; at the ninth
// (-2.25) it is graylisted: its sessions are refused, each one it comes
// back with is a flood (0.25 more), and the twelfth charge bans it.
func TestInadmissibleEntriesWeighAQuarter(t *testing.T) {
	a, b := newNode(t, false), newNode(t, false)
	g, _ := a.CreateGroup(openGenesis()) // members write: b is none
	na, nb := pairOnLoopback(t, a, b)
	body, _ := group.EncodePost(group.Post{Text: "not mine to write"})
	post, err := entry.Sign(entry.Entry{Group: g, Author: b.Home.Author, Seq: 1, HLC: hlc.FromTime(fixedNow().Add(time.Second)),
		Kind: group.KindPost, Body: body}, b.Home.Key)
	if err != nil {
		t.Fatal(err)
	}
	frames := [][]byte{wire.Encode(wire.Open{Version: wire.Version, Group: g}), wire.Encode(wire.Put{Raws: [][]byte{post.Raw}})}
	for i := 1; i <= 9; i++ {
		if na.graylisted(nb.Host.ID()) {
			t.Fatalf("graylisted after %d sessions", i-1)
		}
		rawSession(t, nb, na.Addrs()[0], frames, "close")
		waitUntil(t, fmt.Sprintf("session %d charged", i), func() bool { return na.bans.faultsOf(nb.Host.ID()) >= i })
	}
	// The sessions put b in a's overlay of the group (a meets a peer it
	// synced with), and b's answer to a's join, if it comes once b is
	// graylisted, counts as going on while ignored: a flood, which may be
	// charged before the checks below. What they weigh is the
	// inadmissible part.
	if lv := na.bans.level(nb.Host.ID(), na.n.now()); lv != score.Graylisted {
		t.Fatalf("after nine sessions of inadmissible entries: %v, want graylisted", lv)
	}
	listed := slices.IndexFunc(na.Peers(), func(pi PeerInfo) bool { return pi.ID == nb.Host.ID().String() })
	pi := na.Peers()[max(listed, 0)]
	flood := pi.Parts["flood"]
	if listed < 0 || pi.Level != "graylisted" || pi.Parts["inadmissible"] != -2.25 || pi.Score != -2.25+flood ||
		len(pi.Parts) != map[bool]int{true: 1, false: 2}[flood == 0] || flood < -0.25 {
		t.Fatalf("the peer as `peers` lists it (at %d): %+v", listed, na.Peers())
	}
	for i := 10; i <= 12 && !na.Banned(nb.Host.ID()); i++ {
		if p, err := transport.Dial(context.Background(), nb.Host, na.Addrs()[0]); err == nil {
			if s, err := transport.Open(context.Background(), nb.Host, p, wire.SyncProtocol); err == nil {
				wire.WriteFrame(s, frames[0])
				io.ReadAll(s) // refused: reset unanswered
				s.Close()
			}
		}
		waitUntil(t, fmt.Sprintf("session %d charged", i), func() bool { return na.bans.faultsOf(nb.Host.ID()) >= i })
	}
	if !na.Banned(nb.Host.ID()) {
		t.Fatal("not banned after twelve charges")
	}
	if _, charged := na.Bans(); charged[FaultInadmissible] != 9 || charged[FaultFlood] == 0 {
		t.Fatalf("charged %v, want 9 inadmissible sessions and floods", charged)
	}
	if _, err := a.Store.Get(g, post.ID); err == nil {
		t.Fatal("the inadmissible post was stored")
	}
}

// TestEachEntryVerifiedOnce: the entries a joiner fetches and the one a
// peer pushes are each verified once in the process, however many layers
// (gossip's check, admission, the sync that follows) see them; what a node
// writes itself is not verified at all.
func TestEachEntryVerifiedOnce(t *testing.T) {
	a, b := newNode(t, true), newNode(t, true)
	gen := openGenesis()
	gen.Write = group.WriteOpen
	before := entry.Verifications()
	g, _ := a.CreateGroup(gen)
	for range 20 {
		a.Post(g, group.Post{Text: "hello"}, entry.ID{})
	}
	if n := entry.Verifications() - before; n != 0 {
		t.Fatalf("writing 21 entries verified %d signatures", n)
	}
	na, nb := pairOnLoopback(t, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if res, err := nb.SyncWith(ctx, na.Addrs()[0], g); err != nil || res.Received != 21 {
		t.Fatalf("join: %+v, %v", res, err)
	}
	if n := entry.Verifications() - before; n != 21 {
		t.Fatalf("joining with 21 entries verified %d signatures", n)
	}
	post, err := b.Post(g, group.Post{Text: "from b"}, entry.ID{})
	if err != nil {
		t.Fatal(err)
	}
	// In a's store and in its reconciliation index, which follows the
	// commit (see TestJoinOverLibp2p).
	waitUntil(t, "b's post pushed to a", func() bool { e, err := a.Store.Get(g, post); return err == nil && indexed(a, g, e) })
	if res, err := nb.SyncWith(ctx, na.Addrs()[0], g); err != nil || res.Sent != 0 || res.Received != 0 {
		t.Fatalf("sync after the push: %+v, %v", res, err)
	}
	// Pushing the same entries again (as a second neighbour would) verifies
	// nothing: they are held.
	raws := [][]byte{}
	a.Store.Log(g, func(e *entry.Signed) bool { raws = append(raws, e.Raw); return true })
	if outs, _ := b.ingest(raws); len(outs) != 22 || !outs[0].Duplicate {
		t.Fatalf("again: %d outcomes", len(outs))
	}
	if n := entry.Verifications() - before; n != 22 {
		t.Fatalf("21 entries fetched and one pushed: %d signatures verified", n)
	}
}

// TestOverQuotaChargesOnlyItsAuthor: an entry over its author's quota is
// refused whoever sends it, but only its author is charged for it: an
// honest relay, whose replica filled the quota with other entries, sends
// such entries too (docs/security.md, the sybil plan).
func TestOverQuotaChargesOnlyItsAuthor(t *testing.T) {
	a, relay, author := newNode(t, false), newNode(t, false), newNode(t, false)
	gen := openGenesis()
	gen.Write = group.WriteOpen
	gen.Quota.EntriesPerDay = 1
	g, err := a.CreateGroup(gen)
	if err != nil {
		t.Fatal(err)
	}
	na, _ := a.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	defer na.Close()
	nr, _ := relay.StartNetwork(nil)
	defer nr.Close()
	nc, _ := author.StartNetwork(nil)
	defer nc.Close()
	var posts [][]byte
	for seq := uint64(1); seq <= 3; seq++ {
		body, _ := group.EncodePost(group.Post{Text: fmt.Sprint("post ", seq)})
		post, err := entry.Sign(entry.Entry{Group: g, Author: author.Home.Author, Seq: seq, HLC: hlc.FromTime(fixedNow().Add(time.Duration(seq) * time.Second)),
			Kind: group.KindPost, Body: body}, author.Home.Key)
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, post.Raw)
	}
	open := wire.Encode(wire.Open{Version: wire.Version, Group: g})
	rawSession(t, nr, na.Addrs()[0], [][]byte{open, wire.Encode(wire.Put{Raws: posts[:2]})}, "close")
	waitUntil(t, "the relay's entries admitted", func() bool { n, _ := a.Store.Count(g); return n == 2 })
	rawSession(t, nc, na.Addrs()[0], [][]byte{open, wire.Encode(wire.Put{Raws: posts[2:]})}, "close")
	waitUntil(t, "the author charged", func() bool { return na.bans.faultsOf(nc.Host.ID()) == 1 })
	if n := na.bans.faultsOf(nr.Host.ID()); n != 0 {
		t.Fatalf("the relay was charged %d times for its author's entry over quota", n)
	}
	if n, _ := a.Store.Count(g); n != 2 {
		t.Fatalf("a holds %d entries, want the genesis and one post", n)
	}
}

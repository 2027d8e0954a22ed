package node

import (
	"context"
	"io"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/transport"
	"hearsay/internal/wire"
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
	na, err := a.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer na.Close()
	nb, err := b.StartNetwork(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nb.Close()
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
	for {
		if _, err := a.Store.Get(g, post); err == nil {
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

// TestViolationsAreNoted: a peer that sends garbage on the sync protocol
// has the session closed and is counted; the node carries on.
func TestViolationsAreNoted(t *testing.T) {
	a, b := newNode(t, false), newNode(t, false)
	g, _ := a.CreateGroup(openGenesis())
	na, _ := a.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	defer na.Close()
	nb, _ := b.StartNetwork(nil)
	defer nb.Close()
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

package node

import (
	"context"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// TestJoinOverLibp2p: two nodes with stores on disk and real libp2p hosts on
// loopback; one joins the other's group over TCP, then both write and sync
// again.
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
	b.Post(g, group.Post{Text: "from b"}, entry.ID{})
	if res, err := nb.SyncWith(ctx, na.Addrs()[0], g); err != nil || res.Sent != 1 {
		t.Fatalf("push: %+v, %v", res, err)
	}
	if digest(t, a, g) != digest(t, b, g) {
		t.Fatal("digests differ")
	}
}

package node

import (
	"context"
	"crypto/ed25519"
	"strings"
	"sync"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/transport"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestBackoffDoubles(t *testing.T) {
	var b backoffs
	p := transportPeer(t, 9)
	t0 := time.Unix(1_800_000_000, 0)
	if !b.failed(p, t0) {
		t.Fatal("the first failure does not start a streak")
	}
	if !b.waiting(p, t0.Add(dialBackoffMin-time.Millisecond)) || b.waiting(p, t0.Add(dialBackoffMin)) {
		t.Fatal("the first backoff is not dialBackoffMin")
	}
	if b.failed(p, t0) {
		t.Fatal("a second failure started a new streak")
	}
	if !b.waiting(p, t0.Add(2*dialBackoffMin-time.Millisecond)) {
		t.Fatal("the second backoff did not double")
	}
	for range 30 {
		b.failed(p, t0)
	}
	if b.waiting(p, t0.Add(dialBackoffMax)) {
		t.Fatal("the backoff passed dialBackoffMax")
	}
	b.reached(p)
	if b.waiting(p, t0) {
		t.Fatal("a peer reached is still backing off")
	}
}

func transportPeer(t *testing.T, seed byte) peer.ID {
	t.Helper()
	seedBytes := make([]byte, ed25519.SeedSize)
	seedBytes[0] = seed
	k := ed25519.NewKeyFromSeed(seedBytes)
	p, err := transport.PeerID(k.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A restarted node that remembers an offline peer still syncs with a live
// one within a round, and reports the offline one once, not every round.
func TestOfflinePeerNeitherStallsNorFloods(t *testing.T) {
	a, b := newNode(t, true), newNode(t, true)
	gen := openGenesis()
	gen.Write = group.WriteOpen
	g, _ := a.CreateGroup(gen)
	a.Post(g, group.Post{Text: "hello"}, entry.ID{})
	na, err := a.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer na.Close()
	nb, err := b.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer nb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := nb.SyncWith(ctx, na.Addrs()[0], g); err != nil {
		t.Fatal(err)
	}
	// b remembers a peer that listens nowhere (a closed port).
	dead := transportPeer(t, 3)
	if err := nb.Remember([]string{"/ip4/127.0.0.1/tcp/1/p2p/" + dead.String()}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var deadReports int
	report := func(p, _ string, _ SyncResult, err error) {
		mu.Lock()
		defer mu.Unlock()
		if p == dead.String() && err != nil {
			deadReports++
			if !strings.Contains(err.Error(), "unreachable") || strings.Contains(err.Error(), "\n") {
				t.Errorf("the offline peer's report: %q", err)
			}
		}
	}
	post, _ := a.Post(g, group.Post{Text: "while b runs"}, entry.ID{})
	rctx, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		nb.Run(rctx, nil, 100*time.Millisecond, report)
	}()
	waitUntil(t, "b syncing a's post", func() bool { _, err := b.Store.Get(g, post); return err == nil })
	<-done
	mu.Lock()
	defer mu.Unlock()
	if deadReports != 1 {
		t.Fatalf("the offline peer was reported %d times in ~20 rounds, want once", deadReports)
	}
}

package node

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestSessionRates: a peer gets its burst of sessions, then is refused
// until its bucket refills, and is charged once per ChargeEvery however
// often it asks; a group's excess is refused, charged to nobody, and takes
// nothing from the peer's bucket.
func TestSessionRates(t *testing.T) {
	t0 := fixedNow()
	l := newSessionLimits(SessionRates{PeerRate: 1, PeerBurst: 3, GroupRate: 1, GroupBurst: 100, ChargeEvery: 30 * time.Second})
	p, g := peer.ID("p"), entry.ID{1}
	for i := range 3 {
		if charge, err := l.allow(p, g, t0); err != nil || charge {
			t.Fatalf("session %d of the burst: %v, charged %v", i+1, err, charge)
		}
	}
	charges := 0
	for range 10 {
		charge, err := l.allow(p, g, t0.Add(100*time.Millisecond))
		if !errors.Is(err, errBusy) {
			t.Fatalf("beyond the burst: %v", err)
		}
		if charge {
			charges++
		}
	}
	if charges != 1 {
		t.Fatalf("charged %d times in a burst of refusals, want once", charges)
	}
	if _, err := l.allow(p, g, t0.Add(1100*time.Millisecond)); err != nil {
		t.Fatalf("a second later, a token came back: %v", err)
	}
	if charge, err := l.allow(p, g, t0.Add(31*time.Second)); err != nil || charge {
		t.Fatalf("refilled: %v, charged %v", err, charge)
	}

	l = newSessionLimits(SessionRates{PeerRate: 1, PeerBurst: 2, GroupRate: 1, GroupBurst: 1, ChargeEvery: time.Second})
	if _, err := l.allow("a", g, t0); err != nil {
		t.Fatal(err)
	}
	if charge, err := l.allow("b", g, t0); !errors.Is(err, errBusy) || charge {
		t.Fatalf("over the group's rate: %v, charged %v", err, charge)
	}
	for i := range 2 {
		if _, err := l.allow("b", entry.ID{byte(2 + i)}, t0); err != nil {
			t.Fatalf("b's session %d in another group: %v (the refusal took its token)", i+1, err)
		}
	}
}

// TestSessionBucketsAreBounded: peers beyond maxSessionBuckets make room
// by dropping idle buckets, and the maps never grow past the bound.
func TestSessionBucketsAreBounded(t *testing.T) {
	t0 := fixedNow()
	l := newSessionLimits(DefaultSessionRates())
	for i := range 3 * maxSessionBuckets {
		l.allow(peer.ID(fmt.Sprint(i)), entry.ID{byte(i), byte(i >> 8)}, t0.Add(time.Duration(i)*time.Millisecond))
		if len(l.peers) > maxSessionBuckets || len(l.groups) > maxSessionBuckets {
			t.Fatalf("after %d peers: %d peer buckets, %d group buckets", i+1, len(l.peers), len(l.groups))
		}
	}
}

// TestBusyServerRefusesByCode: over libp2p, a server past a peer's session
// rate answers Err code 5; the client takes it as a refusal (nothing
// charged to the server), and the server charges the client a Flood once.
func TestBusyServerRefusesByCode(t *testing.T) {
	a, b := newNode(t, false), newNode(t, false)
	g, _ := a.CreateGroup(openGenesis())
	na, err := a.StartNetworkWith(NetConfig{Listen: []string{"/ip4/127.0.0.1/tcp/0"},
		Sessions: &SessionRates{PeerRate: 0.001, PeerBurst: 2, GroupRate: 100, GroupBurst: 100, ChargeEvery: time.Hour}})
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
	if _, err := nb.SyncWith(ctx, na.Addrs()[0], g); err != nil {
		t.Fatal(err)
	}
	if _, err := nb.SyncPeer(ctx, na.Host.ID(), g); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, err := nb.SyncPeer(ctx, na.Host.ID(), g)
		var r *Refused
		if !errors.As(err, &r) || r.Code != wire.CodeBusy {
			t.Fatalf("session %d past the burst: %v, want a refusal of code %d", i+3, err, wire.CodeBusy)
		}
	}
	if n := na.bans.faultsOf(nb.Host.ID()); n != 1 {
		t.Fatalf("the server charged the client %d times, want once", n)
	}
	if _, charged := na.Bans(); charged[FaultFlood] != 1 {
		t.Fatalf("the server charged %v", charged)
	}
	if n := nb.bans.faultsOf(na.Host.ID()); n != 0 {
		t.Fatalf("the client charged the busy server %d times", n)
	}
}

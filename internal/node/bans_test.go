package node

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"hearsay/internal/proto/score"
	"hearsay/internal/transport"

	"github.com/libp2p/go-libp2p/core/peer"
)

func testPeer(t testing.TB, seed byte) peer.ID {
	t.Helper()
	key, _ := newKey(seed)
	p, err := transport.PeerID(key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestBanAfterThreeMisbehaviours: three severe faults in a row ban a
// peer for scoreParams.BanFor; the ban expires; the next one lasts twice as long.
// Network faults and refusals never ban, however many.
func TestBanAfterThreeMisbehaviours(t *testing.T) {
	b, p := newBans(), testPeer(t, 1)
	for range 1000 {
		b.charge(p, FaultNetwork, t0)
		b.charge(p, FaultRefusal, t0)
	}
	if b.banned(p, t0) || b.faultsOf(p) != 0 {
		t.Fatalf("banned or charged for network faults: %d", b.faultsOf(p))
	}
	for i, f := range []Fault{FaultMalformed, FaultOutOfTurn, FaultBadSignature} {
		v := b.charge(p, f, t0)
		banned, until := v.NewBan, v.Until
		if last := i == 2; banned != last || last && !until.Equal(t0.Add(scoreParams.BanFor)) {
			t.Fatalf("after %d: banned %v until %v", i+1, banned, until)
		}
	}
	if !b.banned(p, t0.Add(scoreParams.BanFor-time.Second)) || b.banned(p, t0.Add(scoreParams.BanFor)) {
		t.Fatal("the ban does not last exactly scoreParams.BanFor")
	}
	if b.charge(p, FaultMalformed, t0.Add(time.Minute)).NewBan {
		t.Fatal("a banned peer banned again")
	}
	again := t0.Add(scoreParams.BanFor)
	for range 3 {
		b.charge(p, FaultMalformed, again)
	}
	if !b.banned(p, again.Add(2*scoreParams.BanFor-time.Second)) || b.banned(p, again.Add(2*scoreParams.BanFor)) {
		t.Fatal("the second ban does not last twice as long")
	}
}

// TestScoresDecay: misbehaviour far apart does not add up; inadmissible
// entries weigh a quarter.
func TestScoresDecay(t *testing.T) {
	b, p := newBans(), testPeer(t, 2)
	b.charge(p, FaultMalformed, t0)
	b.charge(p, FaultMalformed, t0)
	later := t0.Add(3 * scoreParams.HalfLife[score.Invalid]) // 2 → 0.25
	if b.charge(p, FaultMalformed, later).NewBan {
		t.Fatal("banned for faults half an hour apart")
	}
	q := testPeer(t, 3)
	for i := range 12 {
		if banned := b.charge(q, FaultInadmissible, t0).NewBan; banned != (i == 11) {
			t.Fatalf("inadmissible %d: banned %v", i+1, banned)
		}
	}
}

// TestBansAreBoundedAndPersist: the policy remembers at most scoreParams.MaxPeers
// peers, forgetting the least suspect first; what it lists loads back.
func TestBansAreBoundedAndPersist(t *testing.T) {
	b := newBans()
	bad := testPeer(t, 4)
	for range 3 {
		b.charge(bad, FaultMalformed, t0)
	}
	for i := range scoreParams.MaxPeers + 10 {
		b.charge(peer.ID(fmt.Sprint("p", i)), FaultInadmissible, t0)
	}
	if b.table.Len() > scoreParams.MaxPeers || !b.banned(bad, t0) {
		t.Fatalf("%d standings, banned peer kept %v", b.table.Len(), b.banned(bad, t0))
	}
	saved := b.list(t0)
	if len(saved) != 1 || saved[0].Peer != bad.String() || saved[0].Count != 1 {
		t.Fatalf("listed %+v", saved)
	}
	again := newBans()
	again.load(saved, t0.Add(time.Minute))
	if !again.banned(bad, t0.Add(time.Minute)) || again.banned(bad, t0.Add(scoreParams.BanFor)) {
		t.Fatal("a loaded ban does not hold until its end")
	}
	for range 3 {
		again.charge(bad, FaultMalformed, t0.Add(scoreParams.BanFor))
	}
	if !again.banned(bad, t0.Add(scoreParams.BanFor).Add(2*scoreParams.BanFor-time.Second)) {
		t.Fatal("the count of bans was not kept across the load")
	}
	old := newBans()
	old.load(saved, t0.Add(scoreParams.BanFor+scoreParams.ForgetAfter))
	if old.table.Len() != 0 {
		t.Fatal("a ban long over was loaded")
	}
}

// TestCoreChargesKeepTheirPart: what a group's core charges (a broken
// promise: proto/topic's Fault.Part) counts in the part the core names, as
// in the simulator, under a fault of its own for /metrics.
func TestCoreChargesKeepTheirPart(t *testing.T) {
	for _, pt := range []score.Part{score.Promises, score.Flood} {
		f := coreFault(pt)
		if got, ok := part(f); !ok || got != pt || !f.Misbehaviour() {
			t.Errorf("%s: fault %s counts in %v (%v)", pt, f, got, ok)
		}
	}
	b := newBans()
	p := testPeer(t, 9)
	for range 3 {
		b.charge(p, coreFault(score.Promises), t0)
	}
	if st := b.standing(p, t0); st.Level != score.NoGossip || st.Parts[score.Promises] != -0.75 {
		t.Fatalf("three broken promises: %+v, want no-gossip at -0.75 in promises", st)
	}
}

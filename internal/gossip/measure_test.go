package gossip

import (
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestRTTSamplesAreBounded: a node that measures more peers than maxRTTs
// within rttFresh keeps maxRTTs samples, forgetting the oldest; stale ones
// go first.
func TestRTTSamplesAreBounded(t *testing.T) {
	g := &Gossip{rtts: map[peer.ID]rttSample{}}
	t0 := time.Unix(1_700_000_000, 0)
	for i := range maxRTTs + 10 {
		g.keepRTT(peer.ID(fmt.Sprint(i)), time.Millisecond, t0.Add(time.Duration(i)*time.Millisecond))
	}
	if len(g.rtts) != maxRTTs {
		t.Fatalf("%d samples, bound %d", len(g.rtts), maxRTTs)
	}
	if _, ok := g.rtts["0"]; ok {
		t.Fatal("the oldest sample was kept")
	}
	if _, ok := g.rtts[peer.ID(fmt.Sprint(maxRTTs+9))]; !ok {
		t.Fatal("the newest sample was dropped")
	}
	g.keepRTT("late", time.Millisecond, t0.Add(rttFresh+2*time.Second))
	if len(g.rtts) != 1 {
		t.Fatalf("stale samples kept: %d", len(g.rtts))
	}
}

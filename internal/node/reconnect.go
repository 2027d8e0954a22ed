package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Reconnecting. A restarted node knows its peers from <home>/peers.json,
// some of them offline. It dials them all at once (at most redialers at a
// time, each for redialTimeout), and a peer that does not answer is tried
// again after a backoff that doubles from dialBackoffMin to dialBackoffMax;
// anti-entropy picks among connected peers when there are any, and among
// those not backing off when there are none. So one offline peer neither
// holds up the others nor fills the log: its first failure is reported,
// not every retry.
const (
	redialers      = 8
	redialTimeout  = 5 * time.Second
	dialBackoffMin = 5 * time.Second
	dialBackoffMax = 10 * time.Minute
)

// dialBackoff is a peer's streak of failed dials.
type dialBackoff struct {
	failures int
	until    time.Time
}

// backoffs holds the known peers' streaks; it is bounded by the known peers.
type backoffs struct {
	mu    sync.Mutex
	peers map[peer.ID]*dialBackoff
}

// failed records a failed dial of p and reports whether it starts a streak.
func (b *backoffs) failed(p peer.ID, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.peers == nil {
		b.peers = map[peer.ID]*dialBackoff{}
	}
	d := b.peers[p]
	if d == nil {
		d = &dialBackoff{}
		b.peers[p] = d
	}
	d.failures++
	wait := dialBackoffMin << min(d.failures-1, 16)
	d.until = now.Add(min(wait, dialBackoffMax))
	return d.failures == 1
}

// reached ends p's streak.
func (b *backoffs) reached(p peer.ID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.peers, p)
}

// waiting reports whether p is backing off at now.
func (b *backoffs) waiting(p peer.ID, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.peers[p]
	return d != nil && now.Before(d.until)
}

// redial dials, in parallel, the known peers that are neither connected,
// banned nor backing off, and returns when every dial has ended. One runs
// at a time: a call while one runs does nothing.
func (nw *Network) redial(ctx context.Context, report Report) {
	if !nw.redialing.CompareAndSwap(false, true) {
		return
	}
	defer nw.redialing.Store(false)
	now := time.Now()
	var todo []peer.ID
	for _, p := range nw.Known() {
		if nw.Host.Network().Connectedness(p) != network.Connected && !nw.Banned(p) && !nw.dials.waiting(p, now) {
			todo = append(todo, p)
		}
	}
	slots := make(chan struct{}, redialers)
	var wg sync.WaitGroup
	for _, p := range todo {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			dctx, cancel := context.WithTimeout(ctx, redialTimeout)
			defer cancel()
			_, err := nw.Host.Network().DialPeer(dctx, p)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				nw.dials.reached(p)
			} else if nw.dials.failed(p, time.Now()) {
				report(p.String(), "", SyncResult{}, fmt.Errorf("unreachable (retrying with backoff, quietly): %s", firstLine(err)))
			}
		})
	}
	wg.Wait()
}

// syncCandidates are the peers anti-entropy may pick: the connected known
// peers, or when none is, the known ones not backing off.
func (nw *Network) syncCandidates() []peer.ID {
	known := slices.DeleteFunc(nw.Known(), nw.Banned)
	connected := slices.DeleteFunc(slices.Clone(known), func(p peer.ID) bool {
		return nw.Host.Network().Connectedness(p) != network.Connected
	})
	if len(connected) > 0 {
		return connected
	}
	now := time.Now()
	return slices.DeleteFunc(known, func(p peer.ID) bool { return nw.dials.waiting(p, now) })
}

// firstLine is an error's first line: libp2p lists every address it tried.
func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

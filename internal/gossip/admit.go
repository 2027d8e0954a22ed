package gossip

import (
	"slices"

	"hearsay/internal/entry"
	"hearsay/internal/proto/plumtree"
	"hearsay/internal/proto/topic"

	"github.com/libp2p/go-libp2p/core/peer"
)

// pushed is a Gossip message waiting for the node to admit its entry.
type pushed struct {
	st   *groupState
	from peer.ID
	msg  plumtree.Gossip
	e    *entry.Signed // msg.Payload decoded, or nil: admission decodes it
}

// admitLater queues a push for admission. REQUIRES: g.mu held.
func (g *Gossip) admitLater(p pushed) {
	g.dmu.Lock()
	if g.pendingN+len(p.msg.Payload) > g.cfg.DeliverBytes {
		g.dmu.Unlock()
		g.stats.Dropped++
		return
	}
	g.pending = append(g.pending, p)
	g.pendingN += len(p.msg.Payload)
	g.dmu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// admitLoop hands queued pushes to the node in batches, so that a burst is
// stored in one commit, each entry once however many peers pushed it; then
// it feeds the cores the verdicts, in arrival order, so that the first
// admitted copy is forwarded and the later ones prune.
func (g *Gossip) admitLoop() {
	defer g.workers.Done()
	for {
		select {
		case <-g.stop:
			return
		case <-g.wake:
		}
		g.dmu.Lock()
		batch := g.pending
		g.pending, g.pendingN = nil, 0
		g.dmu.Unlock()
		if len(batch) == 0 {
			continue
		}
		var pushes []Push
		first := map[plumtree.MessageID]int{} // bounded by the batch
		of := make([]int, len(batch))
		for i, b := range batch {
			k, ok := first[b.msg.ID]
			if !ok {
				k = len(pushes)
				first[b.msg.ID] = k
				pushes = append(pushes, Push{Raw: b.msg.Payload, Entry: b.e})
			}
			if !slices.Contains(pushes[k].From, b.from) {
				pushes[k].From = append(pushes[k].From, b.from)
			}
			of[i] = k
		}
		admitted := g.hd.Admit(pushes)
		g.mu.Lock()
		for i, b := range batch {
			var v Verdict
			if of[i] < len(admitted) {
				v = admitted[of[i]]
			}
			if !v.OK {
				g.stats.Refused++
			}
			if !g.closed && g.groups[b.st.id] == b.st {
				g.step(b.st, topic.Admitted{From: topic.PeerID(b.from), Msg: b.msg, OK: v.OK, Future: v.Future})
			}
		}
		g.mu.Unlock()
	}
}

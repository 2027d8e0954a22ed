// Package gossip runs each group's core (proto/topic: the overlay, the
// broadcast and the peer policy over them) over libp2p streams: the same
// core the simulator drives, fed one input at a time under one lock, with
// its sends put on per-peer queues, its timers on the wall clock, and its
// requests for admission, reconciliation and contacts passed to the node.
//
// Each peer gets one outbound stream of the gossip protocol, opened on the
// first message and kept; what arrives on a peer's inbound streams is checked
// before any core sees it: the frame decodes, named peers are valid peer ids,
// and a pushed entry decodes, belongs to the group and has the id it is sent
// under. A pushed entry the broadcast has not seen yet then waits for the
// node to admit it (signature, group rules, quota: Handler.Admit, which
// verifies each entry once) before the broadcast sees it (the core's Admit
// and Admitted), as
// GossipSub's validation step does: a node forwards only what it stored,
// and the node knows who sent each entry it refused. A peer that breaks the
// format is reported and its stream reset.
package gossip

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
	"hearsay/internal/proto/topic"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/time/rate"
)

// Handler is the node behind the gossip: what it stores and serves.
type Handler interface {
	// Serves reports whether the node replicates group g: gossip for any
	// other group is turned away.
	Serves(g entry.ID) bool
	// Payload reads a stored entry of g, to answer a graft. It is called
	// without the gossip lock held, as Serves is.
	Payload(g, id entry.ID) ([]byte, bool)
	// Admit stores pushed entries the broadcast has not seen yet, in
	// arrival order, with full admission, and reports its verdict on each:
	// only those stored are forwarded. The node charges what it refused to
	// the peers that sent it. Calls are sequential.
	Admit(pushes []Push) []Verdict
	// Contacts finds members of g outside its overlay (the DHT), best
	// first, for an overlay alone or on an island that knows no member to
	// meet (the core's FindContacts). It is called without the lock, at
	// most once at a time per group.
	Contacts(g entry.ID) []peer.ID
	// Violation reports the error that ended a peer's inbound stream, a
	// malformed message or a failure of the stream, for the node to
	// classify and charge; and what a group's core charged the peer with
	// (a Misbehaved, the core's topic.Charge). It is called without the
	// lock.
	Violation(p peer.ID, err error)
	// Pushes reports whether entries and IHaves may be pushed to p (the
	// node says no while p's score is below its gossip threshold); other
	// messages still go.
	Pushes(p peer.ID) bool
	// Banned reports whether p is banned: nothing is sent to it, and what
	// it sends is ignored. The cores learn bans from Ban; this check holds
	// at the streams, and tells a core of a ban it missed (a group made
	// after it).
	Banned(p peer.ID) bool
}

// Config sets the cores and the queues.
type Config struct {
	Core topic.Config
	// QueueLen bounds the messages waiting for one peer's stream; beyond
	// it, new ones are dropped and counted: the broadcast's grafts and
	// anti-entropy repair what is lost.
	QueueLen int
	// DeliverBytes bounds the payloads waiting for admission, likewise.
	DeliverBytes int
	// DialTimeout bounds opening a stream to a peer.
	DialTimeout time.Duration
	// Rates bound the messages taken per peer and per group (limits.go).
	Rates Rates
	// ChargeQueue bounds the cores' charges waiting to be reported to the
	// node (Misbehaved); beyond it they are dropped and counted.
	ChargeQueue int
	// ShareLinks has each group prefer, as neighbours, the peers linked to
	// for another (links.go); off, each group's overlay chooses alone and
	// no Holds are sent or heeded, so that what sharing saves can be
	// measured on real nodes.
	ShareLinks bool
}

// DefaultConfig uses the cores' defaults.
func DefaultConfig() Config {
	return Config{Core: topic.DefaultConfig(), QueueLen: 4096, DeliverBytes: 64 << 20, DialTimeout: 10 * time.Second, Rates: DefaultRates(),
		ChargeQueue: 256, ShareLinks: true}
}

// bannedRecheck is how long a core holds a ban it learned from
// Handler.Banned rather than from Ban: the handler is asked again then.
const bannedRecheck = time.Minute

// addrTTL is how long addresses learned from the overlay stay in the
// peerstore: longer than a shuffle period, so passive peers stay dialable.
const addrTTL = 30 * time.Minute

// Stats counts messages sent and received since start.
type Stats struct {
	PayloadSent, PayloadBytesSent int64           // Gossip messages (entries pushed)
	ControlSent, ControlBytesSent int64           // everything else
	ControlByKind                 [numKinds]int64 // ControlSent by kind (ControlKinds)
	PayloadReceived               int64
	Delivered                     int64 // payloads received for the first time
	Refused                       int64 // pushed entries the node refused: not forwarded
	RateLimited                   int64 // messages dropped beyond the rates, per peer or per group
	Dropped                       int64 // messages (and the cores' charges) dropped on full queues
}

// Push is an entry pushed to this node, and the peers that pushed it
// while it waited for admission.
type Push struct {
	From []peer.ID
	Raw  []byte
	// Entry is Raw decoded (entry.Decode), as the gossip layer checked
	// it: its signature is not verified yet.
	Entry *entry.Signed
}

// Verdict is the node's admission of one push.
type Verdict struct {
	// OK: the entry is stored (now, or already), and is forwarded.
	OK bool
	// Future: refused as dated beyond the allowed clock skew; it waits for
	// its time, and many from one peer are a flood (proto/topic's
	// flood.go).
	Future bool
}

// Gossip is the gossip layer of one node.
type Gossip struct {
	h    host.Host
	hd   Handler
	cfg  Config
	self hyparview.PeerID

	mu     sync.Mutex
	closed bool
	rng    *rand.Rand
	groups map[entry.ID]*groupState
	out    map[peer.ID]*outbox
	// rtts are the round trips measured lately, by peer: a peer in the
	// views of several groups is pinged once.
	rtts map[peer.ID]rttSample
	// links counts, per peer, the groups it is a neighbour in (links.go);
	// at most the active views' slots.
	links map[peer.ID]int
	stats Stats
	// limits are the inbound peers' token buckets (limits.go), under their
	// own lock: serve checks them before it takes mu.
	limits peerLimits

	dmu      sync.Mutex
	pending  []pushed // waiting for admission, in arrival order
	pendingN int      // their payloads' bytes
	wake     chan struct{}
	// charges are the cores' charges for the node, which chargeLoop
	// reports without the lock (the node's verdict may ban, which steps
	// the cores again).
	charges chan charge
	stop    chan struct{}
	workers sync.WaitGroup
}

type charge struct {
	p peer.ID
	f topic.Fault
}

type groupState struct {
	id   entry.ID
	core *topic.State
	// graft is the payload read, before the lock was taken, for the Graft
	// being stepped: the broadcast core answers from it, so that no store
	// read happens under the lock.
	graft *grafted
	// push is the entry decoded from the Gossip being stepped, for its
	// Admit; picked is the peer a Round being stepped chose.
	push   *entry.Signed
	picked peer.ID
	// bucket bounds the group's messages from all peers (Config.Rates).
	bucket *rate.Limiter
}

type grafted struct {
	id  plumtree.MessageID
	raw []byte
	ok  bool
}

type outbox struct{ q chan []byte }

// New starts the gossip layer on h: it serves the gossip protocol and
// watches connections to notice neighbours that go away.
func New(h host.Host, hd Handler, cfg Config) *Gossip {
	var seed [16]byte
	crand.Read(seed[:])
	g := &Gossip{h: h, hd: hd, cfg: cfg, self: hyparview.PeerID(h.ID()),
		rng:    rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:]))),
		groups: map[entry.ID]*groupState{}, out: map[peer.ID]*outbox{}, rtts: map[peer.ID]rttSample{},
		links: map[peer.ID]int{},
		wake:  make(chan struct{}, 1), stop: make(chan struct{}), charges: make(chan charge, max(cfg.ChargeQueue, 1)),
		limits: peerLimits{rates: cfg.Rates, peers: map[peer.ID]*peerLimit{}}}
	h.SetStreamHandler(wire.GossipProtocol, g.serve)
	h.Network().Notify(&network.NotifyBundle{DisconnectedF: func(n network.Network, c network.Conn) {
		if p := c.RemotePeer(); n.Connectedness(p) != network.Connected {
			g.peerDown(p, nil)
		}
	}})
	g.workers.Add(2)
	go g.admitLoop()
	go g.chargeLoop()
	return g
}

// Close stops the layer: no more messages in or out.
func (g *Gossip) Close() {
	g.h.RemoveStreamHandler(wire.GossipProtocol)
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.closed = true
	for p, ob := range g.out {
		close(ob.q)
		delete(g.out, p)
	}
	g.mu.Unlock()
	close(g.stop)
	g.workers.Wait()
}

// Join enters group g's overlay through a peer known to replicate it, if
// the overlay has no neighbour yet; otherwise the overlay keeps its own
// neighbours and this does nothing.
func (g *Gossip) Join(gid entry.ID, contact peer.ID) {
	serves := g.serves(gid)
	g.mu.Lock()
	defer g.mu.Unlock()
	if st := g.group(gid, serves); st != nil {
		g.step(st, topic.Join{Contact: topic.PeerID(contact)})
	}
}

// Synced reports a sync session of group g with p that ended well, from
// either side; received is how many entries it brought that were new here,
// on the side that started it. The core remembers p as a member, and meets
// it as its policy says (topic.SyncDone).
func (g *Gossip) Synced(gid entry.ID, p peer.ID, received int) {
	g.stepGroup(gid, topic.SyncDone{Peer: topic.PeerID(p), Received: received})
}

// SyncFailed reports a sync session of group g with p that failed;
// unreachable says p could not be reached at all.
func (g *Gossip) SyncFailed(gid entry.ID, p peer.ID, unreachable bool) {
	g.stepGroup(gid, topic.SyncFailed{Peer: topic.PeerID(p), Unreachable: unreachable})
}

// Reconcile picks the peer the anti-entropy round of group g syncs with,
// as the core's policy says (topic.Round); candidates are the node's peers
// to fall back on when the core knows nobody, prefer the peers this round
// picked for other groups (the core follows them where it can, so that one
// probe asks about several groups).
func (g *Gossip) Reconcile(gid entry.ID, candidates, prefer []peer.ID) (peer.ID, bool) {
	ids := func(ps []peer.ID) []topic.PeerID {
		out := make([]topic.PeerID, len(ps))
		for i, p := range ps {
			out[i] = topic.PeerID(p)
		}
		return out
	}
	serves := g.serves(gid)
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.group(gid, serves)
	if st == nil {
		return "", false
	}
	st.picked = ""
	g.step(st, topic.Round{Candidates: ids(candidates), Prefer: ids(prefer)})
	return st.picked, st.picked != ""
}

// stepGroup steps group gid's core, if the node serves the group.
func (g *Gossip) stepGroup(gid entry.ID, in topic.Input) {
	serves := g.serves(gid)
	g.mu.Lock()
	defer g.mu.Unlock()
	if st := g.group(gid, serves); st != nil {
		g.step(st, in)
	}
}

// Broadcast pushes an entry of group g, stored here, to the group's
// overlay.
func (g *Gossip) Broadcast(gid, id entry.ID, raw []byte) {
	serves := g.serves(gid)
	g.mu.Lock()
	defer g.mu.Unlock()
	if st := g.group(gid, serves); st != nil {
		g.step(st, topic.Broadcast{ID: plumtree.MessageID(id), Payload: raw})
	}
}

// Leave quits group g's overlay, telling the neighbours.
func (g *Gossip) Leave(gid entry.ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.groups[gid]
	if !ok {
		return
	}
	g.step(st, topic.Leave{})
	for _, p := range st.core.Active() {
		g.h.ConnManager().Unprotect(peer.ID(p), overlayTag(gid))
		g.linkDown(peer.ID(p))
	}
	delete(g.groups, gid)
}

// overlayTag is the connection manager's protection tag for a group's
// overlay links.
func overlayTag(gid entry.ID) string { return "hearsay/overlay/" + gid.String() }

// Ban cuts a peer off in every group until until, on the policy's say-so
// (the node bans it): it leaves the overlays' views and the broadcast's
// peer sets, is not chosen to sync with nor met, and its queue is dropped.
// While Handler.Banned says so, nothing more is sent to it or taken from
// it.
func (g *Gossip) Ban(p peer.ID, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ob, ok := g.out[p]; ok {
		close(ob.q)
		delete(g.out, p)
	}
	for _, st := range g.sorted() {
		g.step(st, topic.Ban{Peer: topic.PeerID(p), Until: until})
	}
}

// Demote tells every group that p's score is below the gossip threshold:
// it is not chosen from a passive view for a while (topic.Demote). What
// is pushed to it the gossip layer decides at each send (Handler.Pushes).
func (g *Gossip) Demote(p peer.ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, st := range g.sorted() {
		g.step(st, topic.Demote{Peer: topic.PeerID(p)})
	}
}

// Unban lifts p's ban in every group.
func (g *Gossip) Unban(p peer.ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, st := range g.sorted() {
		g.step(st, topic.Unban{Peer: topic.PeerID(p)})
	}
}

// NeighbourRTT is the mean round trip to group g's neighbours, of those
// measured so far; zero if none is.
func (g *Gossip) NeighbourRTT(gid entry.ID) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.groups[gid]
	if !ok {
		return 0
	}
	var sum time.Duration
	n := 0
	for _, p := range st.core.Active() {
		if rtt, ok := st.core.RTT(p); ok {
			sum += rtt
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / time.Duration(n)
}

// Neighbours are group g's active view.
func (g *Gossip) Neighbours(gid entry.ID) []peer.ID {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.groups[gid]
	if !ok {
		return nil
	}
	var out []peer.ID
	for _, p := range st.core.Active() {
		out = append(out, peer.ID(p))
	}
	return out
}

// Stats reports the counters.
func (g *Gossip) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// serves reports whether the gossip runs group gid or the node serves it.
// It asks the node without the lock held: the node reads its store, and
// the lock is every message's.
func (g *Gossip) serves(gid entry.ID) bool {
	g.mu.Lock()
	_, ok := g.groups[gid]
	g.mu.Unlock()
	return ok || g.hd.Serves(gid)
}

// group returns g's state, making it if the node serves the group (serves,
// as g.serves said before the lock was taken). REQUIRES: g.mu held.
func (g *Gossip) group(gid entry.ID, serves bool) *groupState {
	if g.closed {
		return nil
	}
	if st, ok := g.groups[gid]; ok {
		return st
	}
	if !serves {
		return nil
	}
	rng := rand.New(rand.NewPCG(g.rng.Uint64(), g.rng.Uint64()))
	st := &groupState{id: gid, bucket: rate.NewLimiter(g.cfg.Rates.GroupRate, g.cfg.Rates.GroupBurst)}
	st.core = topic.New(g.cfg.Core, g.self, rng, payloads{st})
	if g.cfg.ShareLinks {
		st.core.Shared(g.shared(st))
	}
	g.groups[gid] = st
	g.step(st, topic.Start{})
	g.announce(st)
	return st
}

// sorted lists the groups in id order, so that a step over all of them
// does not depend on map order. REQUIRES: g.mu held.
func (g *Gossip) sorted() []*groupState {
	out := make([]*groupState, 0, len(g.groups))
	for _, st := range g.groups {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b *groupState) int { return bytes.Compare(a.id[:], b.id[:]) })
	return out
}

// payloads answers the broadcast core's reads, which it makes only to
// answer a Graft, from what receive read before taking the lock.
type payloads struct{ st *groupState }

func (p payloads) Payload(id plumtree.MessageID) ([]byte, bool) {
	if gr := p.st.graft; gr != nil && gr.id == id {
		return gr.raw, gr.ok
	}
	return nil, false
}

// step feeds a group's core one input and carries out its outputs, in
// their order (proto/topic's package doc). REQUIRES: g.mu held.
func (g *Gossip) step(st *groupState, in topic.Input) {
	for _, o := range st.core.Step(time.Now(), in) {
		switch o := o.(type) {
		case topic.Send:
			p := peer.ID(o.To)
			if g.hd.Banned(p) {
				// A ban this core has not heard of (it began before the
				// group did): the core drops the peer now.
				g.step(st, topic.Ban{Peer: o.To, Until: time.Now().Add(bannedRecheck)})
				continue
			}
			if pushes(o.Broadcast) && !g.hd.Pushes(p) {
				// Below the gossip threshold: the core, which may have
				// missed the charge that put it there (a group made since),
				// keeps it out of the passive view's choices too.
				g.step(st, topic.Demote{Peer: o.To})
				continue
			}
			g.send(p, wire.Gossip{Group: st.id, Overlay: o.Overlay, Broadcast: o.Broadcast})
		case topic.NeighborUp:
			// The connection manager trims connections by use; an overlay
			// link is kept however quiet its group is.
			g.h.ConnManager().Protect(peer.ID(o.Peer), overlayTag(st.id))
			g.linkUp(st, peer.ID(o.Peer))
		case topic.NeighborDown:
			g.h.ConnManager().Unprotect(peer.ID(o.Peer), overlayTag(st.id))
			g.linkDown(peer.ID(o.Peer))
		case topic.SetTimer:
			g.after(o.After, st, func() { g.step(st, topic.TimerFired{Timer: o.Timer}) })
		case topic.Admit:
			e := st.push
			if e == nil || e.ID != entry.ID(o.Msg.ID) {
				e = nil
			}
			g.admitLater(pushed{st, peer.ID(o.From), o.Msg, e})
		case topic.Deliver:
			g.stats.Delivered++ // the node stored it before the core saw it
		case topic.Measure:
			if m, ok := g.rtts[peer.ID(o.Peer)]; ok && time.Since(m.at) < rttFresh {
				g.step(st, topic.Measured{Peer: o.Peer, RTT: m.rtt})
				continue
			}
			go g.measure(st, peer.ID(o.Peer))
		case topic.Reconcile:
			st.picked = peer.ID(o.Peer)
		case topic.FindContacts:
			go g.findContacts(st)
		case topic.Charge:
			select {
			case g.charges <- charge{peer.ID(o.Peer), o.Fault}:
			default:
				g.stats.Dropped++
			}
		}
	}
}

// pushes reports whether a broadcast message pushes an entry or announces
// one, which a peer below the gossip threshold is not sent.
func pushes(m plumtree.Message) bool {
	switch m.(type) {
	case plumtree.Gossip, plumtree.IHave:
		return true
	}
	return false
}

// findContacts asks the node for members outside the overlay, without the
// lock, and hands the core what it found.
func (g *Gossip) findContacts(st *groupState) {
	found := g.hd.Contacts(st.id)
	ps := make([]topic.PeerID, len(found))
	for i, p := range found {
		ps[i] = topic.PeerID(p)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed && g.groups[st.id] == st {
		g.step(st, topic.Found{Peers: ps})
	}
}

// after runs fire under the lock once d has passed, unless the layer closed
// or the group was left meanwhile.
func (g *Gossip) after(d time.Duration, st *groupState, fire func()) {
	time.AfterFunc(d, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.closed && g.groups[st.id] == st {
			fire()
		}
	})
}

// send encodes a message and queues it for p's stream, opening one if
// needed. REQUIRES: g.mu held.
func (g *Gossip) send(p peer.ID, m wire.Gossip) {
	if g.closed || p == g.h.ID() || g.hd.Banned(p) {
		return
	}
	if m.Overlay != nil {
		m.Addrs = g.addrsNamed(m.Overlay)
	}
	b, err := wire.EncodeGossip(m)
	if err != nil {
		return // a core never makes such a message; nothing to send
	}
	ob, ok := g.out[p]
	if !ok {
		ob = &outbox{q: make(chan []byte, g.cfg.QueueLen)}
		g.out[p] = ob
		go g.write(p, ob)
	}
	select {
	case ob.q <- b:
	default:
		g.stats.Dropped++
		return
	}
	if _, ok := m.Broadcast.(plumtree.Gossip); ok {
		g.stats.PayloadSent++
		g.stats.PayloadBytesSent += int64(len(b))
	} else {
		g.stats.ControlSent++
		g.stats.ControlBytesSent += int64(len(b))
		g.stats.ControlByKind[controlKind(m)]++
	}
}

// addrsNamed gathers the addresses of the peers an overlay message names:
// peer exchange rides on the overlay.
func (g *Gossip) addrsNamed(m hyparview.Message) map[hyparview.PeerID][][]byte {
	var named []hyparview.PeerID
	switch m := m.(type) {
	case hyparview.ForwardJoin:
		named = []hyparview.PeerID{m.Peer}
	case hyparview.Shuffle:
		named = append([]hyparview.PeerID{m.Origin}, m.Peers...)
	case hyparview.ShuffleReply:
		named = m.Peers
	case hyparview.Disconnect:
		if m.Suggest != "" {
			named = []hyparview.PeerID{m.Suggest}
		}
	case hyparview.OptimizeReply:
		if m.Dropped != "" {
			named = []hyparview.PeerID{m.Dropped}
		}
	default:
		return nil
	}
	out := map[hyparview.PeerID][][]byte{}
	for _, p := range named {
		var addrs []ma.Multiaddr
		if peer.ID(p) == g.h.ID() {
			addrs = g.h.Addrs()
		} else {
			addrs = g.h.Peerstore().Addrs(peer.ID(p))
		}
		var bs [][]byte
		for _, a := range addrs {
			if len(bs) == wire.MaxAddrs {
				break
			}
			bs = append(bs, a.Bytes())
		}
		out[p] = bs
	}
	return out
}

// write drains p's queue into one stream, opened on the first message; a
// failure reports p down in every group. A stream that fails after it
// carried messages is opened again once, with the messages not yet
// flushed: the connection under it may have closed while another to p
// stays (a relayed one, after a hole punch opened a direct one).
func (g *Gossip) write(p peer.ID, ob *outbox) {
	var s network.Stream
	var w *bufio.Writer
	var pending [][]byte // written since the last flush
	fail := func() {
		if s != nil {
			s.Reset()
		}
		g.peerDown(p, ob)
	}
	open := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.DialTimeout)
		defer cancel()
		var err error
		if s, err = g.h.NewStream(ctx, p, wire.GossipProtocol); err != nil {
			s = nil
			return err
		}
		w = bufio.NewWriter(s)
		return nil
	}
	carried := false // the stream delivered a flush
	for b := range ob.q {
		if s == nil && open() != nil {
			fail()
			return
		}
		pending = append(pending, b)
		err := wire.WriteFrame(w, b)
		if err == nil && len(ob.q) == 0 {
			err = w.Flush()
		}
		if err != nil && carried {
			carried = false
			s.Reset()
			if err = open(); err == nil {
				for _, f := range pending {
					if err = wire.WriteFrame(w, f); err != nil {
						break
					}
				}
				if err == nil {
					err = w.Flush()
				}
			}
		}
		if err != nil {
			fail()
			return
		}
		if w.Buffered() == 0 {
			pending, carried = pending[:0], true
		}
	}
	if s != nil {
		s.Close()
	}
}

// peerDown forgets p's queue (if it is still ob; nil: any) and tells every
// group's overlay that p cannot be reached.
func (g *Gossip) peerDown(p peer.ID, ob *outbox) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	if cur, ok := g.out[p]; ok && (ob == nil || cur == ob) {
		close(cur.q)
		delete(g.out, p)
	}
	for _, st := range g.sorted() {
		g.step(st, topic.PeerDown{Peer: topic.PeerID(p)})
	}
}

// ErrIgnored ends the stream of a peer Handler.Banned says to ignore; it is
// reported to Handler.Violation (the peer went on sending).
var ErrIgnored = errors.New("peer ignored")

// Misbehaved is reported to Handler.Violation for what a group's core
// charged a peer with (topic.Charge): Fault says what, and Fault.Part()
// the score part it counts in, as the simulator counts it.
type Misbehaved struct{ Fault topic.Fault }

func (m Misbehaved) Error() string { return "peer misbehaved on the broadcast: " + m.Fault.String() }

// chargeLoop reports the cores' charges to the node, without the lock.
func (g *Gossip) chargeLoop() {
	defer g.workers.Done()
	for {
		select {
		case <-g.stop:
			return
		case c := <-g.charges:
			g.hd.Violation(c.p, Misbehaved{c.f})
		}
	}
}

// serve reads a peer's inbound stream until it ends or breaks the format.
func (g *Gossip) serve(s network.Stream) {
	p := s.Conn().RemotePeer()
	pl := g.limits.acquire(p)
	defer g.limits.release(p)
	r := bufio.NewReader(s)
	for {
		b, err := wire.ReadFrame(r)
		if err == nil {
			if g.limits.allow(pl) {
				err = g.receive(p, b)
			} else {
				err = errRateLimited
			}
		}
		if errors.Is(err, errRateLimited) {
			g.mu.Lock()
			g.stats.RateLimited++
			g.mu.Unlock()
			if g.limits.charge(pl, time.Now()) {
				g.hd.Violation(p, ErrFlood)
			}
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.Reset()
				g.hd.Violation(p, err)
				return
			}
			s.Close()
			return
		}
	}
}

// receive checks one message and feeds it to its group's cores.
func (g *Gossip) receive(p peer.ID, b []byte) error {
	m, err := wire.DecodeGossip(b)
	if err != nil {
		return err
	}
	e, err := g.check(m)
	if err != nil {
		return err
	}
	// What needs the store is read before the lock is taken.
	serves := g.serves(m.Group)
	var graft *grafted
	if gr, ok := m.Broadcast.(plumtree.Graft); ok && serves {
		graft = &grafted{id: gr.ID}
		graft.raw, graft.ok = g.hd.Payload(m.Group, entry.ID(gr.ID))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hd.Banned(p) {
		return ErrIgnored
	}
	if m.Holds != nil {
		if g.cfg.ShareLinks {
			g.holds(p, m)
		}
		return nil
	}
	st := g.group(m.Group, serves)
	if st != nil && !st.bucket.Allow() {
		return errRateLimited
	}
	if st == nil {
		// Not a group of ours: a joiner must look elsewhere.
		if _, ok := m.Overlay.(hyparview.Disconnect); m.Overlay != nil && !ok {
			g.send(p, wire.Gossip{Group: m.Group, Overlay: hyparview.Disconnect{}})
		}
		return nil
	}
	for id, addrs := range m.Addrs {
		g.learn(peer.ID(id), addrs)
	}
	if _, ok := m.Broadcast.(plumtree.Gossip); ok {
		g.stats.PayloadReceived++
	}
	st.graft, st.push = graft, e
	g.step(st, topic.Receive{From: topic.PeerID(p), Overlay: m.Overlay, Broadcast: m.Broadcast})
	st.graft, st.push = nil, nil
	return nil
}

// check refuses, before any core sees it, a message naming an invalid peer
// id or pushing an entry that is not what it claims to be, and returns the
// pushed entry decoded. The signature is left to admission, which gets the
// decoded entry (Push.Entry), so that it is decoded once and verified once.
func (g *Gossip) check(m wire.Gossip) (*entry.Signed, error) {
	for id := range m.Addrs {
		if _, err := peer.IDFromBytes([]byte(id)); err != nil {
			return nil, fmt.Errorf("%w: peer id: %v", wire.ErrMalformed, err)
		}
	}
	push, ok := m.Broadcast.(plumtree.Gossip)
	if !ok {
		return nil, nil
	}
	e, err := entry.Decode(push.Payload)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: pushed entry: %v", wire.ErrMalformed, err)
	case e.ID != entry.ID(push.ID):
		return nil, fmt.Errorf("%w: pushed entry %s sent as %s", wire.ErrMalformed, e.ID.Short(), entry.ID(push.ID).Short())
	case e.GroupID() != m.Group:
		return nil, fmt.Errorf("%w: pushed entry of group %s sent in %s", wire.ErrMalformed, e.GroupID().Short(), m.Group.Short())
	}
	return e, nil
}

// learn keeps the addresses of a peer named in the overlay, so it can be
// dialed when it is picked. REQUIRES: g.mu held.
func (g *Gossip) learn(p peer.ID, addrs [][]byte) {
	if p == g.h.ID() || len(addrs) == 0 {
		return
	}
	var ms []ma.Multiaddr
	for _, a := range addrs {
		if m, err := ma.NewMultiaddrBytes(a); err == nil {
			ms = append(ms, m)
		}
	}
	g.h.Peerstore().AddAddrs(p, ms, addrTTL)
}

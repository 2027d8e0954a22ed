package gossip

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/wire"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"
)

// The broadcast benchmark's setting: 100 nodes in one group on mocknet,
// link latencies drawn from 5–50 ms, each node connected to the member it
// joined through and to 4 more at random (so every protocol sees the same
// connections: about 10 per node); 100 posts of 500 bytes from random
// members, 200 ms apart (docs/benchmarks.md says what closer posts do).
const (
	benchNodes  = 100
	benchPosts  = 100
	benchBody   = 500
	benchDegree = 4
	benchMinLat = 5 * time.Millisecond
	benchMaxLat = 50 * time.Millisecond
	benchEvery  = 200 * time.Millisecond
)

// broadcaster is one broadcast under test, started on a network.
type broadcaster interface {
	publish(i int, e *entry.Signed)
	arrived(i int, id entry.ID) (time.Time, bool)
	// copies counts payload messages received; bytes counts payload
	// bytes sent, as framed on the wire.
	copies() int64
	bytes() int64
	// stop ends the protocol's work, so that it takes no CPU from the
	// next one measured.
	stop()
}

// outcome is one protocol's figures.
type outcome struct {
	delivery       float64 // delivered (entry, node) pairs over all
	copiesPerEntry float64 // payload copies received per node per entry
	bytesPerEntry  float64 // payload bytes sent per node per entry
	p50, p99       time.Duration
}

// BenchmarkBroadcast runs hearsay's broadcast, naive flooding and GossipSub
// (go-libp2p-pubsub v0.17.0, default parameters) in the same setting, one
// after the other in each iteration, and reports each one's figures and
// hearsay's ratios to GossipSub. Run it with -benchtime 1x; docs/benchmarks.md
// quotes medians over -count runs.
func BenchmarkBroadcast(b *testing.B) {
	for i := 0; i < b.N; i++ {
		seed := uint64(i + 1)
		results := map[string]outcome{}
		for _, name := range []string{"hearsay", "flood", "gossipsub"} {
			nw := newBenchNetwork(b, seed)
			var p broadcaster
			switch name {
			case "hearsay":
				p = startHearsay(b, nw)
			case "flood":
				p = startFlood(b, nw)
			case "gossipsub":
				p = startGossipSub(b, nw)
			}
			results[name] = measure(b, nw, p, seed)
			p.stop()
			nw.mn.Close()
		}
		for name, o := range results {
			b.ReportMetric(o.delivery, name+"-delivery")
			b.ReportMetric(o.copiesPerEntry, name+"-copies/node/entry")
			b.ReportMetric(o.bytesPerEntry, name+"-B/node/entry")
			b.ReportMetric(float64(o.p50.Microseconds())/1000, name+"-p50-ms")
			b.ReportMetric(float64(o.p99.Microseconds())/1000, name+"-p99-ms")
		}
		h, g := results["hearsay"], results["gossipsub"]
		b.ReportMetric(g.bytesPerEntry/h.bytesPerEntry, "gossipsub/hearsay-bytes")
		b.ReportMetric(float64(h.p99)/float64(g.p99), "hearsay/gossipsub-p99")
	}
}

func newBenchNetwork(b *testing.B, seed uint64) *testNet {
	nw := newNetwork(b, benchNodes, benchDegree, benchMinLat, benchMaxLat, seed)
	return nw
}

// measure publishes the posts, waits until every node has every post (or
// 30 s pass), and computes the figures.
func measure(b *testing.B, nw *testNet, p broadcaster, seed uint64) outcome {
	a := newAuthor(benchGroupSeed)
	type post struct {
		id     entry.ID
		origin int
		at     time.Time
	}
	var posts []post
	for k := range benchPosts {
		e := a.post(benchBody)
		origin := int((seed*7919 + uint64(k)*104729) % benchNodes)
		at := time.Now()
		p.publish(origin, e)
		posts = append(posts, post{e.ID, origin, at})
		time.Sleep(benchEvery)
	}
	all := func() bool {
		for _, x := range posts {
			for i := range benchNodes {
				if _, ok := p.arrived(i, x.id); !ok && i != x.origin {
					return false
				}
			}
		}
		return true
	}
	waitFor(30*time.Second, all)
	// Let late duplicates and repairs land before counting bytes.
	time.Sleep(time.Second)
	var lat []time.Duration
	pairs := 0
	for _, x := range posts {
		for i := range benchNodes {
			if i == x.origin {
				continue
			}
			pairs++
			if at, ok := p.arrived(i, x.id); ok {
				lat = append(lat, at.Sub(x.at))
			}
		}
	}
	slices.Sort(lat)
	o := outcome{delivery: float64(len(lat)) / float64(pairs),
		copiesPerEntry: float64(p.copies()) / float64(pairs),
		bytesPerEntry:  float64(p.bytes()) / float64(benchNodes*benchPosts)}
	if len(lat) > 0 {
		o.p50, o.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return o
}

const benchGroupSeed = 42

// hearsay: the gossip layer of this package.
type hearsayRun struct {
	gs []*Gossip
	ms []*memNode
}

func startHearsay(b *testing.B, nw *testNet) broadcaster {
	gid := newAuthor(benchGroupSeed).gid
	gs, ms := cluster(b, nw, gid)
	start := time.Now()
	settleFor(gs, gid, 3*time.Second)
	b.Logf("overlay settled in %v", time.Since(start))
	return &hearsayRun{gs, ms}
}

func (r *hearsayRun) publish(i int, e *entry.Signed) {
	r.ms[i].keep(e)
	r.gs[i].Broadcast(e.GroupID(), e.ID, e.Raw)
}

func (r *hearsayRun) arrived(i int, id entry.ID) (time.Time, bool) { return r.ms[i].has(id) }

func (r *hearsayRun) stop() {
	for _, g := range r.gs {
		g.Close()
	}
}

func (r *hearsayRun) copies() (n int64) {
	for _, g := range r.gs {
		n += g.Stats().PayloadReceived
	}
	return n
}

func (r *hearsayRun) bytes() (n int64) {
	for _, g := range r.gs {
		n += g.Stats().PayloadBytesSent
	}
	return n
}

// joinAll connects the hosts as cluster does, without a gossip layer: each
// to a random earlier one.
func joinAll(b *testing.B, nw *testNet) {
	for i := 1; i < len(nw.hosts); i++ {
		nw.earlier(b, i)
	}
}

// arrivals records when each node first got each entry.
type arrivals struct {
	mu sync.Mutex
	at []map[entry.ID]time.Time
}

func newArrivals(n int) *arrivals {
	a := &arrivals{at: make([]map[entry.ID]time.Time, n)}
	for i := range a.at {
		a.at[i] = map[entry.ID]time.Time{}
	}
	return a
}

// first records an arrival and reports whether it was the first.
func (a *arrivals) first(i int, id entry.ID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.at[i][id]; ok {
		return false
	}
	a.at[i][id] = time.Now()
	return true
}

func (a *arrivals) arrived(i int, id entry.ID) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	at, ok := a.at[i][id]
	return at, ok
}

// flood: every node sends every entry it gets for the first time to every
// peer it is connected to but the sender.
const floodProtocol = "/bench/flood/1"

type floodRun struct {
	nw *testNet
	*arrivals
	mu             sync.Mutex
	out            map[[2]peer.ID]chan []byte
	nCopies, nSent int64
	index          map[peer.ID]int
}

func startFlood(b *testing.B, nw *testNet) broadcaster {
	joinAll(b, nw)
	r := &floodRun{nw: nw, arrivals: newArrivals(len(nw.hosts)), out: map[[2]peer.ID]chan []byte{}, index: map[peer.ID]int{}}
	for i, h := range nw.hosts {
		r.index[h.ID()] = i
		h.SetStreamHandler(floodProtocol, func(s network.Stream) {
			from := s.Conn().RemotePeer()
			rd := bufio.NewReader(s)
			for {
				raw, err := wire.ReadFrame(rd)
				if err != nil {
					s.Reset()
					return
				}
				r.mu.Lock()
				r.nCopies++
				r.mu.Unlock()
				e, err := entry.Decode(raw)
				if err != nil {
					panic(err)
				}
				if r.first(i, e.ID) {
					r.forward(h, raw, from)
				}
			}
		})
	}
	return r
}

func (r *floodRun) publish(i int, e *entry.Signed) {
	r.first(i, e.ID)
	r.forward(r.nw.hosts[i], e.Raw, "")
}

func (r *floodRun) forward(h host.Host, raw []byte, from peer.ID) {
	for _, p := range h.Network().Peers() {
		if p != from {
			r.send(h, p, raw)
		}
	}
}

func (r *floodRun) send(h host.Host, p peer.ID, raw []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := [2]peer.ID{h.ID(), p}
	q, ok := r.out[key]
	if !ok {
		q = make(chan []byte, 1<<14)
		r.out[key] = q
		go func() {
			s, err := h.NewStream(context.Background(), p, floodProtocol)
			if err != nil {
				return
			}
			for raw := range q {
				if wire.WriteFrame(s, raw) != nil {
					return
				}
			}
		}()
	}
	r.nSent += int64(len(raw) + 2)
	q <- raw
}

func (r *floodRun) stop() {}

func (r *floodRun) copies() int64 { r.mu.Lock(); defer r.mu.Unlock(); return r.nCopies }
func (r *floodRun) bytes() int64  { r.mu.Lock(); defer r.mu.Unlock(); return r.nSent }

// gossipsub: one topic, default parameters; payload bytes are the sizes of
// the published messages in the RPCs each node sends.
type gossipsubRun struct {
	cancel context.CancelFunc
	topics []*pubsub.Topic
	*arrivals
	mu             sync.Mutex
	nCopies, nSent int64
}

func startGossipSub(b *testing.B, nw *testNet) broadcaster {
	joinAll(b, nw)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	r := &gossipsubRun{cancel: cancel, arrivals: newArrivals(len(nw.hosts))}
	for i, h := range nw.hosts {
		ps, err := pubsub.NewGossipSub(ctx, h, pubsub.WithRawTracer(gossipsubTracer{r}))
		if err != nil {
			b.Fatal(err)
		}
		t, err := ps.Join("hearsay-bench")
		if err != nil {
			b.Fatal(err)
		}
		sub, err := t.Subscribe()
		if err != nil {
			b.Fatal(err)
		}
		r.topics = append(r.topics, t)
		go func() {
			for {
				m, err := sub.Next(ctx)
				if err != nil {
					return
				}
				if m.ReceivedFrom == h.ID() {
					continue
				}
				e, err := entry.Decode(m.Data)
				if err != nil {
					panic(err)
				}
				r.first(i, e.ID)
			}
		}()
	}
	// The meshes form on heartbeats, one a second.
	time.Sleep(3 * time.Second)
	return r
}

func (r *gossipsubRun) publish(i int, e *entry.Signed) {
	r.first(i, e.ID)
	if err := r.topics[i].Publish(context.Background(), e.Raw); err != nil {
		panic(fmt.Sprint("publish: ", err))
	}
}

func (r *gossipsubRun) stop() { r.cancel() }

func (r *gossipsubRun) copies() int64 { r.mu.Lock(); defer r.mu.Unlock(); return r.nCopies }
func (r *gossipsubRun) bytes() int64  { r.mu.Lock(); defer r.mu.Unlock(); return r.nSent }

// gossipsubTracer counts the published messages in the RPCs sent and
// received.
type gossipsubTracer struct{ r *gossipsubRun }

func (t gossipsubTracer) SendRPC(rpc *pubsub.RPC, p peer.ID) {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	for _, m := range rpc.Publish {
		t.r.nSent += int64(proto.Size(m))
	}
}

func (t gossipsubTracer) RecvRPC(rpc *pubsub.RPC) {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	t.r.nCopies += int64(len(rpc.Publish))
}

func (gossipsubTracer) OnNewOutboundStream(peer.ID, protocol.ID) {}
func (gossipsubTracer) OnClosedOutboundStream(peer.ID)           {}
func (gossipsubTracer) Join(string)                              {}
func (gossipsubTracer) Leave(string)                             {}
func (gossipsubTracer) Graft(peer.ID, string)                    {}
func (gossipsubTracer) Prune(peer.ID, string)                    {}
func (gossipsubTracer) ValidateMessage(*pubsub.Message)          {}
func (gossipsubTracer) DeliverMessage(*pubsub.Message)           {}
func (gossipsubTracer) RejectMessage(*pubsub.Message, string)    {}
func (gossipsubTracer) DuplicateMessage(*pubsub.Message)         {}
func (gossipsubTracer) ThrottlePeer(peer.ID)                     {}
func (gossipsubTracer) DropRPC(*pubsub.RPC, peer.ID)             {}
func (gossipsubTracer) UndeliverableMessage(*pubsub.Message)     {}

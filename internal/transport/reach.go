package transport

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	pbv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/pb"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"
)

// Reachability is what a node believes about being dialable from outside
// its network: AutoNAT finds out (ReachAuto), or the operator says.
type Reachability int

const (
	ReachAuto Reachability = iota
	ReachPublic
	ReachPrivate
)

// RelayLimits bound what a public node relays for peers behind NATs
// (circuit relay v2). A relayed connection is reset when it has carried
// Data bytes in either direction or lasted Duration, whichever comes first:
// relaying is meant for the first contact and the hole punch, not for
// bulk traffic.
type RelayLimits struct {
	Reservations    int           // peers holding a slot at once
	CircuitsPerPeer int           // relayed connections open to or from one peer
	PerIP           int           // slots held from one IP address
	Data            int64         // bytes each way on one relayed connection
	Duration        time.Duration // lifetime of one relayed connection
	ReservationTTL  time.Duration // a slot lapses unless renewed
}

// relayBuffer is the buffer relay v2 copies each direction of a circuit
// through (its default).
const relayBuffer = 2048

// DefaultRelayLimits are a public node's limits unless its operator sets
// others: libp2p's defaults, which keep a relay to a few MiB.
func DefaultRelayLimits() RelayLimits {
	d := relayv2.DefaultResources()
	return RelayLimits{
		Reservations:    d.MaxReservations,
		CircuitsPerPeer: d.MaxCircuits,
		PerIP:           d.MaxReservationsPerIP,
		Data:            d.Limit.Data,
		Duration:        d.Limit.Duration,
		ReservationTTL:  d.ReservationTTL,
	}
}

// MemoryBound is the most the relay's circuit buffers can hold: every slot
// with every circuit open, a buffer each way.
func (l RelayLimits) MemoryBound() int64 {
	return int64(l.Reservations) * int64(l.CircuitsPerPeer) * 2 * relayBuffer
}

func (l RelayLimits) resources() relayv2.Resources {
	r := relayv2.DefaultResources()
	r.MaxReservations = l.Reservations
	r.MaxCircuits = l.CircuitsPerPeer
	r.MaxReservationsPerIP = l.PerIP
	r.MaxReservationsPerASN = max(r.MaxReservationsPerASN, l.PerIP)
	r.BufferSize = relayBuffer
	r.ReservationTTL = l.ReservationTTL
	r.Limit = &relayv2.RelayLimit{Data: l.Data, Duration: l.Duration}
	return r
}

// HopProtocol is circuit relay v2's protocol, which a relay serves.
const HopProtocol = "/libp2p/circuit/relay/0.2.0/hop"

// Reach follows how a host is reached: its reachability, the relays it holds
// a slot on, the hole punches it made, and what it relays for others.
type Reach struct {
	h         host.Host
	limits    *RelayLimits // nil: relays for nobody
	relayOpts []relayv2.Option
	sub       event.Subscription
	done      chan struct{}

	mu           sync.Mutex
	reachability network.Reachability // AutoNAT v1's verdict on the host
	reachable    []ma.Multiaddr       // addresses AutoNAT v2 found dialable
	unreachable  []ma.Multiaddr       // and those it found not
	relayAddrs   []ma.Multiaddr
	punches      []HolePunch
	service      *relayv2.Relay // running while public

	statsMu sync.Mutex // apart from mu, which is held while the relay starts and stops
	relay   RelayStats
}

// HolePunch is one hole punch this host took part in as its initiator.
type HolePunch struct {
	Peer    string        `json:"peer"`
	Success bool          `json:"success"`
	Took    time.Duration `json:"took_ns"`
	At      time.Time     `json:"at"`
	Error   string        `json:"error,omitempty"`
}

// RelayStats count what a node relayed for others since it started.
type RelayStats struct {
	Active               bool   `json:"active"` // serving: public, and not turned off
	Reservations         int    `json:"reservations"`
	ReservationsRefused  uint64 `json:"reservations_refused"`
	Circuits             int    `json:"circuits"`
	CircuitsRefused      uint64 `json:"circuits_refused"`
	CircuitsOpened       uint64 `json:"circuits_opened"`
	BytesRelayed         uint64 `json:"bytes_relayed"`
	MemoryBoundBytes     int64  `json:"memory_bound_bytes"`
	MaxReservations      int    `json:"max_reservations"`
	MaxCircuitsPerPeer   int    `json:"max_circuits_per_peer"`
	DataLimitBytes       int64  `json:"data_limit_bytes"`
	DurationLimitSeconds int64  `json:"duration_limit_s"`
}

func newReach(limits *RelayLimits) *Reach {
	return &Reach{limits: limits, done: make(chan struct{})}
}

// watch follows the host's events until Close.
func (r *Reach) watch(h host.Host) error {
	r.h = h
	sub, err := h.EventBus().Subscribe([]any{new(event.EvtLocalReachabilityChanged),
		new(event.EvtHostReachableAddrsChanged), new(event.EvtAutoRelayAddrsUpdated)})
	if err != nil {
		return err
	}
	r.sub = sub
	go func() {
		defer close(r.done)
		for e := range sub.Out() {
			r.mu.Lock()
			switch e := e.(type) {
			case event.EvtLocalReachabilityChanged:
				r.reachability = e.Reachability
			case event.EvtHostReachableAddrsChanged:
				r.reachable, r.unreachable = slices.Clone(e.Reachable), slices.Clone(e.Unreachable)
			case event.EvtAutoRelayAddrsUpdated:
				r.relayAddrs = slices.Clone(e.RelayAddrs)
			}
			r.mu.Unlock()
			r.serveRelay()
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.service != nil {
			r.service.Close()
			r.service = nil
		}
	}()
	return nil
}

// serveRelay starts the relay service when the host is public and stops
// it when it no longer is. (go-libp2p's own relay manager follows AutoNAT
// v1 alone, whose verdict needs a public peer to dial back through, which a
// network of a few public nodes may never find; AutoNAT v2 asks any peer.)
func (r *Reach) serveRelay() {
	if r.limits == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	public := r.state() == network.ReachabilityPublic
	switch {
	case public && r.service == nil:
		s, err := relayv2.New(r.h, r.relayOpts...)
		if err == nil {
			r.service = s
		}
	case !public && r.service != nil:
		r.service.Close()
		r.service = nil
	}
}

// Close stops following the host, and relaying.
func (r *Reach) Close() {
	if r.sub != nil {
		r.sub.Close()
		<-r.done
	}
}

// state is the host's reachability: public if AutoNAT v1 says so or v2
// found an address dialable, private if v1 says so, else unknown.
func (r *Reach) state() network.Reachability {
	if r.reachability == network.ReachabilityPublic || len(r.reachable) > 0 {
		return network.ReachabilityPublic
	}
	return r.reachability
}

// Reachability is public, private or unknown.
func (r *Reach) Reachability() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state() {
	case network.ReachabilityPublic:
		return "public"
	case network.ReachabilityPrivate:
		return "private"
	}
	return "unknown"
}

// Reservations are the relays this host holds a slot on, each as the
// relayed address peers dial it by (ending in /p2p-circuit).
func (r *Reach) Reservations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, a := range r.relayAddrs {
		s := a.String()
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// ConfirmedAddrs are the host's addresses AutoNAT v2 found dialable from
// outside, and those it found not to be.
func (r *Reach) ConfirmedAddrs() (reachable, unreachable []string) {
	type confirmer interface {
		ConfirmedAddrs() (reachable, unreachable, unknown []ma.Multiaddr)
	}
	c, ok := r.h.(confirmer)
	if !ok {
		return nil, nil
	}
	re, un, _ := c.ConfirmedAddrs()
	r.mu.Lock()
	re = append(re, r.reachable...)
	un = append(un, r.unreachable...)
	r.mu.Unlock()
	re, un = ma.Unique(re), ma.Unique(un)
	for _, a := range re {
		reachable = append(reachable, a.String())
	}
	for _, a := range un {
		unreachable = append(unreachable, a.String())
	}
	return reachable, unreachable
}

// HolePunches are the hole punches this host started, the latest last
// (at most the last 32).
func (r *Reach) HolePunches() []HolePunch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.punches)
}

// Relay is what the host relays for others; nil if it relays for nobody.
func (r *Reach) Relay() *RelayStats {
	if r.limits == nil {
		return nil
	}
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	st := r.relay
	st.MemoryBoundBytes = r.limits.MemoryBound()
	st.MaxReservations = r.limits.Reservations
	st.MaxCircuitsPerPeer = r.limits.CircuitsPerPeer
	st.DataLimitBytes = r.limits.Data
	st.DurationLimitSeconds = int64(r.limits.Duration / time.Second)
	return &st
}

// Trace receives the hole punch service's events (holepunch.EventTracer).
func (r *Reach) Trace(e *holepunch.Event) {
	end, ok := e.Evt.(*holepunch.EndHolePunchEvt)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.punches = append(r.punches, HolePunch{Peer: e.Remote.String(), Success: end.Success, Took: end.EllapsedTime,
		At: time.Unix(0, e.Timestamp), Error: end.Error})
	if len(r.punches) > 32 {
		r.punches = slices.Delete(r.punches, 0, len(r.punches)-32)
	}
}

// relayTracer counts the relay service's work (relayv2.MetricsTracer).
type relayTracer struct{ r *Reach }

func (t relayTracer) update(f func(*RelayStats)) {
	t.r.statsMu.Lock()
	defer t.r.statsMu.Unlock()
	f(&t.r.relay)
}

func (t relayTracer) RelayStatus(enabled bool) {
	t.update(func(s *RelayStats) {
		s.Active = enabled
		if !enabled {
			s.Reservations, s.Circuits = 0, 0
		}
	})
}
func (t relayTracer) ConnectionOpened() {
	t.update(func(s *RelayStats) { s.Circuits++; s.CircuitsOpened++ })
}
func (t relayTracer) ConnectionClosed(time.Duration) {
	t.update(func(s *RelayStats) { s.Circuits = max(0, s.Circuits-1) })
}
func (t relayTracer) ConnectionRequestHandled(st pbv2.Status) {
	if st != pbv2.Status_OK {
		t.update(func(s *RelayStats) { s.CircuitsRefused++ })
	}
}
func (t relayTracer) ReservationAllowed(renewal bool) {
	if !renewal {
		t.update(func(s *RelayStats) { s.Reservations++ })
	}
}
func (t relayTracer) ReservationClosed(n int) {
	t.update(func(s *RelayStats) { s.Reservations = max(0, s.Reservations-n) })
}
func (t relayTracer) ReservationRequestHandled(st pbv2.Status) {
	if st != pbv2.Status_OK {
		t.update(func(s *RelayStats) { s.ReservationsRefused++ })
	}
}
func (t relayTracer) BytesTransferred(n int) {
	t.update(func(s *RelayStats) { s.BytesRelayed += uint64(n) })
}

// relayACL refuses slots and circuits to the peers allow refuses.
type relayACL struct{ allow func(peer.ID) bool }

func (a relayACL) AllowReserve(p peer.ID, _ ma.Multiaddr) bool { return a.allow(p) }
func (a relayACL) AllowConnect(src peer.ID, _ ma.Multiaddr, dest peer.ID) bool {
	return a.allow(src) && a.allow(dest)
}

// relaySource offers autorelay the peers known to serve as relays (their
// identify said so): those this host is connected to first, then others
// in its peerstore.
func relaySource(h func() host.Host) autorelay.PeerSource {
	return func(ctx context.Context, num int) <-chan peer.AddrInfo {
		out := make(chan peer.AddrInfo, num)
		defer close(out)
		hh := h()
		if hh == nil {
			return out
		}
		connected := hh.Network().Peers()
		rest := slices.DeleteFunc(hh.Peerstore().PeersWithAddrs(), func(p peer.ID) bool { return slices.Contains(connected, p) })
		for _, p := range append(connected, rest...) {
			if len(out) == num {
				break
			}
			if p == hh.ID() {
				continue
			}
			if ok, _ := hh.Peerstore().SupportsProtocols(p, protocol.ID(HopProtocol)); len(ok) > 0 {
				out <- hh.Peerstore().PeerInfo(p)
			}
		}
		return out
	}
}

// Relayed reports whether a connection goes through a relay.
func Relayed(c network.Conn) bool {
	if c.Stat().Limited {
		return true
	}
	_, err := c.RemoteMultiaddr().ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

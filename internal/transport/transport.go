// Package transport makes the node's libp2p host: TCP and QUIC, Noise,
// yamux, and the node's own Ed25519 key as its peer identity, so a peer id
// and an author id are the same key.
package transport

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	madns "github.com/multiformats/go-multiaddr-dns"
)

// StreamTimeout bounds one sync session on a stream.
const StreamTimeout = 2 * time.Minute

// NewHost starts a host listening on the given multiaddresses; bw, when not
// nil, counts the bytes exchanged with each peer; allow, when not nil, is
// asked before every connection to or from a peer, so that a ban holds for
// every protocol. It makes no attempt to be reached from behind a NAT: New
// with Options.Reach does.
func NewHost(key ed25519.PrivateKey, listen []string, bw metrics.Reporter, allow func(peer.ID) bool) (host.Host, error) {
	h, _, err := New(key, Options{Listen: listen, Bandwidth: bw, Allow: allow})
	return h, err
}

// Options configure a host.
type Options struct {
	Listen    []string
	Bandwidth metrics.Reporter   // nil: bytes are not counted per peer
	Allow     func(peer.ID) bool // nil: every peer is allowed
	// Reach makes the host reachable from behind a NAT, with go-libp2p's
	// parts: AutoNAT (v1 for the host's reachability, v2 for each address,
	// and the service that answers both for peers), the relay client
	// reserving a slot on a public peer that relays while the host is
	// private, hole punching (DCUtR) to turn relayed connections direct,
	// and, with PortMap, UPnP/NAT-PMP port mapping. Without it the host
	// still dials relayed addresses, so that it reaches a node behind a NAT.
	Reach        bool
	Reachability Reachability // ReachAuto: AutoNAT decides
	PortMap      bool
	// Relay, when not nil, relays for peers behind NATs within its limits
	// while the host is public.
	Relay *RelayLimits
	// Resolver resolves /dnsaddr/ and /dns/ addresses; nil: the system's.
	Resolver *madns.Resolver
	// Limits bound connections, streams and memory; nil: DefaultLimits.
	Limits *Limits
}

// New starts a host; the Reach it returns follows its reachability.
func New(key ed25519.PrivateKey, o Options) (host.Host, *Reach, error) {
	priv, err := crypto.UnmarshalEd25519PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("node key: %w", err)
	}
	limits := DefaultLimits
	if o.Limits != nil {
		limits = *o.Limits
	}
	rm, err := limits.resourceManager()
	if err != nil {
		return nil, nil, fmt.Errorf("resource limits: %w", err)
	}
	cm, err := limits.connManager()
	if err != nil {
		rm.Close()
		return nil, nil, fmt.Errorf("connection manager: %w", err)
	}
	reach := newReach(o.Relay)
	var built host.Host // for the relay source, which runs after New returns
	var builtMu sync.Mutex
	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.NoListenAddrs, // listened on one by one below, so that each failure is seen
		// With SO_REUSEPORT a second node could bind a port this one holds,
		// and peers dialling it would reach either node. So TCP connections
		// leave from ephemeral ports, and hole punching works over QUIC,
		// whose connections all use the listening socket.
		libp2p.Transport(tcp.NewTCPTransport, tcp.DisableReuseport()),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.EnableRelay(), // the relay transport: dial, and be dialled, through relays
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
	}
	if o.Reach {
		opts = append(opts,
			libp2p.EnableNATService(),
			libp2p.EnableAutoNATv2(),
			libp2p.EnableHolePunching(holepunch.WithTracer(reach)),
			libp2p.EnableAutoRelayWithPeerSource(relaySource(func() host.Host {
				builtMu.Lock()
				defer builtMu.Unlock()
				return built
			}),
				autorelay.WithMinCandidates(1), // one relay is enough to be reached
				autorelay.WithNumRelays(2),
				autorelay.WithBootDelay(5*time.Second),
				autorelay.WithBackoff(30*time.Second),
				autorelay.WithMinInterval(5*time.Second)),
		)
		switch o.Reachability {
		case ReachPublic:
			opts = append(opts, libp2p.ForceReachabilityPublic())
		case ReachPrivate:
			opts = append(opts, libp2p.ForceReachabilityPrivate())
		}
		if o.PortMap {
			opts = append(opts, libp2p.NATManager(newPortMappers)) // natpmp.go
		}
		if o.Relay != nil { // started and stopped by reach, as the host is public or not
			reach.relayOpts = []relayv2.Option{relayv2.WithResources(o.Relay.resources()), relayv2.WithMetricsTracer(relayTracer{reach})}
			if o.Allow != nil {
				reach.relayOpts = append(reach.relayOpts, relayv2.WithACL(relayACL{o.Allow}))
			}
		}
	} else {
		reach.limits = nil
	}
	if o.Resolver != nil {
		opts = append(opts, libp2p.MultiaddrResolver(swarm.ResolverFromMaDNS{Resolver: o.Resolver}))
	}
	if o.Bandwidth != nil {
		opts = append(opts, libp2p.BandwidthReporter(o.Bandwidth))
	}
	if o.Allow != nil {
		opts = append(opts, libp2p.ConnectionGater(gater{o.Allow}))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		cm.Close() // libp2p closed the resource manager
		return nil, nil, err
	}
	builtMu.Lock()
	built = h
	builtMu.Unlock()
	if err := reach.watch(h); err != nil {
		h.Close()
		return nil, nil, err
	}
	for _, a := range o.Listen {
		err := listenOn(h, a)
		if err != nil {
			reach.Close()
			h.Close()
			return nil, nil, err
		}
	}
	return h, reach, nil
}

// ListenError is a listen address the host could not listen on.
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string { return e.Addr + ": " + e.Err.Error() }

func (e *ListenError) Unwrap() error { return e.Err }

// ListenAddr is the address, for callers that name it in their terms.
func (e *ListenError) ListenAddr() string { return e.Addr }

// listenOn listens on one address. libp2p starts a host when any of its
// addresses works, which would leave a node without the port it was
// given, so each must; the swarm's AddListenAddr, unlike its Listen,
// returns the error itself rather than its text.
func listenOn(h host.Host, addr string) error {
	m, err := ma.NewMultiaddr(addr)
	if sw, ok := h.Network().(*swarm.Swarm); ok && err == nil {
		err = sw.AddListenAddr(m)
	} else if err == nil {
		err = h.Network().Listen(m)
	}
	if op, ok := errors.AsType[*net.OpError](err); ok {
		err = op.Err // "bind: address already in use", without the address again
	}
	if err != nil {
		return &ListenError{addr, err}
	}
	return nil
}

// gater refuses the peers allow refuses: dials to them, and connections
// from them once their peer id is authenticated.
type gater struct{ allow func(peer.ID) bool }

func (g gater) InterceptPeerDial(p peer.ID) bool                 { return g.allow(p) }
func (g gater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return g.allow(p) }
func (gater) InterceptAccept(network.ConnMultiaddrs) bool        { return true }
func (g gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return g.allow(p)
}
func (gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// PeerID is the libp2p peer id of an Ed25519 public key.
func PeerID(pub ed25519.PublicKey) (peer.ID, error) {
	k, err := crypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		return "", err
	}
	return peer.IDFromPublicKey(k)
}

// Addrs are the host's addresses, each ending in /p2p/<peer id>.
func Addrs(h host.Host) []string {
	var out []string
	for _, a := range h.Addrs() {
		out = append(out, a.Encapsulate(ma.StringCast("/p2p/"+h.ID().String())).String())
	}
	return out
}

// AddrInfo parses a multiaddress that ends in /p2p/<peer id>.
func AddrInfo(addr string) (*peer.AddrInfo, error) {
	a, err := ma.NewMultiaddr(addr)
	if err != nil {
		return nil, fmt.Errorf("peer address %q: %w", addr, err)
	}
	info, err := peer.AddrInfoFromP2pAddr(a)
	if err != nil {
		return nil, fmt.Errorf("peer address %q: it must end in /p2p/<peer id>", addr)
	}
	return info, nil
}

// Dial connects to a peer by a multiaddress that ends in /p2p/<peer id>.
func Dial(ctx context.Context, h host.Host, addr string) (peer.ID, error) {
	info, err := AddrInfo(addr)
	if err != nil {
		return "", err
	}
	if err := h.Connect(ctx, *info); err != nil {
		return "", fmt.Errorf("connect to %s: %w", info.ID, err)
	}
	return info.ID, nil
}

// Handle serves a stream protocol: serve gets each stream with a deadline
// set, and the stream is closed (reset on error) when it returns.
func Handle(h host.Host, proto string, serve func(network.Stream) error) {
	h.SetStreamHandler(protocol.ID(proto), func(s network.Stream) {
		s.SetDeadline(time.Now().Add(StreamTimeout))
		if err := serve(s); err != nil {
			s.Reset()
			return
		}
		s.Close()
	})
}

// ThroughRelays lets the streams opened with ctx go over a relayed
// connection, when a peer is reachable no other way (yet): a relay limits
// what such a connection carries, so only the small exchanges (sync
// sessions, gossip) use it, and bulk transfers wait for a direct one.
func ThroughRelays(ctx context.Context) context.Context {
	return network.WithAllowLimitedConn(ctx, "hearsay")
}

// RelayedStreams is h, except that the streams it opens may go over a
// relayed connection (ThroughRelays).
func RelayedStreams(h host.Host) host.Host { return relayedStreams{h} }

type relayedStreams struct{ host.Host }

func (h relayedStreams) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	return h.Host.NewStream(ThroughRelays(ctx), p, pids...)
}

// Open opens a stream to a connected peer, with the session deadline set.
func Open(ctx context.Context, h host.Host, p peer.ID, proto string) (network.Stream, error) {
	s, err := h.NewStream(ctx, p, protocol.ID(proto))
	if err != nil {
		return nil, err
	}
	s.SetDeadline(time.Now().Add(StreamTimeout))
	return s, nil
}

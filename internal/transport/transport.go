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
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// StreamTimeout bounds one sync session on a stream.
const StreamTimeout = 2 * time.Minute

// NewHost starts a host listening on the given multiaddresses; bw, when not
// nil, counts the bytes exchanged with each peer; allow, when not nil, is
// asked before every connection to or from a peer, so that a ban holds for
// every protocol.
func NewHost(key ed25519.PrivateKey, listen []string, bw metrics.Reporter, allow func(peer.ID) bool) (host.Host, error) {
	priv, err := crypto.UnmarshalEd25519PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.NoListenAddrs, // listened on one by one below, so that each failure is seen
		// With SO_REUSEPORT a second node could bind a port this one holds,
		// and peers dialling it would reach either node.
		libp2p.Transport(tcp.NewTCPTransport, tcp.DisableReuseport()),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableRelay(),
	}
	if bw != nil {
		opts = append(opts, libp2p.BandwidthReporter(bw))
	}
	if allow != nil {
		opts = append(opts, libp2p.ConnectionGater(gater{allow}))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, err
	}
	for _, a := range listen {
		err := listenOn(h, a)
		if err != nil {
			h.Close()
			return nil, err
		}
	}
	return h, nil
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

// Open opens a stream to a connected peer, with the session deadline set.
func Open(ctx context.Context, h host.Host, p peer.ID, proto string) (network.Stream, error) {
	s, err := h.NewStream(ctx, p, protocol.ID(proto))
	if err != nil {
		return nil, err
	}
	s.SetDeadline(time.Now().Add(StreamTimeout))
	return s, nil
}

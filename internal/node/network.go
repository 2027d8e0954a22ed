package node

import (
	"context"
	"fmt"

	"hearsay/internal/entry"
	"hearsay/internal/transport"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
)

// Network is the node on libp2p: it answers sync sessions and starts them.
type Network struct {
	n    *Node
	Host host.Host
}

// StartNetwork starts the node's libp2p host on the listen addresses (none:
// it only dials) and serves the sync protocol on it.
func (n *Node) StartNetwork(listen []string) (*Network, error) {
	h, err := transport.NewHost(n.Home.Key, listen)
	if err != nil {
		return nil, err
	}
	transport.Handle(h, wire.SyncProtocol, func(s network.Stream) error { return n.ServeSync(s) })
	return &Network{n: n, Host: h}, nil
}

// Addrs are the addresses peers can dial, each ending in /p2p/<peer id>.
func (nw *Network) Addrs() []string { return transport.Addrs(nw.Host) }

// Close stops the host.
func (nw *Network) Close() error { return nw.Host.Close() }

// SyncWith reconciles group g with the peer at addr (a multiaddress ending
// in /p2p/<peer id>). A node that does not hold g yet joins it this way.
func (nw *Network) SyncWith(ctx context.Context, addr string, g entry.ID) (SyncResult, error) {
	p, err := transport.Dial(ctx, nw.Host, addr)
	if err != nil {
		return SyncResult{}, err
	}
	s, err := transport.Open(ctx, nw.Host, p, wire.SyncProtocol)
	if err != nil {
		return SyncResult{}, fmt.Errorf("open a sync stream to %s: %w", p, err)
	}
	res, err := nw.n.Sync(s, g)
	if err != nil {
		s.Reset()
		return res, err
	}
	return res, s.Close()
}

// AntiEntropy syncs every group the node holds with each peer, one session
// at a time, and reports each session's outcome. It is the backstop that
// makes replicas converge: run on start and then periodically.
func (nw *Network) AntiEntropy(ctx context.Context, peers []string, report func(peer string, g entry.ID, res SyncResult, err error)) error {
	gs, err := nw.n.Store.Groups()
	if err != nil {
		return err
	}
	for _, p := range peers {
		for _, g := range gs {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res, err := nw.SyncWith(ctx, p, g.ID)
			report(p, g.ID, res, err)
		}
	}
	return nil
}

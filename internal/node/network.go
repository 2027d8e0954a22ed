package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/transport"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Network is the node on libp2p: it answers sync sessions and starts them,
// and keeps what `status` and `peers` report.
type Network struct {
	n    *Node
	Host host.Host
	bw   *metrics.BandwidthCounter

	mu     sync.Mutex
	synced map[entry.ID]map[peer.ID]time.Time // per group, each peer's last sync
}

// StartNetwork starts the node's libp2p host on the listen addresses (none:
// it only dials) and serves the sync protocol on it.
func (n *Node) StartNetwork(listen []string) (*Network, error) {
	bw := metrics.NewBandwidthCounter()
	h, err := transport.NewHost(n.Home.Key, listen, bw)
	if err != nil {
		return nil, err
	}
	nw := &Network{n: n, Host: h, bw: bw, synced: map[entry.ID]map[peer.ID]time.Time{}}
	transport.Handle(h, wire.SyncProtocol, func(s network.Stream) error {
		g, err := n.ServeSync(s)
		if err == nil && !g.IsZero() {
			nw.noteSync(g, s.Conn().RemotePeer())
		}
		return err
	})
	return nw, nil
}

func (nw *Network) noteSync(g entry.ID, p peer.ID) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if nw.synced[g] == nil {
		nw.synced[g] = map[peer.ID]time.Time{}
	}
	nw.synced[g][p] = nw.n.now()
}

// GroupSync is a group's standing on the network.
type GroupSync struct {
	Neighbours []string  // peers it was synced with, by peer id
	LastSync   time.Time // zero: never
}

// SyncState reports a group's neighbours and last successful sync.
func (nw *Network) SyncState(g entry.ID) GroupSync {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	var gs GroupSync
	for p, at := range nw.synced[g] {
		gs.Neighbours = append(gs.Neighbours, p.String())
		if at.After(gs.LastSync) {
			gs.LastSync = at
		}
	}
	slices.Sort(gs.Neighbours)
	return gs
}

// PeerInfo is a connected peer as `peers` reports it.
type PeerInfo struct {
	ID       string   `json:"peer_id"`
	Addrs    []string `json:"addrs"`
	Groups   []string `json:"groups"`
	BytesIn  int64    `json:"bytes_in"`
	BytesOut int64    `json:"bytes_out"`
}

// Peers lists the connected peers, with the groups synced with each.
func (nw *Network) Peers() []PeerInfo {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	var out []PeerInfo
	for _, p := range nw.Host.Network().Peers() {
		st := nw.bw.GetBandwidthForPeer(p)
		pi := PeerInfo{ID: p.String(), Addrs: []string{}, Groups: []string{}, BytesIn: st.TotalIn, BytesOut: st.TotalOut}
		for _, c := range nw.Host.Network().ConnsToPeer(p) {
			pi.Addrs = append(pi.Addrs, c.RemoteMultiaddr().String())
		}
		for g, ps := range nw.synced {
			if _, ok := ps[p]; ok {
				pi.Groups = append(pi.Groups, g.String())
			}
		}
		slices.Sort(pi.Groups)
		out = append(out, pi)
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
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
	nw.noteSync(g, p)
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

// PeerID is the node's libp2p peer id, the same key as its author id.
func (n *Node) PeerID() (string, error) {
	p, err := transport.PeerID(n.Home.Key.Public().(ed25519.PublicKey))
	return p.String(), err
}

package node

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/transport"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"
)

// A registry (serve --registry) is a well-known meeting point, as seed 001
// has it: newcomers that know only its address report there (they connect,
// and identify tells it their addresses; they announce their groups in the
// DHT, whose records it keeps as a DHT server) and ask it whom to meet: the
// members of a group, or the nodes near them by round trip
// (/hearsay/registry/1, docs/protocol.md §14). It also relays for nodes
// behind NATs, as any public node does. Nothing depends on one registry:
// any node can be one, and the DHT answers without them.

// registryPing is how often a registry measures its round trip to the
// nodes connected to it, at most registryPingBatch of them a round.
const (
	registryPing      = 15 * time.Second
	registryPingBatch = 64
)

// nearbyMeet is how many of the nodes nearest it a node connects to when a
// registry names them.
const nearbyMeet = 8

func startRegistry(nw *Network) {
	transport.Handle(nw.Host, wire.RegistryProtocol, nw.serveRegistry)
	nw.Host.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		go nw.measure(c.RemotePeer())
	}})
	ctx, cancel := context.WithCancel(context.Background())
	nw.stopRegistry = cancel
	go func() {
		t := time.NewTicker(registryPing)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				peers := nw.Host.Network().Peers()
				if len(peers) > registryPingBatch {
					peers = peers[:registryPingBatch]
				}
				for _, p := range peers {
					nw.measure(p)
				}
			}
		}
	}()
}

// measure pings p once; the peerstore keeps the round trip.
func (nw *Network) measure(p peer.ID) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	select {
	case <-ping.Ping(ctx, nw.Host, p):
	case <-ctx.Done():
	}
}

// serveRegistry answers one ask.
func (nw *Network) serveRegistry(s network.Stream) error {
	asker := s.Conn().RemotePeer()
	if nw.Banned(asker) {
		return ErrBanned
	}
	b, err := wire.ReadFrame(bufio.NewReader(s))
	if err != nil {
		return err
	}
	ask, err := wire.DecodeRegistryAsk(b)
	if err != nil {
		return err
	}
	var ids []peer.ID
	if ask.Group == ([32]byte{}) {
		ids = nw.hearsayPeers()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		provs, _ := nw.dht.ProviderStore().GetProviders(ctx, GroupKey(entry.ID(ask.Group)).Hash())
		cancel()
		for _, p := range provs {
			ids = append(ids, p.ID)
		}
	}
	ids = slices.DeleteFunc(ids, func(p peer.ID) bool { return p == asker || p == nw.Host.ID() || nw.Banned(p) })
	ps := nw.Host.Peerstore()
	rtt := func(p peer.ID) uint64 { return uint64(ps.LatencyEWMA(p).Microseconds()) }
	slices.SortStableFunc(ids, func(a, b peer.ID) int { // measured first, nearest first
		ra, rb := rtt(a), rtt(b)
		switch {
		case ra == rb:
			return 0
		case ra == 0:
			return 1
		case rb == 0:
			return -1
		case ra < rb:
			return -1
		}
		return 1
	})
	ans := wire.RegistryPeers{AskerRTTus: rtt(asker)}
	for _, p := range ids {
		if len(ans.Peers) == ask.Limit {
			break
		}
		rp := wire.RegistryPeer{ID: []byte(p), RTTus: rtt(p)}
		for _, a := range ps.Addrs(p) {
			if len(rp.Addrs) < wire.MaxAddrs {
				rp.Addrs = append(rp.Addrs, a.Bytes())
			}
		}
		if len(rp.Addrs) > 0 {
			ans.Peers = append(ans.Peers, rp)
		}
	}
	out, err := wire.EncodeRegistryPeers(ans)
	if err != nil {
		return err
	}
	return wire.WriteFrame(s, out)
}

// hearsayPeers are the connected peers that speak hearsay's sync protocol.
func (nw *Network) hearsayPeers() []peer.ID {
	var out []peer.ID
	for _, p := range nw.Host.Network().Peers() {
		if ok, _ := nw.Host.Peerstore().SupportsProtocols(p, protocol.ID(wire.SyncProtocol)); len(ok) > 0 {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// registries are the connected peers that are registries.
func (nw *Network) registries() []peer.ID {
	var out []peer.ID
	for _, p := range nw.Host.Network().Peers() {
		if ok, _ := nw.Host.Peerstore().SupportsProtocols(p, protocol.ID(wire.RegistryProtocol)); len(ok) > 0 {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// askRegistry asks registry r for the members of g (zero: the nodes it
// knows), at most limit; their addresses go to the peerstore.
func (nw *Network) askRegistry(ctx context.Context, r peer.ID, g entry.ID, limit int) ([]peer.AddrInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := transport.Open(transport.ThroughRelays(ctx), nw.Host, r, wire.RegistryProtocol)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := wire.WriteFrame(s, wire.EncodeRegistryAsk(wire.RegistryAsk{Group: g, Limit: limit})); err != nil {
		s.Reset()
		return nil, err
	}
	b, err := wire.ReadFrame(bufio.NewReader(s))
	if err != nil {
		s.Reset()
		return nil, err
	}
	ans, err := wire.DecodeRegistryPeers(b)
	if err != nil {
		s.Reset()
		nw.charge(r, Classify(err))
		return nil, err
	}
	var out []peer.AddrInfo
	for _, rp := range ans.Peers {
		id, err := peer.IDFromBytes(rp.ID)
		if err != nil || id == nw.Host.ID() {
			continue
		}
		info := peer.AddrInfo{ID: id}
		for _, a := range rp.Addrs {
			if m, err := ma.NewMultiaddrBytes(a); err == nil {
				info.Addrs = append(info.Addrs, m)
			}
		}
		nw.Host.Peerstore().AddAddrs(id, info.Addrs, peerstore.TempAddrTTL)
		out = append(out, info)
	}
	return out, nil
}

// Nearby is a node and this node's round trip to it.
type Nearby struct {
	ID    string        `json:"peer_id"`
	Addrs []string      `json:"addrs"`
	RTT   time.Duration `json:"rtt_ns"`
}

// Nearby asks the registries this node is connected to for the nodes they
// know, measures its own round trip to each (connecting to it), and lists
// them nearest first; those it could not reach are left out.
func (nw *Network) Nearby(ctx context.Context) ([]Nearby, error) {
	regs := nw.registries()
	if len(regs) == 0 {
		return nil, fmt.Errorf("not connected to any registry (a node serving with --registry): add one as --bootstrap")
	}
	seen := map[peer.ID]peer.AddrInfo{}
	for _, r := range regs {
		infos, err := nw.askRegistry(ctx, r, entry.ID{}, wire.MaxRegistryPeers)
		if err != nil {
			continue
		}
		for _, info := range infos {
			seen[info.ID] = info
		}
	}
	var (
		mu  sync.Mutex
		out []Nearby
		wg  sync.WaitGroup
	)
	for _, info := range seen {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if nw.Banned(info.ID) || nw.Host.Connect(transport.ThroughRelays(pctx), info) != nil {
				return
			}
			res := <-ping.Ping(transport.ThroughRelays(pctx), nw.Host, info.ID)
			if res.Error != nil {
				return
			}
			n := Nearby{ID: info.ID.String(), RTT: res.RTT, Addrs: []string{}}
			for _, a := range info.Addrs {
				n.Addrs = append(n.Addrs, a.String())
			}
			mu.Lock()
			out = append(out, n)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b Nearby) int { return cmp.Or(cmp.Compare(a.RTT, b.RTT), strings.Compare(a.ID, b.ID)) })
	return out, nil
}

// greetRegistry, when p is a registry met for the first time since start,
// connects in the background to the nodes nearest this one that it names:
// so newcomers that know only a registry find each other.
func (nw *Network) greetRegistry(p peer.ID) {
	type identifier interface{ IDService() identify.IDService }
	if id, ok := nw.Host.(identifier); ok {
		for _, c := range nw.Host.Network().ConnsToPeer(p) {
			select {
			case <-id.IDService().IdentifyWait(c):
			case <-time.After(5 * time.Second):
			}
			break
		}
	}
	if ok, _ := nw.Host.Peerstore().SupportsProtocols(p, protocol.ID(wire.RegistryProtocol)); len(ok) == 0 {
		return
	}
	nw.mu.Lock()
	met := nw.registriesMet[p]
	nw.registriesMet[p] = true
	nw.mu.Unlock()
	if !met {
		go nw.meetNearby()
	}
}

// meetNearby connects to the nodes nearest this one that the registries
// name, and remembers them.
func (nw *Network) meetNearby() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	near, err := nw.Nearby(ctx)
	if err != nil {
		return
	}
	for i, n := range near {
		if i == nearbyMeet {
			break
		}
		if id, err := peer.Decode(n.ID); err == nil {
			nw.mu.Lock()
			nw.known[id] = true
			nw.mu.Unlock()
		}
	}
}

// membersFromRegistries asks the connected registries for members of g.
func (nw *Network) membersFromRegistries(ctx context.Context, g entry.ID) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, r := range nw.registries() {
		infos, err := nw.askRegistry(ctx, r, g, wire.MaxRegistryPeers)
		if err != nil {
			continue
		}
		for _, info := range infos {
			if !slices.ContainsFunc(out, func(o peer.AddrInfo) bool { return o.ID == info.ID }) {
				out = append(out, info)
			}
		}
	}
	return out
}

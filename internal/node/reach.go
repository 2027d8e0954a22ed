package node

import (
	"context"
	"slices"
	"strings"
	"time"

	"hearsay/internal/transport"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// RelayLimits bound what a public node relays for others (transport's).
type RelayLimits = transport.RelayLimits

// DefaultRelayLimits are the relay's limits unless the operator sets others.
func DefaultRelayLimits() RelayLimits { return transport.DefaultRelayLimits() }

// Reachability is what a node believes about being dialable (transport's).
type Reachability = transport.Reachability

const (
	ReachAuto    = transport.ReachAuto
	ReachPublic  = transport.ReachPublic
	ReachPrivate = transport.ReachPrivate
)

// NetConfig is how a serving node meets the network (docs/reachability.md).
type NetConfig struct {
	Listen []string
	// Reach makes the node reachable from behind a NAT: AutoNAT, a relay
	// slot while private, hole punching, port mapping (transport.Options).
	Reach        bool
	Reachability Reachability
	// Relay, when not nil, relays for peers behind NATs, within its limits,
	// while the node is public.
	Relay *RelayLimits
	// PortMap asks the router for a port by UPnP or NAT-PMP; MDNS finds
	// nodes on the local network. Both only for a node that listens on an
	// address other than loopback, where neither could help.
	PortMap bool
	MDNS    bool
	// Registry makes the node a well-known meeting point: always a DHT
	// server, answering /hearsay/registry/1 (registry.go).
	Registry bool
	// DNS is the DNS server (HOST:PORT) that resolves /dnsaddr/ bootstrap
	// names; "": the system's.
	DNS string
	// Sessions bound the sync sessions served (synclimits.go); nil:
	// DefaultSessionRates.
	Sessions *SessionRates
	// UnsharedLinks has each group choose its neighbours alone, not
	// preferring peers linked to for another (gossip.Config.ShareLinks):
	// for measuring what sharing saves.
	UnsharedLinks bool
}

// mdnsService is the name hearsay nodes announce themselves under on the
// local network: their own, so that they find each other and not every
// libp2p program on it.
const mdnsService = "_hearsay._udp"

// onlyLoopback reports whether every listen address is a loopback one.
func onlyLoopback(listen []string) bool {
	for _, a := range listen {
		m, err := ma.NewMultiaddr(a)
		if err != nil || !manet.IsIPLoopback(m) {
			return false
		}
	}
	return true
}

// startLAN starts mDNS: nodes on the local network are met as they are found.
func (nw *Network) startLAN() error {
	s := mdns.NewMdnsService(nw.Host, mdnsService, lanNotifee{nw})
	if err := s.Start(); err != nil {
		return err
	}
	nw.mdns = s
	return nil
}

type lanNotifee struct{ nw *Network }

// HandlePeerFound dials a node mDNS found; Run greets it as it connects.
func (l lanNotifee) HandlePeerFound(info peer.AddrInfo) {
	nw := l.nw
	if info.ID == nw.Host.ID() || nw.Banned(info.ID) {
		return
	}
	nw.Host.Peerstore().AddAddrs(info.ID, info.Addrs, peerstore.TempAddrTTL)
	nw.mu.Lock()
	nw.known[info.ID] = true
	nw.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		nw.Host.Connect(ctx, info)
	}()
}

// relayedGrace is how long a relayed connection outlives a direct one to
// the same peer: enough for what it carries to finish.
const relayedGrace = 2 * time.Second

// dropRelayed closes p's relayed connections soon after a direct one
// opened (a hole punch, or a dial that worked): new streams take the
// direct one anyway, the relay's slot and bytes are spared, and the
// streams on the relayed connection move to the direct one when they
// are opened again.
func (nw *Network) dropRelayed(c network.Conn) {
	if transport.Relayed(c) {
		return
	}
	p := c.RemotePeer()
	if !slices.ContainsFunc(nw.Host.Network().ConnsToPeer(p), transport.Relayed) {
		return
	}
	time.AfterFunc(relayedGrace, func() {
		conns := nw.Host.Network().ConnsToPeer(p)
		if !slices.ContainsFunc(conns, func(c network.Conn) bool { return !transport.Relayed(c) && !c.IsClosed() }) {
			return
		}
		for _, c := range conns {
			if transport.Relayed(c) {
				c.Close()
			}
		}
	})
}

// ReachStatus is how the node is reached, as `status` shows it.
type ReachStatus struct {
	// Reachability is public, private or unknown (AutoNAT v1 for the
	// host); ReachableAddrs and UnreachableAddrs are the addresses AutoNAT
	// v2 confirmed one way or the other.
	Reachability     string   `json:"reachability"`
	ReachableAddrs   []string `json:"reachable_addrs"`
	UnreachableAddrs []string `json:"unreachable_addrs"`
	// RelayReservations are the relayed addresses this node holds a slot
	// for, through which nodes behind other NATs reach it.
	RelayReservations []string              `json:"relay_reservations"`
	HolePunches       []transport.HolePunch `json:"hole_punches"`
	// Relay is what this node relays for others; nil: it relays for nobody.
	Relay *transport.RelayStats `json:"relay,omitempty"`
	// Connections are the live connections, each relayed or direct.
	Connections []ConnStatus `json:"connections"`
	Registry    bool         `json:"registry"`
}

// ConnStatus is one live connection.
type ConnStatus struct {
	Peer      string `json:"peer_id"`
	Addr      string `json:"addr"`
	Relayed   bool   `json:"relayed"`
	Direction string `json:"direction"` // inbound or outbound
	Opened    string `json:"opened"`    // RFC 3339
}

// Reachability reports how the node is reached.
func (nw *Network) Reachability() ReachStatus {
	st := ReachStatus{Reachability: "unknown", ReachableAddrs: []string{}, UnreachableAddrs: []string{},
		RelayReservations: []string{}, HolePunches: []transport.HolePunch{}, Connections: []ConnStatus{}, Registry: nw.cfg.Registry}
	if r := nw.reach; r != nil {
		st.Reachability = r.Reachability()
		re, un := r.ConfirmedAddrs()
		st.ReachableAddrs = append(st.ReachableAddrs, re...)
		st.UnreachableAddrs = append(st.UnreachableAddrs, un...)
		st.RelayReservations = append(st.RelayReservations, r.Reservations()...)
		st.HolePunches = append(st.HolePunches, r.HolePunches()...)
		st.Relay = r.Relay()
	}
	for _, c := range nw.Host.Network().Conns() {
		dir := "outbound"
		if c.Stat().Direction == network.DirInbound {
			dir = "inbound"
		}
		st.Connections = append(st.Connections, ConnStatus{Peer: c.RemotePeer().String(), Addr: c.RemoteMultiaddr().String(),
			Relayed: transport.Relayed(c), Direction: dir, Opened: c.Stat().Opened.UTC().Format(time.RFC3339Nano)})
	}
	slices.SortFunc(st.Connections, func(a, b ConnStatus) int {
		return strings.Compare(a.Peer+a.Addr, b.Peer+b.Addr)
	})
	return st
}

// resolveBootstrap expands /dnsaddr/ bootstrap names into peer addresses;
// a name that does not resolve is reported and skipped.
func (nw *Network) resolveBootstrap(ctx context.Context, addrs []string, report Report) []string {
	var out []string
	for _, a := range addrs {
		if !transport.IsDNSAddr(a) {
			out = append(out, a)
			continue
		}
		got, err := transport.Resolve(ctx, nw.resolver, a)
		if err != nil {
			report(a, "", SyncResult{}, err)
			continue
		}
		out = append(out, got...)
	}
	if err := nw.Remember(slices.DeleteFunc(slices.Clone(out), transport.IsDNSAddr)); err != nil {
		report("", "", SyncResult{}, err)
	}
	return out
}

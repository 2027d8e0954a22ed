package transport

import (
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
)

// Limits bound what the host gives all peers together and each peer alone
// (connections, streams, the memory its transports reserve), so that one
// peer, or many fresh identities, cannot take a node's file descriptors or
// memory from the rest (docs/security.md, "Stream and connection
// exhaustion"). libp2p's resource manager refuses what goes beyond them, a
// stream or a connection at a time, before any hearsay code runs.
type Limits struct {
	Conns          int   // connections in all
	ConnsInbound   int   // of which the peers opened
	ConnsPerPeer   int   // connections to one peer
	Streams        int   // streams in all
	StreamsPerPeer int   // streams with one peer, every protocol
	Memory         int64 // bytes the transports reserve in all
	MemoryPerPeer  int64 // bytes they reserve for one peer
	// StreamsPerPeerInbound bounds the streams one peer opens to each
	// protocol named: how many sync sessions, blob requests, … it can have
	// the node serve at once (the node names its protocols').
	StreamsPerPeerInbound map[protocol.ID]int
	// KeepConns is how many connections the connection manager keeps
	// before it trims the least useful; a peer in one of the node's overlays
	// is protected and never trimmed (internal/gossip tags it).
	KeepConns int
}

// DefaultLimits are a host's limits; docs/security.md gives the reason for
// each.
var DefaultLimits = Limits{
	Conns:          2048,
	ConnsInbound:   1024,
	ConnsPerPeer:   8,
	Streams:        8192,
	StreamsPerPeer: 512,
	Memory:         1 << 30,
	MemoryPerPeer:  64 << 20,
	KeepConns:      512,
}

// resourceManager builds libp2p's resource manager from l. Whatever l does
// not name keeps libp2p's defaults, scaled to the machine.
func (l Limits) resourceManager() (network.ResourceManager, error) {
	cfg := rcmgr.PartialLimitConfig{
		System: rcmgr.ResourceLimits{
			Conns:        rcmgr.LimitVal(l.Conns),
			ConnsInbound: rcmgr.LimitVal(l.ConnsInbound),
			Streams:      rcmgr.LimitVal(l.Streams),
			Memory:       rcmgr.LimitVal64(l.Memory),
		},
		PeerDefault: rcmgr.ResourceLimits{
			Conns:   rcmgr.LimitVal(l.ConnsPerPeer),
			Streams: rcmgr.LimitVal(l.StreamsPerPeer),
			Memory:  rcmgr.LimitVal64(l.MemoryPerPeer),
		},
		ProtocolPeer: make(map[protocol.ID]rcmgr.ResourceLimits, len(l.StreamsPerPeerInbound)),
	}
	for p, n := range l.StreamsPerPeerInbound {
		cfg.ProtocolPeer[p] = rcmgr.ResourceLimits{StreamsInbound: rcmgr.LimitVal(n)}
	}
	defaults := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&defaults) // identify, ping, AutoNAT, relay, hole punching
	return rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(cfg.Build(defaults.AutoScale())))
}

// connManager keeps up to KeepConns connections, trimming down to three
// quarters of that, and spares new connections for a minute.
func (l Limits) connManager() (*connmgr.BasicConnMgr, error) {
	return connmgr.NewConnManager(l.KeepConns*3/4, l.KeepConns, connmgr.WithGracePeriod(time.Minute))
}

package node

import (
	"github.com/libp2p/go-libp2p/core/protocol"

	"hearsay/internal/transport"
	"hearsay/internal/wire"
)

// hostLimits are the host's limits (transport.DefaultLimits) with, for each
// hearsay protocol, the streams one peer may have the node serve at once
// (docs/security.md, "Stream and connection exhaustion").
func hostLimits() *transport.Limits {
	l := transport.DefaultLimits
	l.StreamsPerPeerInbound = map[protocol.ID]int{
		// One stream per direction; a reconnecting peer's new stream may
		// overlap its old one for a moment.
		wire.GossipProtocol: 4,
		// A node opens one session per group and peer at a time; a peer
		// sharing many groups with this one may sync several at once.
		wire.SyncProtocol: 32,
		// A file read fetches up to 16 shards at once (blobclient.go), and
		// placement stores several; a few reads may overlap.
		wire.BlobProtocol:     64,
		wire.RegistryProtocol: 4,
	}
	return &l
}

package gossip

import (
	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
	"hearsay/internal/wire"
)

// The kinds of control message Stats.ControlByKind counts apart.
const (
	kindJoin      = iota // Join, ForwardJoin
	kindNeighbour        // Neighbor, NeighborReply, Disconnect
	kindShuffle          // Shuffle, ShuffleReply
	kindTrade            // Optimize, OptimizeReply
	kindHolds            // the groups a peer holds (links.go)
	kindIHave
	kindGraftPrune
	numKinds
)

// ControlKinds names the kinds, in Stats.ControlByKind's order: the
// simulator's idle_msgs_by_kind splits its figures alike, so that the two
// can be set side by side.
var ControlKinds = [numKinds]string{kindJoin: "join", kindNeighbour: "neighbour", kindShuffle: "shuffle",
	kindTrade: "trade", kindHolds: "holds", kindIHave: "ihave", kindGraftPrune: "graft-prune"}

// controlKind is m's kind. REQUIRES: m is not a pushed entry
// (plumtree.Gossip).
func controlKind(m wire.Gossip) int {
	switch m.Overlay.(type) {
	case hyparview.Join, hyparview.ForwardJoin:
		return kindJoin
	case hyparview.Neighbor, hyparview.NeighborReply, hyparview.Disconnect:
		return kindNeighbour
	case hyparview.Shuffle, hyparview.ShuffleReply:
		return kindShuffle
	case hyparview.Optimize, hyparview.OptimizeReply:
		return kindTrade
	}
	switch m.Broadcast.(type) {
	case plumtree.IHave:
		return kindIHave
	case plumtree.Graft, plumtree.Prune:
		return kindGraftPrune
	}
	return kindHolds // the one message with neither
}

// Package hyparview keeps a group's overlay: each node's small active view
// (the neighbours it exchanges messages with) and larger passive view (the
// candidates that replace failed neighbours), after Leitão, Pereira and
// Rodrigues, "HyParView: a membership protocol for reliable gossip-based
// broadcast" (DSN 2007).
//
// A joining node's id travels random walks (ForwardJoin) so that it lands in
// active views across the overlay and in passive views along the way;
// periodic Shuffles mix the passive views; a failed or departed neighbour is
// replaced by a passive one through a Neighbor request, high priority when a
// node has no neighbour left. The result is a connected, nearly symmetric
// overlay of bounded degree that repairs itself.
//
// Beyond the paper, a repair tick gives up Neighbor requests that got no
// reply, and lets a node left with few neighbours and no candidate (a lost
// Join, an island that loss and failures cut off) ask for names and, if
// none come, report itself Isolated so that its driver rejoins it. And,
// after X-BOT, a node trades slow neighbours for faster passive peers,
// with round-trip times its driver measures (Measure, Measured), keeping
// the links its driver's broadcast tree uses (optimize.go).
//
// The package is pure, in the shape of etcd's raft: State.Step takes one
// Input (a message, a fired timer, a peer down, a local command) and returns
// the Outputs (messages to send, neighbours up and down, timers to set). It
// reads no clock and draws randomness only from the generator it is given,
// so the simulator and the node drive the same code. NeighborUp and
// NeighborDown feed the broadcast layer (Plumtree).
package hyparview

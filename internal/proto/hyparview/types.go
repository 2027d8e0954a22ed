package hyparview

import "time"

// PeerID names a node: opaque and comparable (a libp2p peer id, or an index
// in the simulator).
type PeerID string

// Config sets the view sizes and walk lengths.
type Config struct {
	// ActiveSize bounds the active view: the "max peers per group".
	// REQUIRES: ActiveSize <= 64.
	ActiveSize int
	// PassiveSize bounds the passive view.
	PassiveSize int
	// ARWL is the active random walk length of a ForwardJoin and a Shuffle.
	ARWL int
	// PRWL is the step of a ForwardJoin walk at which the new node enters
	// the passive view.
	PRWL int
	// ShuffleActive and ShufflePassive are how many ids of each view a
	// Shuffle carries (ka and kp in the paper).
	ShuffleActive, ShufflePassive int
	// ShuffleEvery is the shuffle period.
	ShuffleEvery time.Duration
	// RepairEvery is the period of the repair tick, at which lost requests
	// are given up and a node short of neighbours looks for more (see
	// State.repair); its rounds back off to one per ShuffleEvery. Zero
	// turns the tick off. REQUIRES: RepairEvery <= ShuffleEvery.
	RepairEvery time.Duration
	// OptimizeEvery is the period of the optimization tick, at which a
	// node measures its peers and trades its slowest neighbour for a
	// faster passive peer, or offers a short view's free slot to the
	// fastest (see optimize.go). Zero turns it off.
	OptimizeEvery time.Duration
	// Unbiased is how many neighbours that came by the random walks and
	// repairs are kept whatever their round-trip time, so that the overlay
	// stays an expander when latency has a geography.
	Unbiased int
}

// DefaultConfig follows the paper's evaluation: active view log10(n)+c with
// c = 1 for n = 10^4 (5), passive view k(log10(n)+c) with k = 6 (30), ARWL 6,
// PRWL 3, ka 3, kp 4; and iroh-gossip's 60 s shuffle period. The repair
// tick is ours (the paper repairs only on failures): 5 s, a few round trips
// after a lost Join or Neighbor request, and free when the view is full.
// The optimization follows X-BOT (Leitão, Marques, Pereira and Rodrigues,
// SRDS 2009), which keeps some neighbours unbiased; we keep one of five,
// and tick every second.
func DefaultConfig() Config {
	return Config{ActiveSize: 5, PassiveSize: 30, ARWL: 6, PRWL: 3, ShuffleActive: 3, ShufflePassive: 4,
		ShuffleEvery: 60 * time.Second, RepairEvery: 5 * time.Second, OptimizeEvery: time.Second, Unbiased: 1}
}

// Message is what nodes send each other.
type Message interface{ isMessage() }

// Join asks the receiver, the contact, to take the sender into its active
// view and announce it.
type Join struct{}

// ForwardJoin carries a new node's id on a random walk.
type ForwardJoin struct {
	Peer PeerID
	TTL  int
}

// Neighbor asks to be taken into the receiver's active view. High priority
// is for a node with no neighbour left: it is always accepted.
type Neighbor struct{ High bool }

// NeighborReply answers a Neighbor request.
type NeighborReply struct{ Accept bool }

// Disconnect tells a neighbour it was dropped from the sender's active view.
// Suggest, if set, names a peer that has just lost a neighbour too, to ask
// first (see optimize.go).
type Disconnect struct{ Suggest PeerID }

// Shuffle carries a sample of the origin's views on a random walk.
type Shuffle struct {
	Origin PeerID
	TTL    int
	Peers  []PeerID
}

// ShuffleReply answers a Shuffle with a sample of the receiver's passive view.
type ShuffleReply struct{ Peers []PeerID }

// Optimize asks a passive peer to take the sender into its active view in
// place of a slower neighbour; RTT is the round-trip time the sender
// measured to it.
type Optimize struct{ RTT time.Duration }

// OptimizeReply answers an Optimize. Dropped names the neighbour the
// receiver let go to make room, if any.
type OptimizeReply struct {
	Accept  bool
	Dropped PeerID
}

func (Join) isMessage()          {}
func (ForwardJoin) isMessage()   {}
func (Neighbor) isMessage()      {}
func (NeighborReply) isMessage() {}
func (Disconnect) isMessage()    {}
func (Shuffle) isMessage()       {}
func (ShuffleReply) isMessage()  {}
func (Optimize) isMessage()      {}
func (OptimizeReply) isMessage() {}

// Input is what a node feeds its State.
type Input interface{ isInput() }

// JoinVia is the local command to join the overlay through a contact.
type JoinVia struct{ Contact PeerID }

// Receive is a message from a peer.
type Receive struct {
	From PeerID
	Msg  Message
}

// TimerFired returns a timer the State set.
type TimerFired struct{ Timer Timer }

// PeerDown reports that a peer cannot be reached.
type PeerDown struct{ Peer PeerID }

// Drop is the policy's order to cut a peer off: it leaves both views.
type Drop struct{ Peer PeerID }

// Measured reports the round-trip time to a peer that Measure asked for.
type Measured struct {
	Peer PeerID
	RTT  time.Duration
}

// Suggest names a peer that holds the group and that the driver links to
// for another: it enters the passive view (shared.go).
type Suggest struct{ Peer PeerID }

func (JoinVia) isInput()    {}
func (Suggest) isInput()    {}
func (Receive) isInput()    {}
func (TimerFired) isInput() {}
func (PeerDown) isInput()   {}
func (Drop) isInput()       {}
func (Measured) isInput()   {}

// Output is what the State asks its driver to do.
type Output interface{ isOutput() }

// Send asks to deliver a message.
type Send struct {
	To  PeerID
	Msg Message
}

// NeighborUp reports a peer entering the active view.
type NeighborUp struct{ Peer PeerID }

// NeighborDown reports a peer leaving the active view.
type NeighborDown struct{ Peer PeerID }

// SetTimer asks for Timer to be fed back after a delay.
type SetTimer struct {
	Timer Timer
	After time.Duration
}

// Isolated reports that the node has no neighbour, or at most half its
// active view, and no candidate left, even after asking the overlay for
// names: it is alone or on an island. The driver should find a contact
// (bootstrap peers, the DHT) and JoinVia it, even when the active view is
// not empty. It repeats, backing off to once per shuffle period, while the
// node stays so; a driver with no new contact to offer ignores it.
type Isolated struct{}

// Measure asks the driver for the round-trip time to a peer, to be fed
// back as Measured; one that cannot be reached is reported PeerDown, or
// left unanswered.
type Measure struct{ Peer PeerID }

func (Isolated) isOutput()     {}
func (Measure) isOutput()      {}
func (Send) isOutput()         {}
func (NeighborUp) isOutput()   {}
func (NeighborDown) isOutput() {}
func (SetTimer) isOutput()     {}

// Timer names a timer the State sets.
type Timer int

// Timers.
const (
	ShuffleTimer Timer = iota + 1
	RepairTimer
	OptimizeTimer
)

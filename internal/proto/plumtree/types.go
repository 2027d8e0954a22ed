package plumtree

import "time"

// PeerID names a neighbour, as the overlay does.
type PeerID string

// MessageID names a message: for hearsay, an entry id.
type MessageID [32]byte

// Store reads the payloads this node holds, to answer grafts.
type Store interface {
	Payload(id MessageID) ([]byte, bool)
}

// Config sets the timing.
type Config struct {
	// GraftTimeout is how long an announced id may stay missing before a
	// Graft asks for it; RetryTimeout spaces further grafts to other
	// announcers.
	GraftTimeout, RetryTimeout time.Duration
	// IHaveEvery is how often announcements go out, batched per peer.
	IHaveEvery time.Duration
	// MaxSeen bounds the ids remembered as received; the oldest are
	// forgotten first (a late duplicate is then delivered again, and the
	// store discards it).
	MaxSeen int
	// MaxMissing bounds the ids announced but not received that the node
	// tracks, each with a graft timer; further announcements are ignored
	// until some timers have run out, and anti-entropy brings those ids. A
	// peer may announce ids at any rate (one IHave carries thousands), and
	// none of them need exist.
	MaxMissing int
	// PruneWindow is how long a message received here counts as in
	// flight when deciding which duplicates prune (see prune.go); it
	// should cover the time a message takes to spread through the group.
	// Zero prunes on every duplicate, as the paper does.
	PruneWindow time.Duration
	// PromiseTimeout is how long an announcer a Graft asked for a message
	// has to send it before its promise counts as broken (Broken, after
	// GossipSub's P7): it announced the message and then did not serve it.
	// Zero tracks no promises.
	PromiseTimeout time.Duration
}

// DefaultConfig grafts after 500 ms, retries after 250 ms, and batches
// announcements every 50 ms. NB: the graft timeout must exceed the spread of
// arrival times along the tree, or a lazy announcement beats the eager copy
// and the graft doubles it: on the simulator's 10–100 ms links, iroh-gossip's
// 80 ms gives a redundancy of 0.49, 250 ms 0.17, 500 ms 0.001. The prune
// window must cover about the spread of a post, or overlapping tokens cut
// the tree, and no more, or tokens come rarer than needed and a new tree
// forms slowly. On those links (docs/scale.md), 1 s keeps the redundancy at
// 0.03 or less from 10^3 to 10^5 members with a post every 500 ms, and on
// 100 members with a post every 100 ms; 500 ms let the 10^5-member tree
// flap (0.16); 2 s formed the tree more slowly with a post every 20 ms.
// An announcer asked by a graft has 3 s to answer, GossipSub's
// IWantFollowupTime: a graft is answered from the store at once, so only a
// link far slower than a round trip, or a peer that withholds, misses it.
func DefaultConfig() Config {
	return Config{GraftTimeout: 500 * time.Millisecond, RetryTimeout: 250 * time.Millisecond,
		IHaveEvery: 50 * time.Millisecond, MaxSeen: 1 << 16, MaxMissing: 1 << 12, PruneWindow: time.Second,
		PromiseTimeout: 3 * time.Second}
}

// Message is what nodes send each other.
type Message interface{ isMessage() }

// Gossip carries a message; Round counts its hops from the origin.
type Gossip struct {
	ID      MessageID
	Payload []byte
	Round   int
}

// IHave announces ids the sender has received.
type IHave struct{ Announced []Announcement }

// Announcement is one id of an IHave and the round it arrived in.
type Announcement struct {
	ID    MessageID
	Round int
}

// Graft asks for a message and makes the link eager. The link is on
// probation until it delivers a first copy: a duplicate over it prunes it
// at once (see prune.go).
type Graft struct {
	ID    MessageID
	Round int
}

// Prune makes the link lazy: the sender had the message already.
type Prune struct{}

func (Gossip) isMessage() {}
func (IHave) isMessage()  {}
func (Graft) isMessage()  {}
func (Prune) isMessage()  {}

// Input is what a node feeds its State.
type Input interface{ isInput() }

// Broadcast is a local message to spread (already stored here).
type Broadcast struct {
	ID      MessageID
	Payload []byte
}

// Receive is a message from a neighbour.
type Receive struct {
	From PeerID
	Msg  Message
}

// NeighborUp and NeighborDown come from the overlay.
type NeighborUp struct{ Peer PeerID }

// NeighborDown removes a neighbour.
type NeighborDown struct{ Peer PeerID }

// Arrived reports a copy of a message from a peer that the driver holds
// back (to admit it first) instead of handing it over as a Receive: the
// peer kept any promise it made for the message, whatever admission makes
// of it.
type Arrived struct {
	From PeerID
	ID   MessageID
}

// TimerFired returns a timer the State set.
type TimerFired struct{ Timer Timer }

func (Arrived) isInput()      {}
func (Broadcast) isInput()    {}
func (Receive) isInput()      {}
func (NeighborUp) isInput()   {}
func (NeighborDown) isInput() {}
func (TimerFired) isInput()   {}

// Output is what the State asks its driver to do.
type Output interface{ isOutput() }

// Send asks to deliver a message to a neighbour.
type Send struct {
	To  PeerID
	Msg Message
}

// Deliver hands a message received for the first time to the node, which
// stores it (after full admission) and applies it.
type Deliver struct {
	ID      MessageID
	Payload []byte
	From    PeerID
	Round   int
}

// SetTimer asks for Timer to be fed back after a delay.
type SetTimer struct {
	Timer Timer
	After time.Duration
}

// Broken reports a broken promise (GossipSub's P7): Peer announced ID, a
// Graft asked it for the message, and it did not send it within
// PromiseTimeout. A peer is reported once for the grafts it left
// unanswered together: its other promises pending then are forgiven, so
// that a stall costs it one report, not one per message (see promise.go).
type Broken struct {
	Peer PeerID
	ID   MessageID
}

func (Send) isOutput()     {}
func (Deliver) isOutput()  {}
func (SetTimer) isOutput() {}
func (Broken) isOutput()   {}

// Timer names a timer: the IHave flush, a missing id's graft, a received
// id leaving the prune window, or a graft's promise falling due.
type Timer struct {
	Kind TimerKind
	ID   MessageID // for GraftTimer, WindowTimer and PromiseTimer
}

// TimerKind says what a timer is for.
type TimerKind int

// Timer kinds.
const (
	IHaveTimer TimerKind = iota + 1
	GraftTimer
	WindowTimer
	PromiseTimer
)

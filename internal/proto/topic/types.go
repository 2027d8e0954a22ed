package topic

import (
	"time"

	"hearsay/internal/proto/hyparview"
	"hearsay/internal/proto/plumtree"
)

// PeerID names a peer, as the overlay does.
type PeerID = hyparview.PeerID

// Config sets the two cores and the policy's bounds.
type Config struct {
	Overlay   hyparview.Config
	Broadcast plumtree.Config
	// IsolatedEvery bounds how often the isolated fallback acts: a meeting
	// with a member that is gone fails at once and isolates the overlay
	// again, and acting on each report made a loop (gossip's
	// TestIsolatedIsNotALoop).
	IsolatedEvery time.Duration
	// FindTimeout is how long a FindContacts may go unanswered before the
	// fallback asks again.
	FindTimeout time.Duration
	// MaxMembers bounds the members remembered as synced with; the one
	// synced with longest ago is forgotten first.
	MaxMembers int
	// MaxBans bounds the bans the core holds, and the demotions; beyond
	// it, the one that expires first goes (the driver's own check of a ban
	// stays).
	MaxBans int
	// DemoteFor is how long a Demote holds: the score's penalties halve
	// in 10 minutes (proto/score's DefaultParams), and each new charge
	// that leaves the peer below the gossip threshold demotes it again.
	DemoteFor time.Duration
	// FloodWindow, MaxDuplicates and MaxFuture bound the copies of entries
	// held here (beyond two for each entry new here) and the entries dated
	// beyond the allowed clock skew that a peer may push within a window
	// before it is charged a flood (flood.go). A zero window counts none.
	FloodWindow              time.Duration
	MaxDuplicates, MaxFuture int
}

// DefaultConfig uses the cores' defaults; the fallback acts at most once a
// second, waits 30 s for contacts (above the node's 20 s session timeout),
// remembers 64 members and 1,024 bans, demotes for 10 minutes, and
// charges a flood beyond 16 duplicates (and two per entry new here) or 50
// entries from the future a peer pushes within 10 s (flood.go says why).
func DefaultConfig() Config {
	return Config{Overlay: hyparview.DefaultConfig(), Broadcast: plumtree.DefaultConfig(),
		IsolatedEvery: time.Second, FindTimeout: 30 * time.Second, MaxMembers: 64, MaxBans: 1024,
		DemoteFor: 10 * time.Minute, FloodWindow: 10 * time.Second, MaxDuplicates: 16, MaxFuture: 50}
}

// Input is what a driver feeds its State.
type Input interface{ isInput() }

// Start arms the cores' timers; it comes first, once.
type Start struct{}

// Join enters the overlay through a peer known to replicate the group, if
// the overlay has no neighbour yet; otherwise it does nothing.
type Join struct{ Contact PeerID }

// Meet takes a peer as a neighbour even when the overlay has neighbours.
type Meet struct{ Peer PeerID }

// Leave quits the overlay, telling the neighbours; the driver then drops
// the State.
type Leave struct{}

// Receive is a message from a peer: exactly one of Overlay and Broadcast is
// set. The driver checked its format (and a pushed entry's id and group).
type Receive struct {
	From      PeerID
	Overlay   hyparview.Message
	Broadcast plumtree.Message
}

// Broadcast spreads an entry stored here.
type Broadcast struct {
	ID      plumtree.MessageID
	Payload []byte
}

// Admitted answers an Admit: OK says the entry is stored (now, or already)
// and may be forwarded; Future that admission refused it as dated beyond
// the allowed clock skew (it waits for its time; many from one peer are a
// flood, flood.go).
type Admitted struct {
	From       PeerID
	Msg        plumtree.Gossip
	OK, Future bool
}

// TimerFired returns a timer the State set.
type TimerFired struct{ Timer Timer }

// PeerDown reports that a peer cannot be reached.
type PeerDown struct{ Peer PeerID }

// Measured reports the round trip to a peer that Measure asked for.
type Measured struct {
	Peer PeerID
	RTT  time.Duration
}

// Round is the anti-entropy tick: the State answers with at most one
// Reconcile. Candidates are peers the driver offers when the State knows
// nobody (the node's connected known peers); they may not replicate the
// group. Prefer are the peers the driver syncs with in this tick for its
// other groups: the State picks one of those that is in either of its
// views when there is one, so that one exchange with a peer carries
// several groups' rounds (protocol.md §10, the probe).
type Round struct{ Candidates, Prefer []PeerID }

// SyncDone reports a sync session with a peer that ended well, either side
// having started it. Received is how many entries it brought that were new
// here, for the side that started it (zero for the side that served).
type SyncDone struct {
	Peer     PeerID
	Received int
}

// SyncFailed reports a sync session with a peer that failed. Unreachable
// says the peer could not be reached at all, which the overlay takes as a
// PeerDown.
type SyncFailed struct {
	Peer        PeerID
	Unreachable bool
}

// Found answers FindContacts with the members found, best first.
type Found struct{ Peers []PeerID }

// Ban cuts a peer off until Until (a ban of the node's policy or its
// user): it leaves both views, is sent nothing and is not heard.
type Ban struct {
	Peer  PeerID
	Until time.Time
}

// Unban lifts a peer's ban.
type Unban struct{ Peer PeerID }

// Demote says a peer's score is below the gossip threshold (proto/score's
// NoGossip level): for Config.DemoteFor, the overlay does not choose it
// from the passive view (no Neighbor request, no trade) and anti-entropy
// does not pick it there. It stays a neighbour if it is one (the driver
// pushes it nothing), and its own requests are answered.
type Demote struct{ Peer PeerID }

// Suggest names a peer that holds the group and that the driver links to
// for another group (Shared): it enters the passive view, unless it is
// banned or demoted.
type Suggest struct{ Peer PeerID }

func (Start) isInput()      {}
func (Suggest) isInput()    {}
func (Join) isInput()       {}
func (Meet) isInput()       {}
func (Leave) isInput()      {}
func (Receive) isInput()    {}
func (Broadcast) isInput()  {}
func (Admitted) isInput()   {}
func (TimerFired) isInput() {}
func (PeerDown) isInput()   {}
func (Measured) isInput()   {}
func (Round) isInput()      {}
func (SyncDone) isInput()   {}
func (SyncFailed) isInput() {}
func (Found) isInput()      {}
func (Ban) isInput()        {}
func (Unban) isInput()      {}
func (Demote) isInput()     {}

// Output is what the State asks its driver to do, in order (see the package
// doc, "Applying outputs").
type Output interface{ isOutput() }

// Send asks to deliver a message to a peer: exactly one of Overlay and
// Broadcast is set.
type Send struct {
	To        PeerID
	Overlay   hyparview.Message
	Broadcast plumtree.Message
}

// NeighborUp reports a peer entering the active view.
type NeighborUp struct{ Peer PeerID }

// NeighborDown reports a peer leaving the active view.
type NeighborDown struct{ Peer PeerID }

// Admit asks for full admission of an entry a peer pushed, which the
// broadcast has not seen: answer with Admitted.
type Admit struct {
	From PeerID
	Msg  plumtree.Gossip
}

// Deliver reports an entry the broadcast received for the first time, and
// the hops it took.
type Deliver struct {
	ID    plumtree.MessageID
	From  PeerID
	Round int
}

// SetTimer asks for Timer to be fed back after a delay.
type SetTimer struct {
	Timer Timer
	After time.Duration
}

// Measure asks for the round trip to a peer, to be fed back as Measured.
type Measure struct{ Peer PeerID }

// Reconcile asks for a sync session with a peer, to be reported with
// SyncDone or SyncFailed.
type Reconcile struct{ Peer PeerID }

// FindContacts asks for members of the group outside the overlay, to be fed
// back as Found.
type FindContacts struct{}

// Charge asks the driver to count one unit of Fault.Part() against Peer in
// its score table, and act on the verdict as on any charge (charge.go).
type Charge struct {
	Peer  PeerID
	Fault Fault
}

func (Send) isOutput()         {}
func (NeighborUp) isOutput()   {}
func (NeighborDown) isOutput() {}
func (Admit) isOutput()        {}
func (Deliver) isOutput()      {}
func (SetTimer) isOutput()     {}
func (Measure) isOutput()      {}
func (Reconcile) isOutput()    {}
func (FindContacts) isOutput() {}
func (Charge) isOutput()       {}

// Timer names a timer of one of the cores: exactly one field is set.
type Timer struct {
	Overlay   hyparview.Timer
	Broadcast plumtree.Timer
}

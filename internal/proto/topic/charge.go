package topic

import "hearsay/internal/proto/score"

// Fault is a peer's misbehaviour that a group's core sees for itself, in
// what the peer does on the broadcast. Each counts in one part of the
// peer's score: the mapping is here, in the core both drivers run, so that
// the node and the simulator charge alike.
type Fault int

// The faults the core charges.
const (
	// BrokenPromise: a peer that announced an entry (IHave) did not send
	// it within the broadcast's PromiseTimeout of the Graft that asked for
	// it (GossipSub's P7; plumtree's promise.go). Moderate: a link may
	// stall, and a stall costs one charge, not one per graft.
	BrokenPromise Fault = iota + 1
	// DuplicateFlood: more than Config.MaxDuplicates pushes of entries
	// this node holds already within a FloodWindow (flood.go).
	DuplicateFlood
	// FutureFlood: more than Config.MaxFuture pushes of entries dated
	// beyond the allowed clock skew within a FloodWindow (flood.go).
	FutureFlood
)

var faultNames = [...]string{BrokenPromise: "broken-promise", DuplicateFlood: "duplicate-flood", FutureFlood: "future-flood"}

func (f Fault) String() string {
	if f <= 0 || int(f) >= len(faultNames) {
		return "fault(?)"
	}
	return faultNames[f]
}

// Part is the score part the fault counts in, one unit per charge.
func (f Fault) Part() score.Part {
	if f == BrokenPromise {
		return score.Promises
	}
	return score.Flood
}

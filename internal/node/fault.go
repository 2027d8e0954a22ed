package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/store"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Fault is what a failed exchange with a peer says about the peer. Faults
// are classified here, at the boundary, by the typed errors the codec, the
// sessions and admission return, never by an error's text.
type Fault int

// The faults. Misbehaviour (FaultMalformed and beyond) is charged to the peer;
// the others are not: a crash, a restart, a slow link or a refusal is what
// honest peers do.
const (
	// FaultNone: the exchange succeeded, or failed on this node's side (its
	// store, its own shutdown).
	FaultNone Fault = iota
	// FaultNetwork: the stream or the connection ended (EOF, also inside a
	// frame), was reset, or ran out of time, or the session was cancelled.
	FaultNetwork
	// FaultRefusal: the peer declined a request with an Err answer.
	FaultRefusal
	// FaultMalformed: a frame, a message or an entry that breaks the format.
	FaultMalformed
	// FaultOutOfTurn: a well-formed message the protocol does not allow there.
	FaultOutOfTurn
	// FaultBadSignature: an entry whose signature does not verify.
	FaultBadSignature
	// FaultInadmissible: a valid entry that the group's rules refuse here (not
	// allowed, over quota, before its genesis, too large for the group).
	// Replicas that hold different entries may disagree on it for a while,
	// so it weighs less than the others.
	FaultInadmissible
	// FaultAudit: a holder that could not prove it holds a shard it took
	// (a wrong or missing proof; a network failure is no verdict). A disk
	// can fail honestly, so it weighs as little as an inadmissible entry;
	// the storage ledger stops trusting the peer with shards sooner.
	FaultAudit
	// FaultFlood: more than the peer may send — beyond a rate limit, a
	// stream or session it went on with while graylisted (its messages
	// ignored), or floods of duplicates or future-dated entries a group's
	// core counted (gossip.Misbehaved; proto/topic's flood.go).
	FaultFlood
	// FaultPromise: a broken IHave promise, which a group's core saw and
	// charged (gossip.Misbehaved; proto/topic's charge.go): the peer
	// announced an entry and left the graft for it unanswered.
	FaultPromise

	numFaults = iota
)

var faultNames = [numFaults]string{"none", "network", "refusal", "malformed", "out-of-turn", "bad-signature", "inadmissible", "failed-audit", "flood", "broken-promise"}

func (f Fault) String() string {
	if f < 0 || int(f) >= len(faultNames) {
		return fmt.Sprintf("fault(%d)", int(f))
	}
	return faultNames[f]
}

// Misbehaviour reports whether the fault is charged to the peer.
func (f Fault) Misbehaviour() bool { return f >= FaultMalformed }

// Classify says what the error that ended an exchange with a peer says
// about it. Misbehaviour is only what this node's own checks marked; any
// other error is the network's (if it is one of the stream's ways to end)
// or this node's.
func Classify(err error) Fault {
	var refused *Refused
	switch {
	case err == nil:
		return FaultNone
	case errors.As(err, &refused):
		return FaultRefusal
	case errors.Is(err, entry.ErrBadSignature):
		return FaultBadSignature
	case errors.Is(err, wire.ErrMalformed), errors.Is(err, entry.ErrMalformed):
		return FaultMalformed
	case errors.Is(err, wire.ErrOutOfTurn):
		return FaultOutOfTurn
	case isNetwork(err):
		return FaultNetwork
	}
	return FaultNone
}

// isNetwork recognizes the ways a stream or a connection ends.
func isNetwork(err error) bool {
	for _, e := range []error{io.EOF, io.ErrUnexpectedEOF, io.ErrClosedPipe, network.ErrReset, context.Canceled,
		context.DeadlineExceeded, os.ErrDeadlineExceeded, net.ErrClosed, syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNREFUSED} {
		if errors.Is(err, e) {
			return true
		}
	}
	var timeout interface{ Timeout() bool }
	return errors.As(err, &timeout) && timeout.Timeout()
}

// entryFault classifies why admission refused an entry a peer sent. An
// entry from the future (clocks differ) or of a group not held is not
// charged; neither is a failure of this node's store.
func entryFault(err error) Fault {
	switch {
	case err == nil:
		return FaultNone
	case errors.Is(err, entry.ErrBadSignature):
		return FaultBadSignature
	case errors.Is(err, entry.ErrMalformed):
		return FaultMalformed
	case errors.Is(err, group.ErrNotAllowed), errors.Is(err, group.ErrOverQuota),
		errors.Is(err, group.ErrBeforeGenesis), errors.Is(err, entry.ErrTooLarge):
		return FaultInadmissible
	}
	return FaultNone
}

// fromFuture reports whether admission refused an entry as dated beyond
// the allowed clock skew: not charged once, but the gossip layer's core
// counts them per peer (proto/topic's flood.go).
func fromFuture(err error) bool { return errors.Is(err, group.ErrFuture) }

// relayedOverQuota reports whether o is an entry refused over its author's
// quota that a peer other than its author sent. Replicas that hold
// different entries of an author fill its quota with different ones, so an
// honest relay sends what another replica finds over quota: only the
// author answers for it. (The simulator's sybil plan had honest relays
// banned for it; docs/security.md.)
func relayedOverQuota(o store.Outcome, from peer.ID) bool {
	return errors.Is(o.Err, group.ErrOverQuota) && !isAuthor(from, o.Author)
}

// isAuthor reports whether peer p is author a: a node's peer id is its
// author key (transport.PeerID).
func isAuthor(p peer.ID, a entry.Author) bool {
	pk, err := p.ExtractPublicKey()
	if err != nil {
		return false
	}
	raw, err := pk.Raw()
	return err == nil && bytes.Equal(raw, a[:])
}

// misbehaviour is the sentinel error of an entry fault that is
// misbehaviour, for Classify to find again.
func misbehaviour(f Fault) error {
	if f == FaultBadSignature {
		return entry.ErrBadSignature
	}
	return entry.ErrMalformed
}

// Refused is a peer's Err answer to a request. Its text is the peer's and
// is quoted wherever it is shown.
type Refused struct {
	Code wire.Code
	Text string
}

func (r *Refused) Error() string { return fmt.Sprintf("peer refused (code %d): %q", r.Code, r.Text) }

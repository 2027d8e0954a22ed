package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/store"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/network"
)

type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o deadline reached" }
func (timeoutErr) Timeout() bool { return true }

// TestClassify: each way an exchange ends, as the codec, the sessions,
// admission and the transports report it, and what it says of the peer.
// Only the typed errors count: a look-alike text is nobody's fault.
func TestClassify(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("read a frame: %w", err) }
	for _, c := range []struct {
		name string
		err  error
		want Fault
	}{
		{"success", nil, FaultNone},
		{"clean end", io.EOF, FaultNetwork},
		{"end inside a frame", wrap(io.ErrUnexpectedEOF), FaultNetwork},
		{"stream reset", wrap(network.ErrReset), FaultNetwork},
		{"stream reset by the muxer", &network.StreamError{ErrorCode: network.StreamProtocolViolation, Remote: true}, FaultNetwork},
		{"connection closed", &network.ConnError{Remote: true}, FaultNetwork},
		{"connection reset", wrap(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), FaultNetwork},
		{"deadline", wrap(os.ErrDeadlineExceeded), FaultNetwork},
		{"muxer deadline", wrap(timeoutErr{}), FaultNetwork},
		{"session timeout", fmt.Errorf("open a sync stream: %w", context.DeadlineExceeded), FaultNetwork},
		{"cancelled", context.Canceled, FaultNetwork},
		{"refusal", fmt.Errorf("sync: %w", &Refused{Code: wire.CodeUnknownGroup, Text: "no"}), FaultRefusal},
		{"malformed frame", fmt.Errorf("%w: frame length too long", wire.ErrMalformed), FaultMalformed},
		{"malformed entry", fmt.Errorf("entry 3 of a batch: %w", entry.ErrMalformed), FaultMalformed},
		{"out of turn", fmt.Errorf("%w: wire.Ack in answer to recon", wire.ErrOutOfTurn), FaultOutOfTurn},
		{"bad signature", fmt.Errorf("entry 0 of a batch: %w", entry.ErrBadSignature), FaultBadSignature},
		{"bad signature in a pushed entry", fmt.Errorf("%w: pushed entry: %w", wire.ErrMalformed, entry.ErrBadSignature), FaultBadSignature},
		{"this node's store", fmt.Errorf("%w: disk full", store.ErrWrite), FaultNone},
		{"a look-alike text", errors.New("malformed message: bad signature"), FaultNone},
	} {
		if got := Classify(c.err); got != c.want {
			t.Errorf("%s (%v): %v, want %v", c.name, c.err, got, c.want)
		}
	}
	for f := FaultNone; f <= FaultInadmissible; f++ {
		if want := f >= FaultMalformed; f.Misbehaviour() != want {
			t.Errorf("%v: misbehaviour %v", f, f.Misbehaviour())
		}
	}
}

// TestEntryFault: why admission refused an entry, and whether the peer
// that sent it is charged.
func TestEntryFault(t *testing.T) {
	for err, want := range map[error]Fault{
		nil:                    FaultNone,
		entry.ErrBadSignature:  FaultBadSignature,
		entry.ErrMalformed:     FaultMalformed,
		entry.ErrTooLarge:      FaultInadmissible,
		group.ErrNotAllowed:    FaultInadmissible,
		group.ErrOverQuota:     FaultInadmissible,
		group.ErrBeforeGenesis: FaultInadmissible,
		group.ErrFuture:        FaultNone, // clocks differ
		group.ErrUnknownGroup:  FaultNone,
		store.ErrWrite:         FaultNone,
	} {
		if got := entryFault(fmt.Errorf("refused: %w", err)); err != nil && got != want {
			t.Errorf("%v: %v, want %v", err, got, want)
		}
	}
}

// A refusal's text is the peer's: it is quoted, so it cannot forge lines
// in a log.
func TestRefusalTextIsQuoted(t *testing.T) {
	r := &Refused{Code: wire.CodeBadRequest, Text: "ok\nbanned 12D3Koo… for misbehaviour"}
	if s := r.Error(); strings.Contains(s, "\n") || !strings.Contains(s, `"ok\nbanned`) {
		t.Fatalf("refusal shown as %s", s)
	}
}

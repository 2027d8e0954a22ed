// Package wire frames and encodes the messages nodes exchange on libp2p
// streams. A frame is a uvarint length and that many bytes, at most
// MaxFrame; a message is a type byte and its fields. Decoding checks every
// length against what remains, so no input can make it allocate more than
// the frame it read, and a malformed frame is an error, never a panic: the
// runtime closes the stream and notes the peer.
//
// docs/protocol.md §10 specifies the sync protocol these messages carry.
package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"hearsay/internal/entry"
)

// Protocol ids of the libp2p stream protocols.
const SyncProtocol = "/hearsay/sync/1"

// Limits. MaxFrame bounds every frame; a batch of entries fills a frame up
// to BatchBytes so that one entry of the largest size always fits.
const (
	MaxFrame   = 2 << 20
	BatchBytes = 1 << 20
	MaxGet     = 1024
	maxText    = 256
)

// ErrMalformed marks a frame or message that breaks this format;
// ErrOutOfTurn a well-formed message that the protocol does not allow at
// that point of the session. Both are the peer's misbehaviour.
var (
	ErrMalformed = errors.New("malformed message")
	ErrOutOfTurn = errors.New("message out of turn")
)

// WriteFrame writes one frame.
func WriteFrame(w io.Writer, payload []byte) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("frame of %d bytes exceeds %d", len(payload), MaxFrame)
	}
	b := binary.AppendUvarint(make([]byte, 0, len(payload)+binary.MaxVarintLen32), uint64(len(payload)))
	_, err := w.Write(append(b, payload...))
	return err
}

// ReadFrame reads one frame. io.EOF means the stream ended cleanly between
// frames, io.ErrUnexpectedEOF that it ended inside one: a peer killed while
// it wrote looks exactly like that, so neither says anything of the peer's
// conduct, nor does a failure of the stream itself (a reset, a deadline),
// returned as it is. A length that is not a valid uvarint or is too large
// is ErrMalformed.
func ReadFrame(r *bufio.Reader) ([]byte, error) {
	var n uint64
	for i := 0; ; i++ {
		c, err := r.ReadByte()
		switch {
		case err == io.EOF && i == 0:
			return nil, io.EOF
		case err == io.EOF:
			return nil, fmt.Errorf("read a frame length: %w", io.ErrUnexpectedEOF)
		case err != nil:
			return nil, fmt.Errorf("read a frame: %w", err)
		case i == binary.MaxVarintLen32:
			return nil, fmt.Errorf("%w: frame length too long", ErrMalformed)
		}
		n |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			break
		}
	}
	if n > MaxFrame {
		return nil, fmt.Errorf("%w: frame of %d bytes exceeds %d", ErrMalformed, n, MaxFrame)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read a frame: %w", err)
	}
	return b, nil
}

// Message is one of the types below.
type Message interface{ tag() byte }

// Version of the sync protocol this package speaks.
const Version = 1

// Open starts a sync session on a group. A server that speaks another
// version answers Err with CodeVersion.
type Open struct {
	Version byte
	Group   entry.ID
}

// Ack accepts an Open or a Put.
type Ack struct{}

// Err refuses a request; the stream closes after it.
type Err struct {
	Code Code
	Text string
}

// Recon carries a Negentropy v1 message.
type Recon struct{ Msg []byte }

// Get asks for entries by id, at most MaxGet.
type Get struct{ IDs []entry.ID }

// Entries answers a Get with the entries found, in the order asked.
type Entries struct{ Raws [][]byte }

// Put offers entries the other side lacks.
type Put struct{ Raws [][]byte }

// Code says why a request was refused.
type Code byte

// Refusal codes.
const (
	CodeUnknownGroup Code = 1 // this node does not hold the group
	CodeBadRequest   Code = 2 // the message was malformed or out of order
	CodeVersion      Code = 4 // the Open asked for another protocol version (3 is reserved)
	CodeBusy         Code = 5 // the server takes no more sessions from this peer, or for this group, now
)

const (
	tagOpen    = 0x01
	tagAck     = 0x02
	tagErr     = 0x03
	tagRecon   = 0x04
	tagGet     = 0x05
	tagEntries = 0x06
	tagPut     = 0x07
)

func (Open) tag() byte    { return tagOpen }
func (Ack) tag() byte     { return tagAck }
func (Err) tag() byte     { return tagErr }
func (Recon) tag() byte   { return tagRecon }
func (Get) tag() byte     { return tagGet }
func (Entries) tag() byte { return tagEntries }
func (Put) tag() byte     { return tagPut }

// Encode encodes a message.
func Encode(m Message) []byte {
	b := []byte{m.tag()}
	switch m := m.(type) {
	case Open:
		b = append(append(b, m.Version), m.Group[:]...)
	case Err:
		b = append(append(b, byte(m.Code)), m.Text...)
	case Recon:
		b = append(b, m.Msg...)
	case Get:
		b = binary.AppendUvarint(b, uint64(len(m.IDs)))
		for _, id := range m.IDs {
			b = append(b, id[:]...)
		}
	case Entries:
		b = appendRaws(b, m.Raws)
	case Put:
		b = appendRaws(b, m.Raws)
	case Probe:
		b = appendProbe(b, m)
	case ProbeReply:
		b = appendProbeReply(b, m)
	}
	return b
}

func appendRaws(b []byte, raws [][]byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(raws)))
	for _, r := range raws {
		b = append(binary.AppendUvarint(b, uint64(len(r))), r...)
	}
	return b
}

// Decode decodes a message.
func Decode(b []byte) (Message, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	body := b[1:]
	switch b[0] {
	case tagOpen:
		if len(body) != 33 {
			return nil, fmt.Errorf("%w: open of %d bytes", ErrMalformed, len(body))
		}
		return Open{Version: body[0], Group: entry.ID(body[1:])}, nil
	case tagAck:
		if len(body) != 0 {
			return nil, fmt.Errorf("%w: ack with a body", ErrMalformed)
		}
		return Ack{}, nil
	case tagErr:
		if len(body) < 1 || len(body) > 1+maxText || !utf8.Valid(body[1:]) {
			return nil, fmt.Errorf("%w: error message", ErrMalformed)
		}
		return Err{Code: Code(body[0]), Text: string(body[1:])}, nil
	case tagRecon:
		return Recon{Msg: body}, nil
	case tagGet:
		n, rest, err := count(body, 32)
		if err != nil {
			return nil, err
		}
		if n > MaxGet || len(rest) != 32*n {
			return nil, fmt.Errorf("%w: get of %d ids in %d bytes", ErrMalformed, n, len(rest))
		}
		g := Get{IDs: make([]entry.ID, n)}
		for i := range g.IDs {
			g.IDs[i] = entry.ID(rest[32*i:])
		}
		return g, nil
	case tagEntries, tagPut:
		raws, err := decodeRaws(body)
		if err != nil {
			return nil, err
		}
		if b[0] == tagPut {
			return Put{Raws: raws}, nil
		}
		return Entries{Raws: raws}, nil
	case tagProbe:
		return decodeProbe(body)
	case tagProbeReply:
		return decodeProbeReply(body)
	}
	return nil, fmt.Errorf("%w: message type %#x", ErrMalformed, b[0])
}

// count reads a uvarint count of items of at least min bytes each, checking
// it against what remains.
func count(b []byte, min int) (int, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k)/uint64(min) {
		return 0, nil, fmt.Errorf("%w: count", ErrMalformed)
	}
	return int(n), b[k:], nil
}

func decodeRaws(b []byte) ([][]byte, error) {
	n, rest, err := count(b, 1)
	if err != nil {
		return nil, err
	}
	raws := make([][]byte, 0, n)
	for range n {
		size, k := binary.Uvarint(rest)
		if k <= 0 || size == 0 || size > entry.MaxEncoded || size > uint64(len(rest)-k) {
			return nil, fmt.Errorf("%w: entry length", ErrMalformed)
		}
		raws = append(raws, rest[k:k+int(size)])
		rest = rest[k+int(size):]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the entries", ErrMalformed, len(rest))
	}
	return raws, nil
}

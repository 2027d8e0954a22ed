package wire

import (
	"encoding/binary"
	"fmt"

	"hearsay/internal/entry"
)

// A probe asks a peer, in one exchange, which of several groups differ
// between the two, so that an anti-entropy round with a peer costs one
// round trip for every group already in sync, rather than a session each
// (docs/protocol.md §10, "Probes"). It opens a stream of SyncProtocol in
// place of Open; the server answers ProbeReply, and the client closes.

// MaxProbe bounds the groups one Probe asks about.
const MaxProbe = 64

// Probe carries, per group, the size and the fingerprint of the client's
// whole set (docs/protocol.md §8's fingerprint over every item).
type Probe struct {
	Version byte
	Groups  []ProbeGroup
}

// ProbeGroup is one group's part of a Probe.
type ProbeGroup struct {
	Group       entry.ID
	Count       uint64
	Fingerprint [16]byte
}

// ProbeReply answers a Probe with a verdict per group, in the order asked.
type ProbeReply struct{ Verdicts []Verdict }

// Verdict is a server's answer about one probed group.
type Verdict byte

// Verdicts.
const (
	Same    Verdict = 0 // the sets match: nothing to reconcile
	Differs Verdict = 1 // they do not: open a session of the group
	Unknown Verdict = 2 // this node does not hold the group (as CodeUnknownGroup)
	Busy    Verdict = 3 // no more sessions for now (as CodeBusy): ask at the next round
)

const (
	tagProbe      = 0x08
	tagProbeReply = 0x09
)

func (Probe) tag() byte      { return tagProbe }
func (ProbeReply) tag() byte { return tagProbeReply }

const probeGroupMin = 32 + 1 + 16

func appendProbe(b []byte, p Probe) []byte {
	b = binary.AppendUvarint(append(b, p.Version), uint64(len(p.Groups)))
	for _, g := range p.Groups {
		b = append(binary.AppendUvarint(append(b, g.Group[:]...), g.Count), g.Fingerprint[:]...)
	}
	return b
}

func appendProbeReply(b []byte, r ProbeReply) []byte {
	b = binary.AppendUvarint(b, uint64(len(r.Verdicts)))
	for _, v := range r.Verdicts {
		b = append(b, byte(v))
	}
	return b
}

func decodeProbe(body []byte) (Message, error) {
	if len(body) < 1 {
		return nil, fmt.Errorf("%w: probe without a version", ErrMalformed)
	}
	p := Probe{Version: body[0]}
	n, rest, err := count(body[1:], probeGroupMin)
	if err != nil {
		return nil, err
	}
	if n == 0 || n > MaxProbe {
		return nil, fmt.Errorf("%w: probe of %d groups", ErrMalformed, n)
	}
	p.Groups = make([]ProbeGroup, n)
	for i := range p.Groups {
		g := &p.Groups[i]
		if len(rest) < 32 {
			return nil, fmt.Errorf("%w: probe group", ErrMalformed)
		}
		g.Group = entry.ID(rest[:32])
		c, k := binary.Uvarint(rest[32:])
		if k <= 0 || k != len(binary.AppendUvarint(nil, c)) || len(rest) < 32+k+16 {
			return nil, fmt.Errorf("%w: probe group", ErrMalformed)
		}
		g.Count = c
		g.Fingerprint = [16]byte(rest[32+k:])
		rest = rest[32+k+16:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the probe", ErrMalformed, len(rest))
	}
	return p, nil
}

func decodeProbeReply(body []byte) (Message, error) {
	n, rest, err := count(body, 1)
	if err != nil {
		return nil, err
	}
	if n == 0 || n > MaxProbe || len(rest) != n {
		return nil, fmt.Errorf("%w: probe reply of %d verdicts in %d bytes", ErrMalformed, n, len(rest))
	}
	r := ProbeReply{Verdicts: make([]Verdict, n)}
	for i, v := range rest {
		if Verdict(v) > Busy {
			return nil, fmt.Errorf("%w: verdict %d", ErrMalformed, v)
		}
		r.Verdicts[i] = Verdict(v)
	}
	return r, nil
}

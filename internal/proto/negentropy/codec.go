package negentropy

import (
	"errors"
	"fmt"
)

// Wire constants of protocol v1.
const (
	Version = 0x61

	modeSkip        = 0
	modeFingerprint = 1
	modeIDList      = 2
)

// ErrMalformed marks a message that does not follow the protocol.
var ErrMalformed = errors.New("malformed negentropy message")

// appendVarint writes v as base-128 digits, most significant first, the
// high bit set on all but the last.
func appendVarint(b []byte, v uint64) []byte {
	var digits [10]byte
	i := len(digits) - 1
	digits[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		digits[i] = byte(v&0x7f) | 0x80
	}
	return append(b, digits[i:]...)
}

// reader decodes a message; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (r *reader) varint() uint64 {
	var v uint64
	for i := 0; r.err == nil; i++ {
		if len(r.b) == 0 {
			r.fail("truncated varint")
			return 0
		}
		c := r.b[0]
		r.b = r.b[1:]
		if v>>57 != 0 || i == 0 && c == 0x80 {
			r.fail("varint overflows 64 bits or is not minimal")
			return 0
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 == 0 {
			return v
		}
	}
	return 0
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.fail("truncated: %d bytes wanted, %d left", n, len(r.b))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// timestamps encodes bound timestamps as deltas from the previous one in the
// same message; infinity is 0, anything else 1 + delta.
type timestamps struct{ last uint64 }

func (t *timestamps) append(b []byte, ts uint64) []byte {
	if ts == Infinity {
		t.last = Infinity
		return appendVarint(b, 0)
	}
	delta := ts - t.last
	t.last = ts
	return appendVarint(b, delta+1)
}

func (t *timestamps) read(r *reader) uint64 {
	v := r.varint()
	if r.err != nil {
		return 0
	}
	if v == 0 || t.last == Infinity {
		t.last = Infinity
		return Infinity
	}
	ts := t.last + (v - 1)
	if ts < t.last || ts == Infinity {
		r.fail("timestamp overflows")
		return 0
	}
	t.last = ts
	return ts
}

func (t *timestamps) appendBound(b []byte, bd bound) []byte {
	b = t.append(b, bd.Timestamp)
	b = appendVarint(b, uint64(bd.n))
	return append(b, bd.ID[:bd.n]...)
}

func (t *timestamps) readBound(r *reader) bound {
	bd := bound{Item: Item{Timestamp: t.read(r)}}
	n := r.varint()
	if r.err == nil && n > 32 {
		r.fail("id prefix of %d bytes", n)
	}
	bd.n = int(n)
	copy(bd.ID[:], r.bytes(bd.n))
	return bd
}

package entry

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"hearsay/internal/hlc"

	"lukechampine.com/blake3"
)

// CBOR major types used by the envelope.
const (
	majorUint  = 0
	majorBytes = 2
	majorText  = 3
	majorArray = 4
)

func encodeContent(e Entry) []byte {
	n := 64 + len(e.Kind) + len(e.Refs)*34 + len(e.Body)
	b := make([]byte, 0, n)
	b = appendHead(b, majorArray, 8)
	b = appendHead(b, majorUint, Version)
	if e.Kind == KindGenesis {
		b = appendHead(b, majorBytes, 0)
	} else {
		b = appendBytes(b, e.Group[:])
	}
	b = appendBytes(b, e.Author[:])
	b = appendHead(b, majorUint, e.Seq)
	b = appendHead(b, majorUint, uint64(e.HLC))
	b = appendHead(b, majorText, uint64(len(e.Kind)))
	b = append(b, e.Kind...)
	b = appendHead(b, majorArray, uint64(len(e.Refs)))
	for _, r := range e.Refs {
		b = appendBytes(b, r[:])
	}
	return appendBytes(b, e.Body)
}

func encodeSigned(content, sig []byte) []byte {
	b := make([]byte, 0, 1+len(content)+2+len(sig))
	b = appendHead(b, majorArray, 2)
	b = append(b, content...)
	return appendBytes(b, sig)
}

func appendBytes(b, v []byte) []byte {
	return append(appendHead(b, majorBytes, uint64(len(v))), v...)
}

// appendHead writes a CBOR head in its shortest form (RFC 8949 §4.2.1).
func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, m|27), n)
	}
}

// Decode parses the canonical encoding of a signed entry and derives its id.
// It does not verify the signature (see Verify), so that verification can be
// batched or spread across cores. The result aliases raw.
func Decode(raw []byte) (*Signed, error) {
	if len(raw) > MaxEncoded {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), MaxEncoded)
	}
	d := decoder{b: raw}
	if n := d.head(majorArray); d.err == nil && n != 2 {
		return nil, fmt.Errorf("%w: entry is an array of %d items, want 2", ErrMalformed, n)
	}
	start := d.pos
	s := &Signed{Raw: raw}
	d.content(&s.Entry)
	end := d.pos
	copy(s.Sig[:], d.bytes(64, 64, "signature"))
	if d.err == nil && d.pos != len(raw) {
		d.fail("%d bytes after the entry", len(raw)-d.pos)
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	s.ID = blake3.Sum256(raw[start:end])
	return s, nil
}

func (d *decoder) content(e *Entry) {
	if n := d.head(majorArray); d.err == nil && n != 8 {
		d.fail("content is an array of %d items, want 8", n)
	}
	if v := d.head(majorUint); d.err == nil && v != Version {
		d.fail("format version %d, want %d", v, Version)
	}
	group := d.bytes(0, 32, "group")
	copy(e.Group[:], group)
	copy(e.Author[:], d.bytes(32, 32, "author"))
	e.Seq = d.head(majorUint)
	e.HLC = hlc.Timestamp(d.head(majorUint))
	e.Kind = string(d.bytesOf(majorText, 1, MaxKind, "kind"))
	// NB: the group's length, not its value, tells genesis apart, so that a
	// genesis has exactly one spelling.
	if want := 32; d.err == nil {
		if e.Kind == KindGenesis {
			want = 0
		}
		if len(group) != want {
			d.fail("group of %d bytes in a %q entry, want %d", len(group), e.Kind, want)
		}
	}
	nrefs := d.head(majorArray)
	if d.err == nil && nrefs > MaxRefs {
		d.fail("%d refs, limit %d", nrefs, MaxRefs)
	}
	for i := uint64(0); i < nrefs && d.err == nil; i++ {
		var r ID
		copy(r[:], d.bytes(32, 32, "ref"))
		e.Refs = append(e.Refs, r)
	}
	e.Body = d.bytes(0, MaxBody, "body")
}

// decoder reads canonical CBOR heads; the first error sticks and later reads
// return zero values, so callers check d.err once.
type decoder struct {
	b   []byte
	pos int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format+" (at byte %d)", append([]any{ErrMalformed}, append(args, d.pos)...)...)
	}
}

// head reads an item head of the given major type, refusing indefinite
// lengths and any head longer than the shortest form of its value.
func (d *decoder) head(major byte) uint64 {
	if d.err != nil {
		return 0
	}
	if d.pos >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	ib := d.b[d.pos]
	if ib>>5 != major {
		d.fail("major type %d, want %d", ib>>5, major)
		return 0
	}
	info := ib & 0x1f
	if info < 24 {
		d.pos++
		return uint64(info)
	}
	if info > 27 {
		d.fail("indefinite or reserved length")
		return 0
	}
	size := 1 << (info - 24)
	if len(d.b)-d.pos-1 < size {
		d.fail("truncated")
		return 0
	}
	arg := d.b[d.pos+1 : d.pos+1+size]
	var v, min uint64
	switch size {
	case 1:
		v, min = uint64(arg[0]), 24
	case 2:
		v, min = uint64(binary.BigEndian.Uint16(arg)), 0x100
	case 4:
		v, min = uint64(binary.BigEndian.Uint32(arg)), 0x10000
	default:
		v, min = binary.BigEndian.Uint64(arg), 0x100000000
	}
	if v < min {
		d.fail("non-canonical integer head")
		return 0
	}
	d.pos += 1 + size
	return v
}

func (d *decoder) bytes(min, max int, what string) []byte {
	return d.bytesOf(majorBytes, min, max, what)
}

func (d *decoder) bytesOf(major byte, min, max int, what string) []byte {
	n := d.head(major)
	if d.err != nil {
		return nil
	}
	if n < uint64(min) || n > uint64(max) {
		d.fail("%s of %d bytes, want %d..%d", what, n, min, max)
		return nil
	}
	if uint64(len(d.b)-d.pos) < n {
		d.fail("truncated %s", what)
		return nil
	}
	v := d.b[d.pos : d.pos+int(n)]
	if major == majorText && !utf8.Valid(v) {
		d.fail("%s is not UTF-8", what)
		return nil
	}
	d.pos += int(n)
	return v
}

package negentropy

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/bits"
)

// Infinity is the timestamp no item may have: the upper bound of everything.
const Infinity = math.MaxUint64

// ID identifies an item.
type ID = [32]byte

// Item is an element of a reconciled set.
type Item struct {
	Timestamp uint64
	ID        ID
}

// Compare orders items by timestamp, then id.
func Compare(a, b Item) int {
	if c := cmp.Compare(a.Timestamp, b.Timestamp); c != 0 {
		return c
	}
	return bytes.Compare(a.ID[:], b.ID[:])
}

// bound is an exclusive upper bound: a timestamp and the first n bytes of an
// id, the rest taken as zero.
type bound struct {
	Item
	n int
}

var infinite = bound{Item: Item{Timestamp: Infinity}}

// minimalBound separates prev from next with the shortest id prefix.
func minimalBound(prev, next Item) bound {
	if prev.Timestamp != next.Timestamp {
		return bound{Item: Item{Timestamp: next.Timestamp}}
	}
	shared := 0
	for shared < 32 && prev.ID[shared] == next.ID[shared] {
		shared++
	}
	b := bound{Item: Item{Timestamp: next.Timestamp}, n: min(shared+1, 32)}
	copy(b.ID[:b.n], next.ID[:b.n])
	return b
}

// Fingerprint digests the ids of a range.
type Fingerprint [16]byte

// Accumulator is a sum of ids as 256-bit little-endian integers, mod 2^256.
type Accumulator [4]uint64

// Add adds an id.
func (a *Accumulator) Add(id ID) {
	var carry uint64
	for i := range a {
		a[i], carry = bits.Add64(a[i], binary.LittleEndian.Uint64(id[8*i:]), carry)
	}
}

func (a Accumulator) add(b Accumulator) Accumulator {
	var carry uint64
	for i := range a {
		a[i], carry = bits.Add64(a[i], b[i], carry)
	}
	return a
}

// Sub subtracts another sum: the sum of a range is the difference of two
// prefix sums.
func (a Accumulator) Sub(b Accumulator) Accumulator {
	var borrow uint64
	for i := range a {
		a[i], borrow = bits.Sub64(a[i], b[i], borrow)
	}
	return a
}

// Fingerprint of a range of count ids whose sum is a: SHA-256 of the sum
// (32 bytes, little-endian) and the count as a varint, cut to 16 bytes.
func (a Accumulator) Fingerprint(count int) Fingerprint {
	var buf [32 + 10]byte
	for i, limb := range a {
		binary.LittleEndian.PutUint64(buf[8*i:], limb)
	}
	n := 32 + len(appendVarint(buf[32:32], uint64(count)))
	sum := sha256.Sum256(buf[:n])
	return Fingerprint(sum[:16])
}

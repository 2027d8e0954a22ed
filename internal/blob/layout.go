package blob

import (
	"errors"
	"fmt"
)

// Limits and defaults of the coding parameters.
const (
	// SegmentSize is the default segment: 1 MiB, as Tahoe-LAFS uses since
	// 1.19 (a segment is the unit that is coded, verified and sealed).
	SegmentSize = 1 << 20
	// MaxSegmentSize bounds a segment so that one shard always fits a
	// transfer frame, and a reader holds at most k+m shards of one stripe.
	MaxSegmentSize = 4 << 20
	// MinSegmentSize keeps the shard table of a large file small.
	MinSegmentSize = 4 << 10
	// MaxShards is k+m at most: klauspost/reedsolomon's field GF(2^8).
	MaxShards = 256
	// sealOverhead is the Poly1305 tag a sealed segment carries.
	sealOverhead = 16
)

// ErrParams marks coding parameters this package refuses.
var ErrParams = errors.New("invalid coding parameters")

// Params are a file's coding parameters.
type Params struct {
	SegmentSize int // bytes of content per stripe
	K, M        int // data and parity shards per stripe
	Sealed      bool
}

// Check validates the parameters.
func (p Params) Check() error {
	switch {
	case p.SegmentSize < MinSegmentSize || p.SegmentSize > MaxSegmentSize:
		return fmt.Errorf("%w: segment size %d outside [%d, %d]", ErrParams, p.SegmentSize, MinSegmentSize, MaxSegmentSize)
	case p.K < 1:
		return fmt.Errorf("%w: k=%d, want at least 1", ErrParams, p.K)
	case p.M < 0:
		return fmt.Errorf("%w: m=%d, want at least 0", ErrParams, p.M)
	case p.K+p.M > MaxShards:
		return fmt.Errorf("%w: k+m=%d, limit %d", ErrParams, p.K+p.M, MaxShards)
	}
	return nil
}

// N is the number of shards per stripe, k+m.
func (p Params) N() int { return p.K + p.M }

// DefaultParams chooses k and m for a file placed among peers distinct
// holders (this node included). The anchors: Tahoe-LAFS 3-of-10 (3.3×,
// survives 7 losses) for groups of ten or more, Sia 10-of-30 (3×, shards a
// third the size, more parallel sources) from thirty peers; below ten, all
// the peers there are, a third of them data, so each shard has its own
// holder and any two thirds may vanish. With no peer known (offline) the
// Tahoe default: the node places the shards once it meets peers.
func DefaultParams(peers int) Params {
	p := Params{SegmentSize: SegmentSize}
	switch {
	case peers >= 30:
		p.K, p.M = 10, 20
	case peers >= 10 || peers <= 1:
		p.K, p.M = 3, 7
	default:
		p.K = (peers + 2) / 3
		p.M = peers - p.K
	}
	return p
}

// Stripes is the number of stripes of a file of size bytes.
func (p Params) Stripes(size int64) int {
	return int((size + int64(p.SegmentSize) - 1) / int64(p.SegmentSize))
}

// SegmentLen is the content length of stripe i of a file of size bytes.
func (p Params) SegmentLen(size int64, i int) int {
	start := int64(i) * int64(p.SegmentSize)
	return int(min(size-start, int64(p.SegmentSize)))
}

// storedLen is the length of stripe i as coded: sealed segments carry a tag.
func (p Params) storedLen(size int64, i int) int {
	n := p.SegmentLen(size, i)
	if p.Sealed {
		n += sealOverhead
	}
	return n
}

// ShardLen is the length of each shard of stripe i.
func (p Params) ShardLen(size int64, i int) int {
	return (p.storedLen(size, i) + p.K - 1) / p.K
}

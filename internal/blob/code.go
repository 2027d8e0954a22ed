package blob

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/reedsolomon"
	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length of a content key.
const KeySize = chacha20poly1305.KeySize

// Coder encodes and decodes the stripes of one file. A Coder is not safe
// for concurrent use; its buffers are reused from call to call.
type Coder struct {
	p    Params
	size int64
	rs   reedsolomon.Encoder
	aead cipher.AEAD // nil: the file is not sealed
	buf  []byte      // the shards of the last stripe, back to back
	seg  []byte      // the last decoded segment
}

// NewCoder makes a coder for a file of size bytes; key is the content key
// when p.Sealed.
func NewCoder(p Params, size int64, key []byte) (*Coder, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: size %d", ErrParams, size)
	}
	rs, err := reedsolomon.New(p.K, max(p.M, 1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrParams, err)
	}
	c := &Coder{p: p, size: size, rs: rs}
	if p.Sealed {
		if c.aead, err = chacha20poly1305.NewX(key); err != nil {
			return nil, fmt.Errorf("%w: content key: %v", ErrParams, err)
		}
	}
	return c, nil
}

// nonce of stripe i: the key is the file's own, so each (key, nonce) pair
// seals exactly one segment (and sealing it again gives the same bytes).
func nonce(i int) []byte {
	n := make([]byte, chacha20poly1305.NonceSizeX)
	copy(n, "hearsay-segment")
	binary.BigEndian.PutUint64(n[16:], uint64(i))
	return n
}

// Encode codes stripe i from its segment of content: k data shards and m
// parity shards, each ShardLen(i) bytes. The shards stay valid until the
// next call.
func (c *Coder) Encode(i int, segment []byte) ([][]byte, error) {
	if i < 0 || i >= c.p.Stripes(c.size) || len(segment) != c.p.SegmentLen(c.size, i) {
		return nil, fmt.Errorf("blob: stripe %d of %d bytes does not fit the layout", i, len(segment))
	}
	sl := c.p.ShardLen(c.size, i)
	shards := c.shards(sl)
	data := c.buf[:c.p.K*sl]
	stored := segment
	if c.aead != nil {
		stored = c.aead.Seal(data[:0], nonce(i), segment, nil)
	} else {
		copy(data, segment)
	}
	clear(data[len(stored):])
	if c.p.M > 0 {
		if err := c.rs.Encode(shards); err != nil {
			return nil, err
		}
	}
	return shards[:c.p.N()], nil
}

// shards lays out k+max(m,1) shards of sl bytes on the reused buffer (the
// coder is built with at least one parity shard; with m=0 it is unused).
func (c *Coder) shards(sl int) [][]byte {
	n := c.p.K + max(c.p.M, 1)
	if cap(c.buf) < n*sl {
		c.buf = make([]byte, n*sl)
	}
	c.buf = c.buf[:n*sl]
	out := make([][]byte, n)
	for j := range out {
		out[j] = c.buf[j*sl : (j+1)*sl : (j+1)*sl]
	}
	return out
}

// Decode gives back the segment of stripe i from its shards: shards[j] is
// shard j, or nil if missing; at least k must be present, each already
// checked against its id. The segment stays valid until the next call.
func (c *Coder) Decode(i int, shards [][]byte) ([]byte, error) {
	if i < 0 || i >= c.p.Stripes(c.size) || len(shards) != c.p.N() {
		return nil, fmt.Errorf("blob: stripe %d with %d shards does not fit the layout", i, len(shards))
	}
	sl := c.p.ShardLen(c.size, i)
	have := 0
	for j, s := range shards {
		if s == nil {
			continue
		}
		if len(s) != sl {
			return nil, fmt.Errorf("%w: shard %d of stripe %d has %d bytes, want %d", ErrCorrupt, j, i, len(s), sl)
		}
		have++
	}
	if have < c.p.K {
		return nil, fmt.Errorf("blob: stripe %d has %d of the %d shards it needs", i, have, c.p.K)
	}
	work := make([][]byte, c.p.K+max(c.p.M, 1))
	copy(work, shards)
	if err := c.rs.ReconstructData(work); err != nil {
		return nil, fmt.Errorf("%w: stripe %d: %v", ErrCorrupt, i, err)
	}
	stored := c.p.storedLen(c.size, i)
	if cap(c.seg) < stored {
		c.seg = make([]byte, stored)
	}
	seg := c.seg[:0]
	for j := 0; j < c.p.K && len(seg) < stored; j++ {
		seg = append(seg, work[j][:min(sl, stored-len(seg))]...)
	}
	if c.aead == nil {
		return seg, nil
	}
	plain, err := c.aead.Open(seg[:0], nonce(i), seg, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: stripe %d does not unseal", ErrCorrupt, i)
	}
	return plain, nil
}

// Rebuild computes the missing shards of stripe i in place from at least k
// present ones (each already checked): what a repairer places elsewhere.
func (c *Coder) Rebuild(i int, shards [][]byte) error {
	if i < 0 || i >= c.p.Stripes(c.size) || len(shards) != c.p.N() {
		return fmt.Errorf("blob: stripe %d with %d shards does not fit the layout", i, len(shards))
	}
	if c.p.M == 0 {
		for _, s := range shards {
			if s == nil {
				return fmt.Errorf("blob: stripe %d has no parity to rebuild from", i)
			}
		}
		return nil
	}
	if err := c.rs.Reconstruct(shards); err != nil {
		return fmt.Errorf("%w: stripe %d: %v", ErrCorrupt, i, err)
	}
	return nil
}

package blob

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"lukechampine.com/blake3"
	"lukechampine.com/blake3/guts"
)

// BlockSize is the unit in which objects are verified as they stream and
// proven in audits: small enough that an audit moves little, large enough
// that an object's block hashes are a small fraction of it (32 bytes per
// 16 KiB, 0.2%).
const BlockSize = 16 << 10

// MaxObject bounds an object's length: a shard of the largest segment, or
// the shard table of a file of up to 2^20 stripes of 256 shards.
const MaxObject = 256 << 20

// ErrCorrupt marks bytes that do not match the hash that names them.
var ErrCorrupt = errors.New("content does not match its hash")

// ID names content, shards and shard tables: a BLAKE3-256 hash.
type ID [32]byte

// String is the id in lower-case hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Bytes is the id as a byte slice.
func (id ID) Bytes() []byte { return id[:] }

// Short is the first 12 hex digits.
func (id ID) Short() string { return id.String()[:12] }

// IsZero reports whether id is all zeros.
func (id ID) IsZero() bool { return id == ID{} }

// ParseID parses 64 hex digits.
func ParseID(s string) (ID, error) {
	var id ID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("object id %q: want 64 hex digits", s)
	}
	copy(id[:], b)
	return id, nil
}

// Blocks is the number of blocks of an object of n bytes.
func Blocks(n int) int { return (n + BlockSize - 1) / BlockSize }

// BlockHashes hashes each BlockSize-byte block of data (the last shorter).
func BlockHashes(data []byte) []ID {
	out := make([]ID, 0, Blocks(len(data)))
	for off := 0; off < len(data); off += BlockSize {
		out = append(out, hashBlock(data[off:min(off+BlockSize, len(data))]))
	}
	return out
}

// hashBlock is BLAKE3-256 of one block of at most BlockSize bytes. A block
// is exactly the 16 chunks BLAKE3's SIMD compresses at once, so it is
// hashed in one call of the package's core: blake3.Sum256 would split it
// into subtrees, each on a goroutine of its own, which costs more than
// the hashing at this size (TestHashBlockIsBLAKE3 checks the two agree).
func hashBlock(b []byte) ID {
	if len(b) <= guts.ChunkSize {
		return blake3.Sum256(b)
	}
	var buf *[BlockSize]byte
	if len(b) == BlockSize {
		buf = (*[BlockSize]byte)(b)
	} else {
		buf = new([BlockSize]byte)
		copy(buf[:], b)
	}
	n := guts.CompressBuffer(buf, len(b), &guts.IV, 0, 0)
	n.Flags |= guts.FlagRoot
	out := guts.WordsToBytes(guts.CompressNode(n))
	return ID(out[:32])
}

// ObjectID is the id of an object of size bytes with the given block
// hashes: BLAKE3-256("hearsay-object-v1" ‖ uint64 size ‖ hashes).
func ObjectID(size int, hashes []ID) ID {
	h := blake3.New(32, nil)
	h.Write([]byte("hearsay-object-v1"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(size)))
	for _, b := range hashes {
		h.Write(b[:])
	}
	var id ID
	h.Sum(id[:0])
	return id
}

// IDOf is the object id of data.
func IDOf(data []byte) ID { return ObjectID(len(data), BlockHashes(data)) }

// CheckHashes checks that block hashes belong to the object id of size bytes.
func CheckHashes(id ID, size int, hashes []ID) error {
	if size < 0 || size > MaxObject || len(hashes) != Blocks(size) {
		return fmt.Errorf("%w: %d block hashes for %d bytes", ErrCorrupt, len(hashes), size)
	}
	if ObjectID(size, hashes) != id {
		return fmt.Errorf("%w: block hashes of %s", ErrCorrupt, id.Short())
	}
	return nil
}

// CheckBlock checks block i of an object against its checked hashes.
func CheckBlock(hashes []ID, size, i int, block []byte) error {
	if i < 0 || i >= len(hashes) {
		return fmt.Errorf("%w: block %d of %d", ErrCorrupt, i, len(hashes))
	}
	want := min(BlockSize, size-i*BlockSize)
	if len(block) != want || hashBlock(block) != hashes[i] {
		return fmt.Errorf("%w: block %d", ErrCorrupt, i)
	}
	return nil
}

// ContentHasher computes a file's content hash: BLAKE3-256 over
// "hearsay-content-v1" and the BLAKE3-256 of each segment, in order. Each
// segment is hashed in one call (SIMD across its chunks, no goroutines),
// which is what keeps the put path near raw hashing speed.
type ContentHasher struct{ h *blake3.Hasher }

// NewContentHasher starts a content hash.
func NewContentHasher() *ContentHasher {
	h := blake3.New(32, nil)
	h.Write([]byte("hearsay-content-v1"))
	return &ContentHasher{h}
}

// Add hashes the next segment.
func (c *ContentHasher) Add(segment []byte) {
	s := blake3.Sum256(segment)
	c.h.Write(s[:])
}

// Sum is the content hash of the segments added.
func (c *ContentHasher) Sum() ID {
	var id ID
	c.h.Sum(id[:0])
	return id
}

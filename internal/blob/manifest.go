package blob

import (
	"fmt"
	"math"
)

// Manifest is what a file's directory version says of it (the "file" field
// of a dir put, docs/protocol.md §12). It names exact hashes, so a reader
// knows the one right answer for every byte.
type Manifest struct {
	Size    uint64 `cbor:"size"`          // bytes of content
	Segment uint32 `cbor:"segment"`       // SegmentSize
	K       uint16 `cbor:"k"`             // data shards per stripe
	M       uint16 `cbor:"m"`             // parity shards per stripe
	Content []byte `cbor:"content"`       // BLAKE3-256 of the content
	Table   []byte `cbor:"table"`         // object id of the shard table
	Key     []byte `cbor:"key,omitempty"` // the content key; only in a sealed (private) manifest
}

// Check validates a manifest's fields.
func (m *Manifest) Check() error {
	if len(m.Content) != 32 || len(m.Table) != 32 {
		return fmt.Errorf("%w: content and table are 32-byte hashes", ErrParams)
	}
	if len(m.Key) != 0 && len(m.Key) != KeySize {
		return fmt.Errorf("%w: a content key has %d bytes", ErrParams, KeySize)
	}
	if m.Size > math.MaxInt64 {
		return fmt.Errorf("%w: size %d", ErrParams, m.Size)
	}
	p := m.Params()
	if err := p.Check(); err != nil {
		return err
	}
	if t := int64(p.Stripes(int64(m.Size))) * int64(p.N()) * 32; t > MaxObject {
		return fmt.Errorf("%w: a shard table of %d bytes exceeds %d: use larger segments", ErrParams, t, MaxObject)
	}
	return nil
}

// Params are the manifest's coding parameters.
func (m *Manifest) Params() Params {
	return Params{SegmentSize: int(m.Segment), K: int(m.K), M: int(m.M), Sealed: len(m.Key) > 0}
}

// ContentID is the content hash.
func (m *Manifest) ContentID() ID { return ID(m.Content) }

// TableID is the shard table's object id.
func (m *Manifest) TableID() ID { return ID(m.Table) }

// Stripes is the number of stripes.
func (m *Manifest) Stripes() int { return m.Params().Stripes(int64(m.Size)) }

// Table lists a file's shard ids in stripe order: shard j of stripe i is
// entry i·(k+m)+j.
type Table []ID

// TableLen is the length in bytes of the shard table of a manifest.
func (m *Manifest) TableLen() int { return m.Stripes() * m.Params().N() * 32 }

// Encode is the table as stored: the ids, concatenated.
func (t Table) Encode() []byte {
	b := make([]byte, 0, 32*len(t))
	for _, id := range t {
		b = append(b, id[:]...)
	}
	return b
}

// DecodeTable decodes a stored table and checks it against the manifest.
func DecodeTable(m *Manifest, b []byte) (Table, error) {
	if len(b) != m.TableLen() {
		return nil, fmt.Errorf("%w: a shard table of %d bytes, want %d", ErrCorrupt, len(b), m.TableLen())
	}
	if IDOf(b) != m.TableID() {
		return nil, fmt.Errorf("%w: shard table", ErrCorrupt)
	}
	t := make(Table, len(b)/32)
	for i := range t {
		copy(t[i][:], b[32*i:])
	}
	return t, nil
}

// Shard is shard j of stripe i.
func (t Table) Shard(p Params, i, j int) ID { return t[i*p.N()+j] }

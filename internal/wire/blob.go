package wire

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// BlobProtocol moves shards and shard tables between peers: store, fetch,
// ask who has what, and audit (docs/protocol.md §12). One request per
// stream.
const BlobProtocol = "/hearsay/blob/1"

// Limits of the blob protocol.
const (
	// BlobChunk bounds the data of one BlobData frame.
	BlobChunk = 1 << 20
	// MaxHave bounds the ids of one BlobHave.
	MaxHave = 4096
	// maxBlobObject is blob.MaxObject: the largest object a peer may offer.
	maxBlobObject = 256 << 20
	// maxBlocks bounds the block hashes of one object (16 KiB blocks).
	maxBlocks = maxBlobObject / (16 << 10)
)

// BlobMessage is one of the messages of the blob protocol.
type BlobMessage interface{ blobTag() byte }

// BlobStore asks the peer to hold an object for Group's writer Writer until
// Expires (Unix seconds, the lease); Hashes are its block hashes, which
// name it. The peer answers BlobAck (go ahead) or BlobErr (a refusal, or
// CodeHeld) before any byte is sent; then Size bytes follow in BlobData
// frames, and the peer answers BlobAck once the object is durable, or
// BlobErr.
type BlobStore struct {
	Group, Writer, ID [32]byte
	Size              uint64
	Expires           uint64
	Hashes            [][32]byte
}

// BlobFetch asks for bytes [Offset, Offset+Length) of an object; Length 0
// means to its end. Offset is a multiple of the block size. The peer
// answers BlobObject and then BlobData frames of whole blocks, or BlobErr.
type BlobFetch struct {
	ID             [32]byte
	Offset, Length uint64
}

// BlobHave asks which of IDs the peer holds; it answers BlobHolding.
type BlobHave struct{ IDs [][32]byte }

// BlobAudit challenges the peer to prove it holds block Block of object ID;
// it answers BlobProof with the same Nonce, or BlobErr.
type BlobAudit struct {
	ID, Nonce [32]byte
	Block     uint64
}

// BlobRenew extends the lease of those of IDs the peer holds to Expires
// (Unix seconds; a lease never shortens); it answers BlobHolding.
type BlobRenew struct {
	Expires uint64
	IDs     [][32]byte
}

// BlobObject opens a fetch answer: the object's size and block hashes,
// which the fetcher checks against the id it asked for.
type BlobObject struct {
	Size   uint64
	Hashes [][32]byte
}

// BlobData carries bytes of an object.
type BlobData struct{ Data []byte }

// BlobHolding answers BlobHave: bit i (LSB first within each byte) is set
// if the peer holds IDs[i].
type BlobHolding struct{ Bits []byte }

// BlobProof answers BlobAudit with the object's block hashes and the block.
type BlobProof struct {
	Nonce  [32]byte
	Size   uint64
	Hashes [][32]byte
	Block  []byte
}

// BlobAck accepts a BlobStore.
type BlobAck struct{}

// BlobErr refuses a request.
type BlobErr struct {
	Code Code
	Text string
}

// Refusal codes of the blob protocol.
const (
	CodeNotFound Code = 16 // the peer does not hold the object
	CodeNoCredit Code = 17 // the sender has stored more here than it has earned
	CodeOverCap  Code = 18 // the writer's storage cap on this peer is reached
	CodeFull     Code = 19 // the peer's storage quota is reached
	CodeCorrupt  Code = 20 // the bytes sent do not match their id
	CodeHeld     Code = 21 // the peer holds the object already: send nothing
)

const (
	tagBlobStore   = 0x41
	tagBlobFetch   = 0x42
	tagBlobHave    = 0x43
	tagBlobAudit   = 0x44
	tagBlobObject  = 0x45
	tagBlobData    = 0x46
	tagBlobHolding = 0x47
	tagBlobProof   = 0x48
	tagBlobAck     = 0x49
	tagBlobErr     = 0x4a
	tagBlobRenew   = 0x4b
)

func (BlobStore) blobTag() byte   { return tagBlobStore }
func (BlobFetch) blobTag() byte   { return tagBlobFetch }
func (BlobHave) blobTag() byte    { return tagBlobHave }
func (BlobAudit) blobTag() byte   { return tagBlobAudit }
func (BlobObject) blobTag() byte  { return tagBlobObject }
func (BlobData) blobTag() byte    { return tagBlobData }
func (BlobHolding) blobTag() byte { return tagBlobHolding }
func (BlobProof) blobTag() byte   { return tagBlobProof }
func (BlobAck) blobTag() byte     { return tagBlobAck }
func (BlobErr) blobTag() byte     { return tagBlobErr }
func (BlobRenew) blobTag() byte   { return tagBlobRenew }

// EncodeBlob encodes a blob message.
func EncodeBlob(m BlobMessage) []byte {
	b := []byte{m.blobTag()}
	switch m := m.(type) {
	case BlobStore:
		b = append(append(append(b, m.Group[:]...), m.Writer[:]...), m.ID[:]...)
		b = binary.AppendUvarint(binary.AppendUvarint(b, m.Size), m.Expires)
		b = appendHashes(b, m.Hashes)
	case BlobFetch:
		b = binary.AppendUvarint(binary.AppendUvarint(append(b, m.ID[:]...), m.Offset), m.Length)
	case BlobHave:
		b = appendHashes(b, m.IDs)
	case BlobAudit:
		b = binary.AppendUvarint(append(append(b, m.ID[:]...), m.Nonce[:]...), m.Block)
	case BlobObject:
		b = appendHashes(binary.AppendUvarint(b, m.Size), m.Hashes)
	case BlobData:
		b = append(b, m.Data...)
	case BlobHolding:
		b = append(b, m.Bits...)
	case BlobProof:
		b = appendHashes(binary.AppendUvarint(append(b, m.Nonce[:]...), m.Size), m.Hashes)
		b = append(b, m.Block...)
	case BlobErr:
		b = append(append(b, byte(m.Code)), m.Text...)
	case BlobRenew:
		b = appendHashes(binary.AppendUvarint(b, m.Expires), m.IDs)
	}
	return b
}

func appendHashes(b []byte, hs [][32]byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(hs)))
	for _, h := range hs {
		b = append(b, h[:]...)
	}
	return b
}

// blobReader takes fields off a message body, failing once on the first
// field that does not fit.
type blobReader struct {
	b   []byte
	err error
}

func (r *blobReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: blob %s", ErrMalformed, what)
	}
}

func (r *blobReader) hash(what string) (h [32]byte) {
	if r.err == nil && len(r.b) < 32 {
		r.fail(what)
	}
	if r.err != nil {
		return h
	}
	copy(h[:], r.b)
	r.b = r.b[32:]
	return h
}

func (r *blobReader) uvarint(what string, max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 || v > max {
		r.fail(what)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *blobReader) hashes(what string, max int) [][32]byte {
	n := r.uvarint(what, uint64(max))
	if r.err == nil && n > uint64(len(r.b)/32) {
		r.fail(what)
	}
	if r.err != nil {
		return nil
	}
	hs := make([][32]byte, n)
	for i := range hs {
		hs[i] = r.hash(what)
	}
	return hs
}

func (r *blobReader) end(what string) {
	if r.err == nil && len(r.b) != 0 {
		r.fail(what + " has trailing bytes")
	}
}

// blocksOf is the number of 16 KiB blocks of size bytes.
func blocksOf(size uint64) int { return int((size + 16<<10 - 1) / (16 << 10)) }

// DecodeBlob decodes a blob message. Besides each field's length it checks
// what the fields must agree on: an object's block hashes number its
// blocks, a proof's block fits the object.
func DecodeBlob(b []byte) (BlobMessage, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	r := &blobReader{b: b[1:]}
	var m BlobMessage
	switch b[0] {
	case tagBlobStore:
		s := BlobStore{Group: r.hash("store group"), Writer: r.hash("store writer"), ID: r.hash("store id")}
		s.Size = r.uvarint("store size", maxBlobObject)
		s.Expires = r.uvarint("store lease", 1<<62)
		s.Hashes = r.hashes("store hashes", maxBlocks)
		if r.err == nil && len(s.Hashes) != blocksOf(s.Size) {
			r.fail("store hashes do not number its blocks")
		}
		r.end("store")
		m = s
	case tagBlobFetch:
		f := BlobFetch{ID: r.hash("fetch id")}
		f.Offset = r.uvarint("fetch offset", maxBlobObject)
		f.Length = r.uvarint("fetch length", maxBlobObject)
		if r.err == nil && f.Offset%(16<<10) != 0 {
			r.fail("fetch offset is not on a block")
		}
		r.end("fetch")
		m = f
	case tagBlobHave:
		h := BlobHave{IDs: r.hashes("have ids", MaxHave)}
		r.end("have")
		m = h
	case tagBlobAudit:
		a := BlobAudit{ID: r.hash("audit id"), Nonce: r.hash("audit nonce")}
		a.Block = r.uvarint("audit block", maxBlocks)
		r.end("audit")
		m = a
	case tagBlobObject:
		o := BlobObject{Size: r.uvarint("object size", maxBlobObject)}
		o.Hashes = r.hashes("object hashes", maxBlocks)
		if r.err == nil && len(o.Hashes) != blocksOf(o.Size) {
			r.fail("object hashes do not number its blocks")
		}
		r.end("object")
		m = o
	case tagBlobData:
		if len(r.b) == 0 || len(r.b) > BlobChunk {
			r.fail("data of " + fmt.Sprint(len(r.b)) + " bytes")
		}
		m = BlobData{Data: r.b}
	case tagBlobHolding:
		if len(r.b) > (MaxHave+7)/8 {
			r.fail("holding bits")
		}
		m = BlobHolding{Bits: r.b}
	case tagBlobProof:
		p := BlobProof{Nonce: r.hash("proof nonce")}
		p.Size = r.uvarint("proof size", maxBlobObject)
		p.Hashes = r.hashes("proof hashes", maxBlocks)
		if r.err == nil && (len(p.Hashes) != blocksOf(p.Size) || len(r.b) == 0 || len(r.b) > 16<<10) {
			r.fail("proof does not fit its object")
		}
		p.Block = r.b
		m = p
	case tagBlobRenew:
		rn := BlobRenew{Expires: r.uvarint("renew lease", 1<<62)}
		rn.IDs = r.hashes("renew ids", MaxHave)
		r.end("renew")
		m = rn
	case tagBlobAck:
		r.end("ack")
		m = BlobAck{}
	case tagBlobErr:
		if len(r.b) < 1 || len(r.b) > 1+maxText || !utf8.Valid(r.b[1:]) {
			r.fail("error message")
		} else {
			m = BlobErr{Code: Code(r.b[0]), Text: string(r.b[1:])}
		}
	default:
		return nil, fmt.Errorf("%w: blob message type %#x", ErrMalformed, b[0])
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

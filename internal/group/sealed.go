package group

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"slices"

	"hearsay/internal/entry"
	"hearsay/internal/secret"

	"github.com/fxamacker/cbor/v2"
)

// Kinds of a private group (read policy members).
const (
	// KindKey shares a group key: sealed copies of it, one per member.
	KindKey = "key"
	// KindSealed carries another kind's body encrypted under a group key.
	KindSealed = "sealed"
)

// MaxShares bounds the members one key entry reaches.
const MaxShares = 4096

// sealedBoxSize is a NaCl anonymous box of a 32-byte key.
const sealedBoxSize = 32 + 16 + 32

// KeyShares is the body of a key entry. Key is the key's id, chosen at
// random by whoever made the key; the same key may be shared again, under
// the same id, in later key entries (to a new member).
type KeyShares struct {
	Key    []byte  `cbor:"key"`
	Shares []Share `cbor:"shares"`
}

// Share is the group key sealed to one member.
type Share struct {
	To  []byte `cbor:"to"`
	Box []byte `cbor:"box"`
}

// Sealed is the body of a sealed entry.
type Sealed struct {
	Key   []byte `cbor:"key"`
	Nonce []byte `cbor:"nonce"`
	CT    []byte `cbor:"ct"`
}

// inner is the plaintext of a sealed entry: the kind and body it hides,
// then zero bytes up to a bucket length (padLength), so that an outsider
// learns the bucket rather than the length. (Entries sealed before
// padding have no zeros; they open the same.)
type inner struct {
	_    struct{} `cbor:",toarray"`
	Kind string
	Body []byte
}

// minPadded is the shortest sealed plaintext: short posts all look alike.
const minPadded = 256

// sealOverhead bounds what a sealed body adds to its plaintext: the map
// and its keys, the 32-byte key id, the 24-byte nonce, the 16-byte tag and
// the length prefixes (95 bytes at most).
const sealOverhead = 128

// firstItem splits a sealed plaintext into its CBOR item and the padding
// after it.
func firstItem(pt []byte) (item, pad []byte, err error) {
	c, err := codec()
	if err != nil {
		panic(err) // the options are constants: this cannot fail at run time
	}
	var raw cbor.RawMessage
	pad, err = c.dec.UnmarshalFirst(pt, &raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: sealed plaintext: %v", entry.ErrMalformed, err)
	}
	return pt[:len(pt)-len(pad)], pad, nil
}

// padLength is the length a plaintext of n bytes is padded to: Padmé
// (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
// Communication with PURBs", PETS 2019), which adds at most 12% and leaves
// a length O(log log n) bits to tell, from at least minPadded, and never
// past what a body of maxBody can hold.
func padLength(n int, maxBody uint32) int {
	l := max(n, minPadded)
	e := bits.Len(uint(l)) - 1 // ⌊log2 l⌋
	mask := 1<<(e-bits.Len(uint(e))) - 1
	l = (l + mask) &^ mask
	return max(n, min(l, int(maxBody)-sealOverhead))
}

// NewKeyShares seals key k, known by id, to each of the members.
func NewKeyShares(id [32]byte, k secret.Key, members []entry.Author, rand io.Reader) (*KeyShares, error) {
	ks := &KeyShares{Key: id[:]}
	for _, m := range members {
		b, err := secret.SealTo(k, ed25519.PublicKey(m[:]), rand)
		if err != nil {
			return nil, err
		}
		ks.Shares = append(ks.Shares, Share{To: append([]byte{}, m[:]...), Box: b})
	}
	return ks, nil
}

// DecodeKeyShares decodes and checks a key body.
func DecodeKeyShares(s *entry.Signed) (*KeyShares, error) {
	var ks KeyShares
	return &ks, decodeChecked(s, &ks)
}

// Open finds the share addressed to me and opens it.
func (ks *KeyShares) Open(me ed25519.PrivateKey) (secret.Key, bool) {
	pub := me.Public().(ed25519.PublicKey)
	for _, sh := range ks.Shares {
		if string(sh.To) == string(pub) {
			k, err := secret.OpenFor(sh.Box, me)
			return k, err == nil
		}
	}
	return secret.Key{}, false
}

// DecodeSealed decodes and checks a sealed body.
func DecodeSealed(s *entry.Signed) (*Sealed, error) {
	var sb Sealed
	if err := decodeBody(s.Kind, s.Body, &sb); err != nil {
		return nil, err
	}
	if len(sb.Key) != 32 || len(sb.Nonce) != secret.NonceSize || len(sb.CT) < 16 {
		return nil, fmt.Errorf("%w: a sealed body has a 32-byte key id, a %d-byte nonce and a ciphertext", entry.ErrMalformed, secret.NonceSize)
	}
	return &sb, nil
}

// sealedAD binds a ciphertext to the entry that carries it.
func sealedAD(e *entry.Entry) []byte {
	ad := append([]byte("hearsay/sealed/v1"), e.Group[:]...)
	ad = append(ad, e.Author[:]...)
	ad = binary.BigEndian.AppendUint64(ad, e.Seq)
	return binary.BigEndian.AppendUint64(ad, uint64(e.HLC))
}

// Seal turns e (of kind post, set or dir) into a sealed entry under key k,
// known by id, its plaintext padded to a bucket that a body of maxBody
// bytes (the group's quota) can hold. e's other fields must be final: they
// are bound to the ciphertext.
func Seal(e entry.Entry, id [32]byte, k secret.Key, maxBody uint32, rand io.Reader) (entry.Entry, error) {
	pt := encodeBody(&inner{Kind: e.Kind, Body: e.Body})
	pt = append(pt, make([]byte, padLength(len(pt), maxBody)-len(pt))...)
	nonce, ct, err := secret.Encrypt(k, sealedAD(&e), pt, rand)
	if err != nil {
		return entry.Entry{}, err
	}
	e.Kind, e.Body = KindSealed, encodeBody(&Sealed{Key: id[:], Nonce: nonce, CT: ct})
	return e, nil
}

// Unseal opens a sealed entry with its group key and returns the entry it
// hides: the same id, author, position and refs, with the inner kind and
// body, checked as any body is.
func Unseal(s *entry.Signed, k secret.Key) (*entry.Signed, error) {
	sb, err := DecodeSealed(s)
	if err != nil {
		return nil, err
	}
	pt, err := secret.Decrypt(k, sealedAD(&s.Entry), sb.Nonce, sb.CT)
	if err != nil {
		return nil, err
	}
	item, pad, err := firstItem(pt)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(pad, func(b byte) bool { return b != 0 }) {
		return nil, fmt.Errorf("%w: a sealed plaintext padded with other than zeros", entry.ErrMalformed)
	}
	var in inner
	if err := decodeBody("sealed plaintext", item, &in); err != nil {
		return nil, err
	}
	switch in.Kind {
	case KindPost, KindSet, KindDir, KindProfile:
	default:
		return nil, fmt.Errorf("%w: a sealed %q entry", entry.ErrMalformed, in.Kind)
	}
	out := *s
	out.Kind, out.Body = in.Kind, in.Body
	if err := CheckBody(&out); err != nil {
		return nil, err
	}
	return &out, nil
}

package entry

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync/atomic"

	"hearsay/internal/hlc"

	"github.com/hdevalence/ed25519consensus"
	"lukechampine.com/blake3"
)

// Format limits. They are part of the protocol: every implementation refuses
// entries beyond them, so decoders and frames can be bounded.
const (
	// Version is the content format version, the first element of content.
	Version = 1
	// MaxEncoded bounds the whole encoded entry, signature included.
	MaxEncoded = 1 << 18
	// MaxBody bounds the body; a group's quota may set a smaller cap.
	MaxBody = MaxEncoded - 1<<10
	// MaxRefs bounds the number of references.
	MaxRefs = 16
	// MaxKind bounds the length of the kind string.
	MaxKind = 32
)

// SignaturePrefix separates entry signatures from any other use of the key.
const SignaturePrefix = "hearsay/entry/v1"

// KindGenesis is the kind of the entry that creates a group. Other kinds are
// defined by the group package; the envelope treats kind as an opaque name.
const KindGenesis = "genesis"

// Errors a decoder or verifier returns; each is wrapped with detail.
var (
	ErrMalformed    = errors.New("malformed entry")
	ErrTooLarge     = errors.New("entry too large")
	ErrBadSignature = errors.New("bad signature")
)

// Entry holds the signed fields.
type Entry struct {
	// Group is the group's id; zero in a genesis entry, whose own id is the group id.
	Group ID
	// Author is the signing key.
	Author Author
	// Seq counts the author's entries in the group from 1.
	Seq uint64
	// HLC is the hybrid logical clock time of writing.
	HLC hlc.Timestamp
	// Kind names the body's schema, 1..MaxKind characters of [a-z0-9-].
	Kind string
	// Refs are ids this entry points at; their meaning depends on Kind.
	Refs []ID
	// Body is the kind-specific payload, at most MaxBody bytes.
	Body []byte
}

// Signed is an entry with its id, signature and canonical encoding. A Signed
// returned by Decode has a well-formed encoding but an unverified signature.
type Signed struct {
	Entry
	ID  ID
	Sig [ed25519.SignatureSize]byte
	// Raw is the canonical encoding of [content, signature].
	Raw []byte
}

// GroupID is the group the entry belongs to.
func (s *Signed) GroupID() ID {
	if s.Kind == KindGenesis {
		return s.ID
	}
	return s.Group
}

// Sign encodes e, derives its id and signs it with key.
func Sign(e Entry, key ed25519.PrivateKey) (*Signed, error) {
	if pub := key.Public().(ed25519.PublicKey); string(pub) != string(e.Author[:]) {
		return nil, fmt.Errorf("%w: author is not the signing key", ErrMalformed)
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	content := encodeContent(e)
	s := &Signed{Entry: e, ID: blake3.Sum256(content)}
	copy(s.Sig[:], ed25519.Sign(key, signedMessage(s.ID)))
	s.Raw = encodeSigned(content, s.Sig[:])
	if len(s.Raw) > MaxEncoded {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(s.Raw), MaxEncoded)
	}
	return s, nil
}

// Verify checks the signature over the id, under the one rule every
// replica applies (ValidSignature).
func (s *Signed) Verify() error {
	verifications.Add(1)
	if !ValidSignature(s.Author[:], signedMessage(s.ID), s.Sig[:]) {
		return s.badSignature()
	}
	return nil
}

func (s *Signed) badSignature() error {
	return fmt.Errorf("%w on entry %s", ErrBadSignature, s.ID.Short())
}

// verifications counts the entry signatures checked, alone or in a batch
// (a batch that fails counts its entries twice).
var verifications atomic.Uint64

// Verifications is how many entry signatures this process has checked:
// what shows that each entry is verified once.
func Verifications() uint64 { return verifications.Load() }

// ValidSignature is the validity rule for entry signatures: ZIP-215
// (docs/protocol.md §2). Unlike crypto/ed25519.Verify, it accepts
// non-canonical encodings of A and R and checks the cofactored equation, so
// that a signature is valid alone exactly when it is valid in a batch
// (VerifyBatch): replicas that verify differently still agree.
func ValidSignature(pub, msg, sig []byte) bool {
	return ed25519consensus.Verify(pub, msg, sig)
}

func signedMessage(id ID) []byte {
	msg := make([]byte, 0, len(SignaturePrefix)+len(id))
	return append(append(msg, SignaturePrefix...), id[:]...)
}

// check enforces the field rules shared by Sign and Decode.
func (e *Entry) check() error {
	genesis := e.Kind == KindGenesis
	switch {
	case genesis && !e.Group.IsZero():
		return fmt.Errorf("%w: a genesis entry names no group", ErrMalformed)
	case !genesis && e.Group.IsZero():
		return fmt.Errorf("%w: no group", ErrMalformed)
	case e.Seq == 0:
		return fmt.Errorf("%w: seq must be at least 1", ErrMalformed)
	case e.HLC.Millis() == 0:
		return fmt.Errorf("%w: no hlc", ErrMalformed)
	case len(e.Refs) > MaxRefs:
		return fmt.Errorf("%w: %d refs, limit %d", ErrMalformed, len(e.Refs), MaxRefs)
	case len(e.Body) > MaxBody:
		return fmt.Errorf("%w: body of %d bytes, limit %d", ErrTooLarge, len(e.Body), MaxBody)
	}
	return checkKind(e.Kind)
}

func checkKind(k string) error {
	if len(k) == 0 || len(k) > MaxKind {
		return fmt.Errorf("%w: kind must be 1..%d characters", ErrMalformed, MaxKind)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%w: kind %q: only a-z, 0-9 and '-'", ErrMalformed, k)
		}
	}
	return nil
}

package entry

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// ID names an entry: BLAKE3-256 of its canonical content bytes. A group's id
// is the id of its genesis entry.
type ID [32]byte

// Author is an Ed25519 public key: the identity that signs entries.
type Author [32]byte

// ErrMalformedID is returned for a string that is not 64 hexadecimal digits.
var ErrMalformedID = errors.New("malformed id")

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short is the first 12 hex digits, for human output.
func (id ID) Short() string { return id.String()[:12] }

// IsZero reports whether id is all zeros (no id).
func (id ID) IsZero() bool { return id == ID{} }

func (a Author) String() string { return hex.EncodeToString(a[:]) }

// Short is the first 12 hex digits, for human output.
func (a Author) Short() string { return a.String()[:12] }

// ParseID parses 64 hexadecimal digits.
func ParseID(s string) (ID, error) {
	var id ID
	if err := parseHex32(s, (*[32]byte)(&id)); err != nil {
		return ID{}, err
	}
	return id, nil
}

// ParseAuthor parses 64 hexadecimal digits.
func ParseAuthor(s string) (Author, error) {
	var a Author
	if err := parseHex32(s, (*[32]byte)(&a)); err != nil {
		return Author{}, err
	}
	return a, nil
}

func parseHex32(s string, out *[32]byte) error {
	if len(s) != 64 {
		return fmt.Errorf("%w %q: want 64 hex digits, got %d characters", ErrMalformedID, s, len(s))
	}
	if _, err := hex.Decode(out[:], []byte(s)); err != nil {
		return fmt.Errorf("%w %q: not hexadecimal", ErrMalformedID, s)
	}
	return nil
}

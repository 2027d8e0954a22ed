package group

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"hearsay/internal/blob"
	"hearsay/internal/entry"
)

// Kinds of entry this version understands, beside genesis and post.
const (
	KindMember  = "member"  // an admin adds or removes a member
	KindSet     = "set"     // adds or removes an element of a named set
	KindDir     = "dir"     // puts or removes a directory path's value
	KindRetract = "retract" // an author withdraws its own entry, refs[0]
	KindHide    = "hide"    // an admin hides any entry of the group, refs[0]
	// KindHideAuthor is an admin hiding every entry of one author, or
	// lifting that: a new kind rather than a hide with a body, so that
	// older replicas store and forward it as an unknown kind instead of
	// refusing it as a malformed hide (and charging whoever sent it).
	KindHideAuthor = "hide-author"
)

// Limits of the view bodies, in bytes.
const (
	MaxSetName = 256
	MaxElement = 1024
	MaxPath    = 1024
)

// Member is the body of a member entry: op "add" or "remove". Adding with
// Admin grants the right to manage members and to hide entries and authors.
type Member struct {
	Op     string `cbor:"op"`
	Author []byte `cbor:"author"`
	Admin  bool   `cbor:"admin,omitempty"`
}

// HideAuthor is the body of a hide-author entry: op "hide" or "unhide".
// The views hide every entry of Author in the group while the latest of
// the admins' hide-author entries about it says hide (protocol §7).
type HideAuthor struct {
	Op     string `cbor:"op"`
	Author []byte `cbor:"author"`
}

// SetOp is the body of a set entry: op "add" or "remove".
type SetOp struct {
	Set     string `cbor:"set"`
	Element string `cbor:"element"`
	Op      string `cbor:"op"`
}

// DirOp is the body of a dir entry: op "put" with a value, or "rm". A put
// of a large file carries its manifest in File instead of a value: the
// content lives in shards on peers (package blob), the log only names it.
type DirOp struct {
	Path  string         `cbor:"path"`
	Op    string         `cbor:"op"`
	Value []byte         `cbor:"value,omitempty"`
	File  *blob.Manifest `cbor:"file,omitempty"`
}

// Ops of member, set and dir bodies.
const (
	OpAdd    = "add"
	OpRemove = "remove"
	OpPut    = "put"
	OpRm     = "rm"
	OpHide   = "hide"
	OpUnhide = "unhide"
)

// Encode encodes a view body after checking it.
func Encode(kind string, body any) ([]byte, error) {
	if err := checkFields(kind, body); err != nil {
		return nil, err
	}
	return encodeBody(body), nil
}

// DecodeMember decodes and checks a member body.
func DecodeMember(s *entry.Signed) (m Member, err error) { return m, decodeChecked(s, &m) }

// DecodeHideAuthor decodes and checks a hide-author body.
func DecodeHideAuthor(s *entry.Signed) (h HideAuthor, err error) { return h, decodeChecked(s, &h) }

// DecodeSetOp decodes and checks a set body.
func DecodeSetOp(s *entry.Signed) (o SetOp, err error) { return o, decodeChecked(s, &o) }

// DecodeDirOp decodes and checks a dir body.
func DecodeDirOp(s *entry.Signed) (o DirOp, err error) { return o, decodeChecked(s, &o) }

func decodeChecked(s *entry.Signed, v any) error {
	if len(s.Refs) != 0 {
		return fmt.Errorf("%w: a %s entry has no refs", entry.ErrMalformed, s.Kind)
	}
	if err := decodeBody(s.Kind, s.Body, v); err != nil {
		return err
	}
	if err := checkFields(s.Kind, v); err != nil {
		return fmt.Errorf("%w: %v", entry.ErrMalformed, err)
	}
	return nil
}

// checkTarget checks a retract or hide entry: one ref, the target, no body.
func checkTarget(s *entry.Signed) error {
	if len(s.Refs) != 1 || len(s.Body) != 0 {
		return fmt.Errorf("%w: a %s entry has one ref, its target, and no body", entry.ErrMalformed, s.Kind)
	}
	return nil
}

func checkFields(kind string, body any) error {
	switch b := body.(type) {
	case *Member:
		if b.Op != OpAdd && b.Op != OpRemove {
			return fmt.Errorf("member op %q: want add or remove", b.Op)
		}
		if len(b.Author) != 32 {
			return fmt.Errorf("member author of %d bytes, want 32", len(b.Author))
		}
		if b.Op == OpRemove && b.Admin {
			return fmt.Errorf("a remove carries no admin flag")
		}
	case *HideAuthor:
		if b.Op != OpHide && b.Op != OpUnhide {
			return fmt.Errorf("hide-author op %q: want hide or unhide", b.Op)
		}
		if len(b.Author) != 32 {
			return fmt.Errorf("hide-author author of %d bytes, want 32", len(b.Author))
		}
	case *SetOp:
		if b.Op != OpAdd && b.Op != OpRemove {
			return fmt.Errorf("set op %q: want add or remove", b.Op)
		}
		if err := checkText("set name", b.Set, MaxSetName); err != nil {
			return err
		}
		return checkText("element", b.Element, MaxElement)
	case *KeyShares:
		if len(b.Key) != 32 || len(b.Shares) == 0 || len(b.Shares) > MaxShares {
			return fmt.Errorf("a key entry has a 32-byte key id and 1..%d shares", MaxShares)
		}
		for _, sh := range b.Shares {
			if len(sh.To) != 32 || len(sh.Box) != sealedBoxSize {
				return fmt.Errorf("a share is a 32-byte author and a %d-byte box", sealedBoxSize)
			}
		}
	case *DirOp:
		switch {
		case b.Op != OpPut && b.Op != OpRm:
			return fmt.Errorf("dir op %q: want put or rm", b.Op)
		case b.Op == OpRm && (len(b.Value) > 0 || b.File != nil):
			return fmt.Errorf("an rm carries no value")
		case b.File != nil && len(b.Value) > 0:
			return fmt.Errorf("a file put carries a manifest, not a value")
		case b.File != nil:
			if err := b.File.Check(); err != nil {
				return err
			}
		}
		return CheckPath(b.Path)
	default:
		return fmt.Errorf("no %s body of type %T", kind, body)
	}
	return nil
}

func checkText(what, s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("%s must be 1..%d bytes", what, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s %q has a control character", what, s)
		}
	}
	return nil
}

// CheckPath validates a directory path: segments joined by "/", none empty,
// "." or "..", no control characters, at most MaxPath bytes.
func CheckPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty path")
	case len(p) > MaxPath:
		return fmt.Errorf("path of %d bytes, limit %d", len(p), MaxPath)
	case !utf8.ValidString(p):
		return fmt.Errorf("path %q is not UTF-8", p)
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return fmt.Errorf("path %q has an empty segment (leading, trailing or double /)", p)
		case ".", "..":
			return fmt.Errorf("path %q has a %q segment", p, seg)
		}
		for _, r := range seg {
			if unicode.IsControl(r) {
				return fmt.Errorf("path %q has a control character", p)
			}
		}
	}
	return nil
}

package group

import (
	"crypto/ed25519"
	"fmt"
	"unicode"

	"hearsay/internal/entry"
	"hearsay/internal/hlc"
)

// WritePolicy says who may write to a group.
type WritePolicy string

// ReadPolicy says who may read a group's bodies.
type ReadPolicy string

// Write and read policies (DESIGN R11).
const (
	WriteOpen    WritePolicy = "open"    // anyone
	WriteMembers WritePolicy = "members" // the owner and the members admins add
	WriteOwner   WritePolicy = "owner"   // the owner alone

	ReadPublic  ReadPolicy = "public"  // bodies in the clear
	ReadMembers ReadPolicy = "members" // bodies encrypted to members
)

// Quota bounds what one author may write to a group. Entries and bytes are
// counted per author per UTC day of the entries' hlc; zero means no limit.
type Quota struct {
	// MaxBody is the largest body in bytes, 1..entry.MaxBody.
	MaxBody uint32 `cbor:"max_body" json:"max_body"`
	// EntriesPerDay bounds the entries per author per day.
	EntriesPerDay uint32 `cbor:"entries_per_day" json:"entries_per_day"`
	// BytesPerDay bounds the encoded bytes per author per day.
	BytesPerDay uint64 `cbor:"bytes_per_day" json:"bytes_per_day"`
}

// DefaultQuota suits a discussion group: 64 KiB posts, 10,000 entries and
// 64 MiB per author per day.
var DefaultQuota = Quota{MaxBody: 64 << 10, EntriesPerDay: 10_000, BytesPerDay: 64 << 20}

// MaxName bounds a group's name in bytes.
const MaxName = 128

// Genesis is the body of the entry that creates a group: what it fixes can
// never change, because the group's id is the genesis entry's id.
type Genesis struct {
	Name  string      `cbor:"name"`
	Write WritePolicy `cbor:"write"`
	Read  ReadPolicy  `cbor:"read"`
	Quota Quota       `cbor:"quota"`
	// Nonce makes two otherwise identical geneses distinct groups.
	Nonce []byte `cbor:"nonce"`
}

// Validate checks every field.
func (g *Genesis) Validate() error {
	if g.Name == "" || len(g.Name) > MaxName {
		return fmt.Errorf("group name must be 1..%d bytes", MaxName)
	}
	for _, r := range g.Name {
		if unicode.IsControl(r) {
			return fmt.Errorf("group name %q has a control character", g.Name)
		}
	}
	switch g.Write {
	case WriteOpen, WriteMembers, WriteOwner:
	default:
		return fmt.Errorf("write policy %q: want open, members or owner", g.Write)
	}
	switch g.Read {
	case ReadPublic, ReadMembers:
	default:
		return fmt.Errorf("read policy %q: want public or members", g.Read)
	}
	if g.Quota.MaxBody == 0 || g.Quota.MaxBody > entry.MaxBody {
		return fmt.Errorf("max body %d: want 1..%d", g.Quota.MaxBody, entry.MaxBody)
	}
	if len(g.Nonce) > 32 {
		return fmt.Errorf("nonce of %d bytes, limit 32", len(g.Nonce))
	}
	return nil
}

// Group is a group as its genesis entry defines it.
type Group struct {
	ID    entry.ID
	Owner entry.Author
	// Created is the genesis hlc; every other entry of the group is later.
	Created hlc.Timestamp
	Genesis
}

// NewGenesis builds and signs the genesis entry of a new group.
func NewGenesis(g Genesis, key ed25519.PrivateKey, at hlc.Timestamp) (*entry.Signed, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	var owner entry.Author
	copy(owner[:], key.Public().(ed25519.PublicKey))
	return entry.Sign(entry.Entry{Author: owner, Seq: 1, HLC: at, Kind: entry.KindGenesis, Body: encodeBody(&g)}, key)
}

// FromGenesis reads a group from its genesis entry.
func FromGenesis(s *entry.Signed) (*Group, error) {
	if s.Kind != entry.KindGenesis {
		return nil, fmt.Errorf("%w: entry %s is a %q, not a genesis", entry.ErrMalformed, s.ID.Short(), s.Kind)
	}
	g := &Group{ID: s.ID, Owner: s.Author, Created: s.HLC}
	if err := decodeBody(s.Kind, s.Body, &g.Genesis); err != nil {
		return nil, err
	}
	if len(s.Refs) != 0 || s.Seq != 1 {
		return nil, fmt.Errorf("%w: a genesis has seq 1 and no refs", entry.ErrMalformed)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%w: genesis: %v", entry.ErrMalformed, err)
	}
	return g, nil
}

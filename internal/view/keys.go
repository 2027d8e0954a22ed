package view

import (
	"encoding/binary"

	"hearsay/internal/entry"
	"hearsay/internal/hlc"
)

// Tag is the first byte of every view key; the store keeps it for views.
const Tag = 'v'

// View indexes, each keyed by group first. Positions are hlc(8) id(32), so
// every index is in log order within its prefix.
//
//	v t group parent pos                     → nil              children of a post (parent zero: top level)
//	v s group len(2) set len(2) element pos  → op author        set ops
//	v d group path 0x00 pos                  → op author        directory versions (paths hold no 0x00)
//	v m group pos                            → nil              membership events
//	v x group target pos                     → kind author      retractions and hides
//	v h group author pos                     → op signer        hide-author entries about an author
//	v g group author pos                     → nil              member grants, for admission
//	v a group author pos                     → nil              admin grants, for admission
//	v k group pos                            → key id           key entries of a private group
//	v u group key-id pos                     → nil              sealed entries not yet unsealed here
//	v n group author pos                     → nil              an author's profiles (display names)
const (
	tagThread  = 't'
	tagSet     = 's'
	tagDir     = 'd'
	tagMember  = 'm'
	tagModerat = 'x'
	tagHidden  = 'h'
	tagGrant   = 'g'
	tagAdmin   = 'a'
	tagKey     = 'k'
	tagAwait   = 'u'
	tagProfile = 'n'
)

const posLen = 8 + 32

// Pos is an entry's place in the log.
type Pos struct {
	HLC hlc.Timestamp
	ID  entry.ID
}

// PosOf is the position of an entry.
func PosOf(e *entry.Signed) Pos { return Pos{e.HLC, e.ID} }

// Less orders positions as the log does.
func (p Pos) Less(q Pos) bool {
	if p.HLC != q.HLC {
		return p.HLC < q.HLC
	}
	return string(p.ID[:]) < string(q.ID[:])
}

func (p Pos) append(b []byte) []byte {
	return append(binary.BigEndian.AppendUint64(b, uint64(p.HLC)), p.ID[:]...)
}

func readPos(b []byte) Pos {
	return Pos{hlc.Timestamp(binary.BigEndian.Uint64(b)), entry.ID(b[8:posLen])}
}

func prefix(tag byte, g entry.ID, parts ...[]byte) []byte {
	k := append([]byte{Tag, tag}, g[:]...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func lenPrefixed(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

func setPrefix(g entry.ID, set string) []byte { return prefix(tagSet, g, lenPrefixed(set)) }

func dirPath(g entry.ID, path string) []byte { return prefix(tagDir, g, []byte(path), []byte{0}) }

// GrantPrefix is where the grants of an author sit, in log order: admission
// asks whether the first is older than an entry.
func GrantPrefix(g entry.ID, a entry.Author, admin bool) []byte {
	if admin {
		return prefix(tagAdmin, g, a[:])
	}
	return prefix(tagGrant, g, a[:])
}

// Prefixes are the prefixes of every view key of a group, for purging it.
func Prefixes(g entry.ID) [][]byte {
	var out [][]byte
	for _, t := range []byte{tagThread, tagSet, tagDir, tagMember, tagModerat, tagHidden, tagGrant, tagAdmin, tagKey, tagAwait, tagProfile} {
		out = append(out, prefix(t, g))
	}
	return out
}

// KeyEntries prefixes the positions of a group's key entries.
func KeyEntries(g entry.ID) []byte { return prefix(tagKey, g) }

// Awaiting prefixes the sealed entries under a key that are not unsealed yet.
func Awaiting(g entry.ID, keyID []byte) []byte { return prefix(tagAwait, g, keyID) }

// AwaitingKey is the awaiting key of the sealed entry at p.
func AwaitingKey(g entry.ID, keyID []byte, p Pos) []byte { return p.append(Awaiting(g, keyID)) }

// PosAt reads the position that ends a view key.
func PosAt(key []byte) Pos { return readPos(key[len(key)-posLen:]) }

// GrantPos reads the position from a key under GrantPrefix.
func GrantPos(key []byte) Pos { return readPos(key[len(key)-posLen:]) }

// ParseGrant splits a grant key Apply wrote into its GrantPrefix and hlc; ok
// is false for any other view key.
func ParseGrant(key []byte) (prefix []byte, at hlc.Timestamp, ok bool) {
	if len(key) < 2 || key[0] != Tag || key[1] != tagGrant && key[1] != tagAdmin {
		return nil, 0, false
	}
	return key[:len(key)-posLen], GrantPos(key).HLC, true
}

// ops in index values
const (
	opAdd      = '+'
	opRemove   = '-'
	modRetract = 'r'
	modHide    = 'h'
)

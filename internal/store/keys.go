package store

import (
	"encoding/binary"

	"hearsay/internal/entry"
	"hearsay/internal/hlc"
)

// Key layout. Every key starts with a one-byte table tag; integers are
// big-endian so that byte order is numeric order.
//
//	'g' group                           → flags             groups held; groupLeft once left
//	'l' group hlc(8) id                 → encoded entry     the log, in (hlc, id) order
//	'e' group id                        → hlc(8)            ids in id order: dedupe, lookup, digest
//	's' group author seq(8) id          → nothing           per-author sequence
//	'n' group                           → count(8)          entries held
//	'q' group author                    → id id             first proof of equivocation
//	'u' group author day(4)             → entries(4) bytes(8)  quota usage
//	'm' "hlc"                           → hlc(8)            greatest hlc stored
//	'c' group                           → entries(4) bytes(8)  the operator's caps a day (caps.go)
//	'p' group                           → day(4) at(8) over(1) resumed(1)  the group's last pause
//	'U' group day(4)                    → entries(4) bytes(8)  the group's usage, while it has caps
//	'v' ...                                                 the views' indexes (package view)
const (
	tagGroup = 'g'
	tagLog   = 'l'
	tagID    = 'e'
	tagSeq   = 's'
	tagCount = 'n'
	tagEquiv = 'q'
	tagUsage = 'u'
	tagMeta  = 'm'

	tagCaps       = 'c'
	tagPause      = 'p'
	tagGroupUsage = 'U'
)

var keyMaxHLC = key(tagMeta, []byte("hlc"))

// groupLeft is the group flag of a group this node left.
const groupLeft = 'L'

func key(tag byte, parts ...[]byte) []byte {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 1, n)
	k[0] = tag
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func logKey(g entry.ID, t hlc.Timestamp, id entry.ID) []byte {
	return key(tagLog, g[:], u64(uint64(t)), id[:])
}

func idKey(g, id entry.ID) []byte { return key(tagID, g[:], id[:]) }

func seqKey(g entry.ID, a entry.Author, seq uint64, id entry.ID) []byte {
	return key(tagSeq, g[:], a[:], u64(seq), id[:])
}

func usageKey(g entry.ID, a entry.Author, day uint32) []byte {
	return key(tagUsage, g[:], a[:], u32(day))
}

// prefixEnd is the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte{}, p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i]++; end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

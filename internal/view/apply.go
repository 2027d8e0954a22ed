package view

import (
	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// Apply writes the index keys of one admitted entry of group g through set.
// It reads nothing, so its cost is the few keys it writes. A sealed entry is
// indexed as awaiting its key; once unsealed, Apply takes the entry it hides.
func Apply(g entry.ID, e *entry.Signed, set func(key, value []byte)) error {
	pos := PosOf(e).append(nil)
	author := e.Author[:]
	switch e.Kind {
	case group.KindPost:
		parent := group.ReplyTo(e)
		set(prefix(tagThread, g, parent[:], pos), nil)
	case group.KindSet:
		op, err := group.DecodeSetOp(e)
		if err != nil {
			return err
		}
		set(append(setPrefix(g, op.Set), append(lenPrefixed(op.Element), pos...)...), append([]byte{setOpByte(op.Op)}, author...))
	case group.KindDir:
		op, err := group.DecodeDirOp(e)
		if err != nil {
			return err
		}
		set(append(dirPath(g, op.Path), pos...), append([]byte{setOpByte(op.Op)}, author...))
	case group.KindMember:
		m, err := group.DecodeMember(e)
		if err != nil {
			return err
		}
		set(prefix(tagMember, g, pos), nil)
		if m.Op == group.OpAdd {
			target := entry.Author(m.Author)
			set(append(GrantPrefix(g, target, false), pos...), nil)
			if m.Admin {
				set(append(GrantPrefix(g, target, true), pos...), nil)
			}
		}
	case group.KindHideAuthor:
		h, err := group.DecodeHideAuthor(e)
		if err != nil {
			return err
		}
		op := byte(opRemove)
		if h.Op == group.OpHide {
			op = opAdd
		}
		set(prefix(tagHidden, g, h.Author, pos), append([]byte{op}, author...))
	case group.KindKey:
		ks, err := group.DecodeKeyShares(e)
		if err != nil {
			return err
		}
		set(prefix(tagKey, g, pos), ks.Key)
	case group.KindSealed:
		sb, err := group.DecodeSealed(e)
		if err != nil {
			return err
		}
		set(append(Awaiting(g, sb.Key), pos...), nil)
	case group.KindProfile:
		set(prefix(tagProfile, g, author, pos), nil)
	case group.KindRetract, group.KindHide:
		kind := byte(modRetract)
		if e.Kind == group.KindHide {
			kind = modHide
		}
		set(prefix(tagModerat, g, e.Refs[0][:], pos), append([]byte{kind}, author...))
	}
	return nil
}

func setOpByte(op string) byte {
	if op == group.OpAdd || op == group.OpPut {
		return opAdd
	}
	return opRemove
}

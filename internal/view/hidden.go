package view

import (
	"slices"

	"hearsay/internal/entry"
)

// HiddenAuthor is an author every entry of whom the views hide, and the
// hide-author entry that decides it.
type HiddenAuthor struct {
	Author entry.Author
	By     entry.Author // the admin who signed the deciding entry
	At     Pos          // the deciding entry's position
}

// loadHidden folds the group's hide-author entries. Per author, the one with
// the greatest position decides, among those whose signer is an admin (who
// could write) at the entry's position: hide hides every entry of the
// author, written before it or after, and unhide lifts that. Entries about
// the owner are ignored, as member entries about the owner are. The index
// holds an author's entries in log order, so the last one read decides: the
// answer depends on the set of entries alone, never on their arrival.
func (v *View) loadHidden() error {
	v.hidden = map[entry.Author]HiddenAuthor{}
	return v.r.Scan(prefix(tagHidden, v.G.ID), func(k, val []byte) bool {
		target, at, signer := entry.Author(k[2+32:2+64]), readPos(k[len(k)-posLen:]), entry.Author(val[1:33])
		if target == v.G.Owner || !v.byAdmin(signer, at) {
			return true
		}
		if val[0] == opAdd {
			v.hidden[target] = HiddenAuthor{Author: target, By: signer, At: at}
		} else {
			delete(v.hidden, target)
		}
		return true
	})
}

// byAdmin says whether an entry of a at position at counts as an admin's:
// a was an admin just before it, and could write there.
func (v *View) byAdmin(a entry.Author, at Pos) bool {
	_, admin := v.members.At(a, at)
	return admin && v.valid(a, at)
}

// HiddenAuthors lists the authors hidden now, by author id.
func (v *View) HiddenAuthors() []HiddenAuthor {
	out := make([]HiddenAuthor, 0, len(v.hidden))
	for _, h := range v.hidden {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b HiddenAuthor) int { return compareBytes(a.Author[:], b.Author[:]) })
	return out
}

// AuthorHidden says whether every entry of a is hidden now.
func (v *View) AuthorHidden(a entry.Author) bool {
	_, ok := v.hidden[a]
	return ok
}

package view

import (
	"slices"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// Timeline is the membership of a group through time: the fold, in log
// order, of its member entries. An event takes effect only if its signer is
// an admin just before it; the owner is always a member and an admin, and
// events about the owner are ignored.
type Timeline struct {
	owner   entry.Author
	changes map[entry.Author][]change // per author, in log order
}

type change struct {
	at            Pos
	member, admin bool
}

type memberEvent struct {
	at     Pos
	signer entry.Author
	m      group.Member
}

func fold(owner entry.Author, events []memberEvent) *Timeline {
	t := &Timeline{owner: owner, changes: map[entry.Author][]change{}}
	for _, ev := range events {
		if _, admin := t.At(ev.signer, ev.at); !admin {
			continue
		}
		target := entry.Author(ev.m.Author)
		if target == owner {
			continue
		}
		c := change{at: ev.at, member: ev.m.Op == group.OpAdd}
		c.admin = c.member && ev.m.Admin
		t.changes[target] = append(t.changes[target], c)
	}
	return t
}

// At says whether a was a member, and an admin, just before position p.
func (t *Timeline) At(a entry.Author, p Pos) (member, admin bool) {
	if a == t.owner {
		return true, true
	}
	cs := t.changes[a]
	i, _ := slices.BinarySearchFunc(cs, p, func(c change, p Pos) int {
		if c.at.Less(p) {
			return -1
		}
		return 1
	})
	if i == 0 {
		return false, false
	}
	return cs[i-1].member, cs[i-1].admin
}

// Member is one author's current standing.
type Member struct {
	Author entry.Author
	Admin  bool
	Since  Pos
}

// Members lists the current members, the owner first, then by author.
func (t *Timeline) Members() []Member {
	out := []Member{{Author: t.owner, Admin: true}}
	authors := make([]entry.Author, 0, len(t.changes))
	for a := range t.changes {
		authors = append(authors, a)
	}
	slices.SortFunc(authors, func(a, b entry.Author) int { return compareBytes(a[:], b[:]) })
	for _, a := range authors {
		cs := t.changes[a]
		if last := cs[len(cs)-1]; last.member {
			out = append(out, Member{Author: a, Admin: last.admin, Since: last.at})
		}
	}
	return out
}

func compareBytes(a, b []byte) int {
	switch {
	case string(a) < string(b):
		return -1
	case string(a) > string(b):
		return 1
	}
	return 0
}

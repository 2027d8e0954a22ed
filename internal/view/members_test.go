package view

import (
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
)

func at(ms int64) Pos { return Pos{HLC: hlc.New(ms, 0)} }

func ev(ms int64, signer, target entry.Author, op string, admin bool) memberEvent {
	return memberEvent{at: at(ms), signer: signer, m: group.Member{Op: op, Author: target[:], Admin: admin}}
}

func TestTimeline(t *testing.T) {
	owner, admin, bob, eve := entry.Author{1}, entry.Author{2}, entry.Author{3}, entry.Author{4}
	tl := fold(owner, []memberEvent{
		ev(10, owner, admin, group.OpAdd, true),
		ev(20, admin, bob, group.OpAdd, false),
		ev(25, eve, eve, group.OpAdd, true),       // eve is no admin: no effect
		ev(30, bob, admin, group.OpRemove, false), // bob is no admin: no effect
		ev(40, admin, bob, group.OpRemove, false),
		ev(50, owner, owner, group.OpRemove, false), // the owner cannot be removed
		ev(60, owner, admin, group.OpRemove, false),
		ev(70, admin, bob, group.OpAdd, false), // admin was removed at 60: no effect
	})
	for _, c := range []struct {
		who           entry.Author
		ms            int64
		member, admin bool
	}{
		{owner, 0, true, true}, {owner, 55, true, true},
		{admin, 10, false, false}, {admin, 11, true, true}, {admin, 61, false, false},
		{bob, 20, false, false}, {bob, 21, true, false}, {bob, 35, true, false}, {bob, 41, false, false}, {bob, 80, false, false},
		{eve, 30, false, false},
	} {
		m, a := tl.At(c.who, at(c.ms))
		if m != c.member || a != c.admin {
			t.Errorf("author %d at %d: member %v admin %v, want %v %v", c.who[0], c.ms, m, a, c.member, c.admin)
		}
	}
	if ms := tl.Members(); len(ms) != 1 || ms[0].Author != owner {
		t.Fatalf("current members %+v, want the owner alone", ms)
	}
}

func TestPosOrder(t *testing.T) {
	a, b := Pos{HLC: 5, ID: entry.ID{9}}, Pos{HLC: 6, ID: entry.ID{1}}
	c := Pos{HLC: 6, ID: entry.ID{2}}
	if !a.Less(b) || !b.Less(c) || c.Less(b) || b.Less(b) {
		t.Fatal("positions do not order as (hlc, id)")
	}
	if readPos(c.append(nil)) != c {
		t.Fatal("a position does not round-trip")
	}
}

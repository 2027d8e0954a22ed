package view

import (
	"slices"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
)

// FuzzMembers folds member events drawn from the input (four authors, the
// first the owner, adding and removing one another, as admins or not) in
// log order and checks the timeline: the owner is always a member and an
// admin; an admin is a member; an event whose signer was no admin just
// before it changes nothing (folding without it gives the same answers);
// and the current members are those a query after the last event names.
func FuzzMembers(f *testing.F) {
	f.Add([]byte{0x01, 0x12, 0x23, 0x31, 0x0a, 0x20})
	f.Add([]byte{0x05, 0x16, 0x27, 0x48, 0x52, 0x61, 0x73})
	f.Fuzz(func(t *testing.T, ops []byte) {
		authors := []entry.Author{{1}, {2}, {3}, {4}}
		owner := authors[0]
		var events []memberEvent
		for i, b := range ops {
			op := group.OpAdd
			if b&0x40 != 0 {
				op = group.OpRemove
			}
			target := authors[b>>2&3]
			events = append(events, memberEvent{
				at:     Pos{HLC: hlc.New(int64(10*(i+1)), 0), ID: entry.ID{byte(i)}},
				signer: authors[b&3],
				m:      group.Member{Op: op, Author: target[:], Admin: b&0x80 != 0},
			})
		}
		tl := fold(owner, events)
		end := Pos{HLC: hlc.New(int64(10*(len(ops)+1)), 0)}
		var effective []memberEvent
		for _, ev := range events {
			if _, admin := tl.At(ev.signer, ev.at); admin {
				effective = append(effective, ev)
			}
		}
		lean := fold(owner, effective)
		for _, a := range authors {
			for k := range len(ops) + 2 {
				p := Pos{HLC: hlc.New(int64(10*k+5), 0)}
				m, adm := tl.At(a, p)
				if a == owner && (!m || !adm) {
					t.Fatalf("the owner is not an admin at %d", k)
				}
				if adm && !m {
					t.Fatalf("author %d an admin but no member at %d", a[0], k)
				}
				if m2, adm2 := lean.At(a, p); m2 != m || adm2 != adm {
					t.Fatalf("events of non-admins changed author %d's standing at %d", a[0], k)
				}
			}
		}
		members := tl.Members()
		for _, a := range authors {
			m, adm := tl.At(a, end)
			i := slices.IndexFunc(members, func(x Member) bool { return x.Author == a })
			if m != (i >= 0) || (i >= 0 && members[i].Admin != adm) {
				t.Fatalf("author %d: member %v admin %v at the end, listed as %+v", a[0], m, adm, members)
			}
		}
	})
}

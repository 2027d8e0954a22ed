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

// FuzzHiddenAuthors folds member and hide-author events drawn from the
// input (four authors, the first the owner, in an open group: each byte
// names a signer, a target and one of add admin, remove, hide, unhide) and
// checks the hidden authors against a naive fold in log order: an event
// counts only if its signer is an admin just before it, events about the
// owner never do, and per author the last that counts decides. Every
// entry of a hidden author, at any position, is hidden; no other is.
func FuzzHiddenAuthors(f *testing.F) {
	f.Add([]byte{0x05, 0x21, 0x39, 0x26, 0x15, 0x39})
	f.Add([]byte{0x20, 0x24, 0x09, 0x2a, 0x11, 0x36, 0x2a})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			return
		}
		authors := []entry.Author{{1}, {2}, {3}, {4}}
		owner := authors[0]
		g := &group.Group{ID: entry.ID{7}, Owner: owner, Genesis: group.Genesis{Write: group.WriteOpen}}
		r := &memReader{keys: map[string][]byte{}, entries: map[entry.ID]*entry.Signed{}}
		admin := map[entry.Author]bool{owner: true}
		hidden := map[entry.Author]bool{}
		for i, b := range ops {
			signer, target := authors[b&3], authors[b>>2&3]
			kind, body := group.KindMember, any(&group.Member{Op: group.OpAdd, Author: target[:], Admin: true})
			switch b >> 4 & 3 {
			case 1:
				body = &group.Member{Op: group.OpRemove, Author: target[:]}
			case 2:
				kind, body = group.KindHideAuthor, &group.HideAuthor{Op: group.OpHide, Author: target[:]}
			case 3:
				kind, body = group.KindHideAuthor, &group.HideAuthor{Op: group.OpUnhide, Author: target[:]}
			}
			raw, err := group.Encode(kind, body)
			if err != nil {
				t.Fatal(err)
			}
			e := &entry.Signed{Entry: entry.Entry{Group: g.ID, Author: signer, Seq: uint64(i + 1), HLC: hlc.New(int64(10*(i+1)), 0), Kind: kind, Body: raw}, ID: entry.ID{byte(i)}}
			r.entries[e.ID] = e
			if err := Apply(g.ID, e, func(k, v []byte) { r.keys[string(k)] = slices.Clone(v) }); err != nil {
				t.Fatal(err)
			}
			if !admin[signer] || target == owner {
				continue
			}
			switch b >> 4 & 3 {
			case 0:
				admin[target] = true
			case 1:
				admin[target] = false
			case 2:
				hidden[target] = true
			case 3:
				hidden[target] = false
			}
		}
		v, err := Open(r, g)
		if err != nil {
			t.Fatal(err)
		}
		listed := map[entry.Author]bool{}
		for _, h := range v.HiddenAuthors() {
			listed[h.Author] = true
		}
		for _, a := range authors {
			if listed[a] != hidden[a] || v.AuthorHidden(a) != hidden[a] {
				t.Fatalf("author %d: listed %v, AuthorHidden %v, want %v", a[0], listed[a], v.AuthorHidden(a), hidden[a])
			}
			for _, p := range []Pos{{HLC: hlc.New(5, 0)}, {HLC: hlc.New(int64(10*len(ops)+5), 0)}} {
				if st := v.StatusOf(a, p); (st == Hidden) != hidden[a] {
					t.Fatalf("author %d at %v: status %q, hidden %v", a[0], p.HLC, st, hidden[a])
				}
			}
		}
	})
}

package view

import (
	"errors"
	"fmt"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// Reader is the window on stored state a view reads through.
type Reader interface {
	// Scan calls fn with every key that has the prefix, and its value, in key
	// order until fn returns false. fn must not keep key or value.
	Scan(prefix []byte, fn func(key, value []byte) bool) error
	// Entry returns an entry of the group the view is of.
	Entry(id entry.ID) (*entry.Signed, error)
}

// View answers queries about one group at one moment. Open loads the small
// state every answer needs (membership and withdrawals); the rest is read on
// demand.
type View struct {
	G         *group.Group
	r         Reader
	members   *Timeline
	withdrawn map[entry.ID][]withdrawal
	hidden    map[entry.Author]HiddenAuthor // hidden.go
}

type withdrawal struct {
	kind   byte
	author entry.Author
	at     Pos
}

// Open reads the group's membership events, withdrawals and hidden authors.
func Open(r Reader, g *group.Group) (*View, error) {
	v := &View{G: g, r: r, withdrawn: map[entry.ID][]withdrawal{}}
	var events []memberEvent
	var bad error
	err := r.Scan(prefix(tagMember, g.ID), func(k, val []byte) bool {
		ev := memberEvent{at: readPos(k[len(k)-posLen:])}
		e, err := r.Entry(ev.at.ID)
		if err == nil {
			ev.signer = e.Author
			ev.m, err = group.DecodeMember(e)
		}
		if err != nil {
			bad = fmt.Errorf("membership event %s: %w", ev.at.ID.Short(), err)
			return false
		}
		events = append(events, ev)
		return true
	})
	if err = errors.Join(err, bad); err != nil {
		return nil, err
	}
	v.members = fold(g.Owner, events)
	err = r.Scan(prefix(tagModerat, g.ID), func(k, val []byte) bool {
		target := entry.ID(k[2+32 : 2+64])
		v.withdrawn[target] = append(v.withdrawn[target], withdrawal{kind: val[0], author: entry.Author(val[1:33]), at: readPos(k[len(k)-posLen:])})
		return true
	})
	if err != nil {
		return nil, err
	}
	return v, v.loadHidden()
}

// Members is the group's membership timeline.
func (v *View) Members() *Timeline { return v.members }

// Status says whether an entry counts in the views, and why not.
type Status string

// Statuses of an entry in the views.
const (
	Visible   Status = ""
	Retracted Status = "retracted" // withdrawn by its author
	Hidden    Status = "hidden"    // hidden by an admin: the entry, or every entry of its author
	Invalid   Status = "invalid"   // its author could not write at its hlc
)

// StatusOf judges an entry by its author and position. Only Visible entries
// count in threads, sets and the directory.
func (v *View) StatusOf(author entry.Author, at Pos) Status {
	if !v.valid(author, at) {
		return Invalid
	}
	for _, w := range v.withdrawn[at.ID] {
		if !v.valid(w.author, w.at) {
			continue
		}
		if w.kind == modRetract && w.author == author {
			return Retracted
		}
		if _, admin := v.members.At(w.author, w.at); w.kind == modHide && admin {
			return Hidden
		}
	}
	if v.AuthorHidden(author) {
		return Hidden
	}
	return Visible
}

// valid applies the write policy with the membership as of the position.
func (v *View) valid(a entry.Author, at Pos) bool {
	switch v.G.Write {
	case group.WriteOpen:
		return true
	case group.WriteMembers:
		member, _ := v.members.At(a, at)
		return member
	}
	return a == v.G.Owner
}

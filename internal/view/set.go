package view

import (
	"encoding/binary"
	"slices"
	"strings"

	"hearsay/internal/entry"
)

// Element is a member of a set, with the op that put it there.
type Element struct {
	Value  string
	Author entry.Author
	At     Pos
}

// Set lists the elements of a set in string order. Per element, the latest
// visible op by (hlc, id) decides: add, remove and add again converge to a
// member whatever order the three arrive in.
func (v *View) Set(name string) ([]Element, error) {
	p := setPrefix(v.G.ID, name)
	var out []Element
	var cur string
	var last *Element // the latest visible add of cur, nil after a remove
	flush := func() {
		if last != nil {
			out = append(out, *last)
		}
		last = nil
	}
	err := v.r.Scan(p, func(k, val []byte) bool {
		rest := k[len(p):]
		n := int(binary.BigEndian.Uint16(rest))
		elem := string(rest[2 : 2+n])
		at := readPos(rest[2+n:])
		author := entry.Author(val[1:33])
		if elem != cur {
			flush()
			cur = elem
		}
		if v.StatusOf(author, at) != Visible {
			return true
		}
		if val[0] == opAdd {
			last = &Element{Value: elem, Author: author, At: at}
		} else {
			last = nil
		}
		return true
	})
	flush()
	slices.SortFunc(out, func(a, b Element) int { return strings.Compare(a.Value, b.Value) })
	return out, err
}

// SetNames lists the names of the group's sets — every set an op has named,
// empty ones included — in string order.
func (v *View) SetNames() ([]string, error) {
	p := prefix(tagSet, v.G.ID)
	var out []string
	err := v.r.Scan(p, func(k, _ []byte) bool {
		rest := k[len(p):]
		name := string(rest[2 : 2+int(binary.BigEndian.Uint16(rest))])
		if len(out) == 0 || out[len(out)-1] != name { // a set's keys are contiguous
			out = append(out, name)
		}
		return true
	})
	slices.Sort(out) // keys order names by length first
	return out, err
}

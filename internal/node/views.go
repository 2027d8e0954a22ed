package node

import (
	"errors"
	"fmt"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/store"
	"hearsay/internal/view"
)

// ErrNotYours is returned for a retraction of another author's entry.
var ErrNotYours = errors.New("not your entry")

// View opens the views of a group; in a private group they include what
// this node can unseal.
func (n *Node) View(gid entry.ID) (*view.View, error) {
	g, err := n.Store.Group(gid)
	if err != nil {
		return nil, err
	}
	r := n.Store.ViewReader(gid)
	if g.Read == group.ReadMembers {
		ks, err := n.keys(gid)
		if err != nil {
			return nil, err
		}
		r = unsealingReader{r, ks}
	}
	return view.Open(r, g)
}

// SetMember adds (or, with add false, removes) a member of a group. In a
// private group an add shares the current key with the new member, and a
// removal shares a fresh key with those who remain, so the removed member
// cannot read what is written after.
func (n *Node) SetMember(gid entry.ID, a entry.Author, add, admin bool) (entry.ID, error) {
	m := group.Member{Op: group.OpRemove, Author: a[:]}
	if add {
		m.Op, m.Admin = group.OpAdd, admin
	}
	id, err := n.writeBody(gid, group.KindMember, nil, &m)
	if err != nil {
		return id, err
	}
	g, err := n.Store.Group(gid)
	if err != nil || g.Read != group.ReadMembers {
		return id, err
	}
	if add {
		ks, err := n.keys(gid)
		if err != nil {
			return id, err
		}
		if !ks.hasCurrent {
			return id, fmt.Errorf("%w: cannot share it with the new member", ErrNoKey)
		}
		return id, n.shareKey(gid, []entry.Author{a}, &ks.current)
	}
	v, err := n.View(gid)
	if err != nil {
		return id, err
	}
	var remain []entry.Author
	for _, m := range v.Members().Members() {
		remain = append(remain, m.Author)
	}
	return id, n.shareKey(gid, remain, nil)
}

// SetOp adds or removes an element of a named set.
func (n *Node) SetOp(gid entry.ID, set, element string, add bool) (entry.ID, error) {
	op := group.SetOp{Set: set, Element: element, Op: group.OpRemove}
	if add {
		op.Op = group.OpAdd
	}
	return n.writeBody(gid, group.KindSet, nil, &op)
}

// DirPut writes a new version of a path.
func (n *Node) DirPut(gid entry.ID, path string, value []byte) (entry.ID, error) {
	return n.writeBody(gid, group.KindDir, nil, &group.DirOp{Path: path, Op: group.OpPut, Value: value})
}

// DirRm writes a tombstone for a path; its history stays.
func (n *Node) DirRm(gid entry.ID, path string) (entry.ID, error) {
	v, err := n.View(gid)
	if err != nil {
		return entry.ID{}, err
	}
	if _, _, err := v.Get(path); err != nil {
		return entry.ID{}, err
	}
	return n.writeBody(gid, group.KindDir, nil, &group.DirOp{Path: path, Op: group.OpRm})
}

// Retract withdraws one of this node's own entries.
func (n *Node) Retract(gid, target entry.ID) (entry.ID, error) {
	e, err := n.target(gid, target)
	if err != nil {
		return entry.ID{}, err
	}
	if e.Author != n.Home.Author {
		return entry.ID{}, fmt.Errorf("%w: %s was written by %s; an admin can hide it instead", ErrNotYours, target.Short(), e.Author.Short())
	}
	return n.write(gid, group.KindRetract, []entry.ID{target}, nil)
}

// Hide hides any entry of a group; only admins' hides count.
func (n *Node) Hide(gid, target entry.ID) (entry.ID, error) {
	if _, err := n.target(gid, target); err != nil {
		return entry.ID{}, err
	}
	return n.write(gid, group.KindHide, []entry.ID{target}, nil)
}

// HideAuthor hides every entry of author a in a group, or with hide false
// lifts that; only admins' count. It refuses what would change nothing: the
// owner (never hidden) and an author already in the state asked for.
func (n *Node) HideAuthor(gid entry.ID, a entry.Author, hide bool) (entry.ID, error) {
	v, err := n.View(gid)
	if err != nil {
		return entry.ID{}, err
	}
	switch {
	case a == v.G.Owner:
		return entry.ID{}, fmt.Errorf("%s owns %q: the owner's entries cannot be hidden", a.Short(), v.G.Name)
	case hide && v.AuthorHidden(a):
		return entry.ID{}, fmt.Errorf("%s is hidden in %q already", a.Short(), v.G.Name)
	case !hide && !v.AuthorHidden(a):
		return entry.ID{}, fmt.Errorf("%s is not hidden in %q", a.Short(), v.G.Name)
	}
	op := group.OpUnhide
	if hide {
		op = group.OpHide
	}
	return n.writeBody(gid, group.KindHideAuthor, nil, &group.HideAuthor{Op: op, Author: a[:]})
}

func (n *Node) target(gid, id entry.ID) (*entry.Signed, error) {
	e, err := n.Store.Get(gid, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w %s in group %s", ErrNoEntry, id, gid.Short())
	}
	return e, err
}

func (n *Node) writeBody(gid entry.ID, kind string, refs []entry.ID, body any) (entry.ID, error) {
	b, err := group.Encode(kind, body)
	if err != nil {
		return entry.ID{}, err
	}
	return n.write(gid, kind, refs, b)
}

package view

import (
	"errors"
	"fmt"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// ErrNotPost is returned for a thread root that is not a post.
var ErrNotPost = errors.New("not a post")

// Node is a post in a thread with the replies under it, in log order.
type Node struct {
	Entry    *entry.Signed
	Post     group.Post
	Status   Status
	Children []*Node
}

// Thread returns the tree of replies under root, root included. A reply that
// arrived before its parent is indexed under the parent's id, so it shows up
// here as soon as the parent does.
func (v *View) Thread(root entry.ID) (*Node, error) {
	top, err := v.node(root)
	if err != nil {
		return nil, err
	}
	queue := []*Node{top}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		var ids []entry.ID
		err := v.r.Scan(prefix(tagThread, v.G.ID, n.Entry.ID[:]), func(k, _ []byte) bool {
			ids = append(ids, readPos(k[len(k)-posLen:]).ID)
			return true
		})
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			c, err := v.node(id)
			if err != nil {
				return nil, err
			}
			n.Children = append(n.Children, c)
			queue = append(queue, c)
		}
	}
	return top, nil
}

func (v *View) node(id entry.ID) (*Node, error) {
	e, err := v.r.Entry(id)
	if err != nil {
		return nil, err
	}
	if e.Kind != group.KindPost {
		return nil, fmt.Errorf("%w: %s is a %s entry", ErrNotPost, id.Short(), e.Kind)
	}
	p, err := group.DecodePost(e)
	if err != nil {
		return nil, err
	}
	return &Node{Entry: e, Post: p, Status: v.StatusOf(e.Author, PosOf(e))}, nil
}

package node

import (
	"crypto/rand"
	"errors"
	"fmt"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/secret"
	"hearsay/internal/view"
)

// ErrNoKey means this node holds no key of a private group: it may store and
// forward the group's entries but not read or write their bodies.
var ErrNoKey = errors.New("no key for this private group")

// groupKeys are the keys of a private group this node can open, by key id,
// and the one it writes with: that of the latest key entry sharing with it.
type groupKeys struct {
	byID       map[[32]byte]secret.Key
	current    [32]byte
	hasCurrent bool
}

// keys reads the group's key entries and opens the shares addressed to this node.
func (n *Node) keys(g entry.ID) (*groupKeys, error) {
	ks := &groupKeys{byID: map[[32]byte]secret.Key{}}
	ids, err := n.positions(view.KeyEntries(g))
	if err != nil {
		return nil, err
	}
	for _, p := range ids {
		e, err := n.Store.Get(g, p.ID)
		if err != nil {
			return nil, err
		}
		shares, err := group.DecodeKeyShares(e)
		if err != nil {
			return nil, err
		}
		if k, ok := shares.Open(n.Home.Key); ok {
			id := [32]byte(shares.Key)
			ks.byID[id], ks.current, ks.hasCurrent = k, id, true
		}
	}
	return ks, nil
}

// open returns the entry a sealed entry hides, when this node holds its key;
// any other entry comes back as it is.
func (ks *groupKeys) open(e *entry.Signed) *entry.Signed {
	if e.Kind != group.KindSealed {
		return e
	}
	sb, err := group.DecodeSealed(e)
	if err != nil {
		return e
	}
	k, ok := ks.byID[[32]byte(sb.Key)]
	if !ok {
		return e
	}
	if u, err := group.Unseal(e, k); err == nil {
		return u
	}
	return e
}

// unsealingReader shows views the entries sealed entries hide.
type unsealingReader struct {
	view.Reader
	keys *groupKeys
}

func (r unsealingReader) Entry(id entry.ID) (*entry.Signed, error) {
	e, err := r.Reader.Entry(id)
	if err != nil {
		return nil, err
	}
	return r.keys.open(e), nil
}

// positions lists the positions at the end of the view keys under a prefix.
func (n *Node) positions(prefix []byte) ([]view.Pos, error) {
	var out []view.Pos
	err := n.Store.ScanView(prefix, func(k, _ []byte) bool {
		out = append(out, view.PosAt(k))
		return true
	})
	return out, err
}

// unseal indexes the views of the group's sealed entries whose keys this
// node now holds. What it has done it clears, so a later call costs a scan.
func (n *Node) unseal(g entry.ID) error {
	ks, err := n.keys(g)
	if err != nil {
		return err
	}
	for id, k := range ks.byID {
		waiting, err := n.positions(view.Awaiting(g, id[:]))
		if err != nil {
			return err
		}
		if len(waiting) == 0 {
			continue
		}
		var unsealed []*entry.Signed
		for _, p := range waiting {
			e, err := n.Store.Get(g, p.ID)
			if err != nil {
				return err
			}
			// One that does not open under the key it names never will: it
			// is cleared without a view.
			if u, err := group.Unseal(e, k); err == nil {
				unsealed = append(unsealed, u)
			}
		}
		if err := n.Store.ApplyUnsealed(g, id[:], unsealed, waiting); err != nil {
			return err
		}
	}
	return nil
}

// unsealAll runs unseal on every private group: after an import, and on open
// in case the last run was cut short.
func (n *Node) unsealAll() error {
	gs, err := n.Store.Groups()
	if err != nil {
		return err
	}
	for _, g := range gs {
		if g.Read == group.ReadMembers {
			if err := n.unseal(g.ID); err != nil {
				return fmt.Errorf("group %s: %w", g.ID.Short(), err)
			}
		}
	}
	return nil
}

// shareKey writes a key entry: a fresh key when reuse is nil, else the key
// known by *reuse, sealed to each of members.
func (n *Node) shareKey(g entry.ID, members []entry.Author, reuse *[32]byte) error {
	var id [32]byte
	var k secret.Key
	if reuse != nil {
		ks, err := n.keys(g)
		if err != nil {
			return err
		}
		id, k = *reuse, ks.byID[*reuse]
	} else {
		rand.Read(id[:])
		var err error
		if k, err = secret.NewKey(rand.Reader); err != nil {
			return err
		}
	}
	shares, err := group.NewKeyShares(id, k, members, rand.Reader)
	if err != nil {
		return err
	}
	_, err = n.writeBody(g, group.KindKey, nil, shares)
	return err
}

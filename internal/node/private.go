package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/secret"
	"hearsay/internal/store"
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

// keyCache keeps each private group's opened keys, so that a read or an
// ingest does not open them again. Entries are keyed by the group's key
// entries: a short scan of their view keys tells whether any came since,
// whatever path stored it, and opening (a store read and an X25519
// exchange per key entry) happens only then.
type keyCache struct {
	mu    sync.Mutex
	cache map[entry.ID]cachedKeys
}

type cachedKeys struct {
	from []view.Pos // the key entries ks was opened from
	ks   *groupKeys
}

func (c *keyCache) get(g entry.ID, from []view.Pos) *groupKeys {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.cache[g]; ok && slices.Equal(k.from, from) {
		return k.ks
	}
	return nil
}

func (c *keyCache) put(g entry.ID, from []view.Pos, ks *groupKeys) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil {
		c.cache = map[entry.ID]cachedKeys{}
	}
	c.cache[g] = cachedKeys{from, ks}
}

// forget drops g's keys (the group was purged).
func (c *keyCache) forget(g entry.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, g)
}

// keys returns the keys of group g this node can open, from the cache when
// no key entry came since. The result is shared: read only.
func (n *Node) keys(g entry.ID) (*groupKeys, error) {
	ids, err := n.positions(view.KeyEntries(g))
	if err != nil {
		return nil, err
	}
	if ks := n.keyCache.get(g, ids); ks != nil {
		return ks, nil
	}
	ks, err := n.openKeys(g, ids)
	if err != nil {
		return nil, err
	}
	n.keyCache.put(g, ids, ks)
	return ks, nil
}

// openKeys reads the group's key entries at ids and opens the shares
// addressed to this node.
func (n *Node) openKeys(g entry.ID, ids []view.Pos) (*groupKeys, error) {
	ks := &groupKeys{byID: map[[32]byte]secret.Key{}}
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

// unsealStored runs unseal on the private groups in which outs stored a
// sealed entry or a key entry: what an ingest may have made unsealable.
func (n *Node) unsealStored(outs []store.Outcome) error {
	done := map[entry.ID]bool{}
	for _, o := range outs {
		if !o.Stored() || o.Kind != group.KindSealed && o.Kind != group.KindKey || done[o.Group] {
			continue
		}
		done[o.Group] = true
		g, err := n.Store.Group(o.Group)
		if err != nil {
			return err
		}
		if g.Read != group.ReadMembers {
			continue
		}
		if err := n.unseal(o.Group); err != nil {
			return fmt.Errorf("group %s: %w", o.Group.Short(), err)
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

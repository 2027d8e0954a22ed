// Package node is the runtime around a replica: it owns the home, the store
// and the clock, writes the node's own entries, and moves entries in and out
// (export files now; the network in later work). Protocol rules live in the
// pure packages it drives.
package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/home"
	"hearsay/internal/store"
	"hearsay/internal/view"
)

// Errors for what a user names wrongly.
var (
	ErrAmbiguous = errors.New("ambiguous")
	ErrNoEntry   = errors.New("no such entry")
)

// Node is a replica opened on a home. It is safe for concurrent use.
type Node struct {
	Home  *home.Home
	Store *store.Store
	now   func() time.Time

	mu    sync.Mutex // serializes local writes: seq and hlc are assigned under it
	clock hlc.Clock

	idx      indexes
	keyCache keyCache // the private groups' opened keys

	refusedMu sync.Mutex
	refused   map[string]int
	stats     stats

	objects objectStore // shards and shard tables, beside the store
	threads threadCache // the forum's thread index of the groups last paged
	// profile is the display name this node signs (<home>/profile.json),
	// read on the first write and kept by SetProfile: not a file read per write.
	profile atomic.Pointer[home.Profile]

	hooks atomic.Pointer[Hooks]
	subs  subscribers

	writes writeFirst // local writes in flight, which bulk work yields to
}

// Hooks tell the runtime about changes it acts on: a write of this node's,
// to push to the group's overlay, and a group left, to quit its overlay.
type Hooks struct {
	Written func(*entry.Signed)
	Left    func(g entry.ID)
}

// SetHooks installs the runtime's hooks.
func (n *Node) SetHooks(h Hooks) { n.hooks.Store(&h) }

// Open opens the home's store, whose bulk work yields to this node's own
// writes (o.Yield is set: writeFirst). now is the wall clock; nil means
// time.Now.
func Open(h *home.Home, o store.Options, now func() time.Time) (*Node, error) {
	n := &Node{Home: h, now: now}
	o.Yield = n.writes.yield
	s, err := store.Open(h.StoreDir(), o)
	if err != nil {
		return nil, err
	}
	if n.now == nil {
		n.now = time.Now
	}
	n.Store = s
	if err := n.unsealAll(); err != nil {
		s.Close()
		return nil, err
	}
	return n, nil
}

// Close closes the store.
func (n *Node) Close() error { return n.Store.Close() }

// CreateGroup writes the genesis of a new group owned by this node.
func (n *Node) CreateGroup(g group.Genesis) (entry.ID, error) {
	g.Nonce = make([]byte, 16)
	rand.Read(g.Nonce)
	n.mu.Lock()
	s, err := group.NewGenesis(g, n.Home.Key, n.tick())
	if err == nil {
		err = n.ingestOwn(s)
	}
	n.mu.Unlock()
	if err != nil {
		return entry.ID{}, err
	}
	if g.Read != group.ReadMembers {
		return s.ID, nil
	}
	// A private group starts with a key shared with its owner.
	return s.ID, n.shareKey(s.ID, []entry.Author{n.Home.Author}, nil)
}

// Post writes a post to a group; replyTo is zero for a new thread.
func (n *Node) Post(gid entry.ID, p group.Post, replyTo entry.ID) (entry.ID, error) {
	if !replyTo.IsZero() {
		if _, err := n.target(gid, replyTo); err != nil {
			return entry.ID{}, fmt.Errorf("reply-to: %w", err)
		}
	}
	body, err := group.EncodePost(p)
	if err != nil {
		return entry.ID{}, err
	}
	var refs []entry.ID
	if !replyTo.IsZero() {
		refs = []entry.ID{replyTo}
	}
	return n.write(gid, group.KindPost, refs, body)
}

// write signs an entry of this node's and stores it durably. In a private
// group, posts, set ops and directory versions are sealed first.
func (n *Node) write(gid entry.ID, kind string, refs []entry.ID, body []byte) (entry.ID, error) {
	g, err := n.Store.Group(gid)
	if err != nil {
		return entry.ID{}, err
	}
	if kind == group.KindPost || kind == group.KindSet || kind == group.KindDir {
		n.ensureProfile(gid)
	}
	sealed := g.Read == group.ReadMembers && (kind == group.KindPost || kind == group.KindSet || kind == group.KindDir || kind == group.KindProfile)
	var ks *groupKeys
	if sealed {
		if ks, err = n.keys(gid); err != nil {
			return entry.ID{}, err
		}
		if !ks.hasCurrent {
			return entry.ID{}, n.noKey(g)
		}
	}
	n.writes.begin()
	defer n.writes.end()
	n.mu.Lock()
	defer n.mu.Unlock()
	seq, err := n.Store.NextSeq(gid, n.Home.Author)
	if err != nil {
		return entry.ID{}, err
	}
	e := entry.Entry{Group: gid, Author: n.Home.Author, Seq: seq, HLC: n.tick(), Kind: kind, Refs: refs, Body: body}
	if sealed {
		if e, err = group.Seal(e, ks.current, ks.byID[ks.current], g.Quota.MaxBody, rand.Reader); err != nil {
			return entry.ID{}, err
		}
	}
	s, err := entry.Sign(e, n.Home.Key)
	if err != nil {
		return entry.ID{}, err
	}
	if err := n.ingestOwn(s); err != nil {
		return s.ID, pausedWrite(err, g)
	}
	if g.Read == group.ReadMembers {
		return s.ID, n.unseal(gid)
	}
	return s.ID, nil
}

// tick is the hlc of a new local entry. Entries reach the store by other
// paths too (import, peers), so it orders after everything stored: a reply
// sorts after its parent. REQUIRES: n.mu held.
func (n *Node) tick() hlc.Timestamp {
	n.clock.Observe(n.Store.MaxHLC())
	return n.clock.Now(n.now().UnixMilli())
}

// ingestOwn stores an entry this node wrote; it is durable when this returns nil.
func (n *Node) ingestOwn(s *entry.Signed) error {
	// Just signed here: its signature is not verified again.
	outs := n.Store.Commit(store.PrepareOwn(s), n.now().UnixMilli())
	n.noteStored(SourceOwn, outs)
	if outs[0].Err != nil {
		return outs[0].Err
	}
	if h := n.hooks.Load(); h != nil && h.Written != nil {
		h.Written(s)
	}
	return nil
}

// ResolveGroup finds a group the store holds by full id, by a unique id
// prefix of at least 4 hex digits, or by a unique name.
func (n *Node) ResolveGroup(arg string) (*group.Group, error) {
	if id, err := entry.ParseID(arg); err == nil {
		return n.Store.Group(id)
	}
	gs, err := n.Store.Groups()
	if err != nil {
		return nil, err
	}
	var byPrefix, byName []*group.Group
	isHex := len(arg) >= 4 && len(arg) < 64
	if _, err := hex.DecodeString(arg + strings.Repeat("0", len(arg)%2)); err != nil {
		isHex = false
	}
	for _, g := range gs {
		if isHex && strings.HasPrefix(g.ID.String(), strings.ToLower(arg)) {
			byPrefix = append(byPrefix, g)
		}
		if g.Name == arg {
			byName = append(byName, g)
		}
	}
	for _, match := range [][]*group.Group{byPrefix, byName} {
		switch len(match) {
		case 0:
			continue
		case 1:
			return match[0], nil
		default:
			ids := make([]string, len(match))
			for i, g := range match {
				ids[i] = g.ID.Short()
			}
			return nil, fmt.Errorf("%w group %q: it names %s; pick one by an id prefix, such as %s", ErrAmbiguous, arg, strings.Join(ids, ", "), ids[0][:8])
		}
	}
	return nil, fmt.Errorf("%w %q", group.ErrUnknownGroup, arg)
}

// ResolveEntry finds an entry of a group by its full id or by a unique
// prefix of at least 6 hex digits (the log shows 12).
func (n *Node) ResolveEntry(gid entry.ID, arg string) (entry.ID, error) {
	if len(arg) == 64 {
		id, err := entry.ParseID(arg)
		if err == nil {
			_, err = n.target(gid, id)
		}
		return id, err
	}
	arg = strings.ToLower(arg)
	even, err := hex.DecodeString(arg[:len(arg)&^1])
	if len(arg) < 6 || len(arg) > 64 || err != nil || strings.Trim(arg, "0123456789abcdef") != "" {
		return entry.ID{}, fmt.Errorf("%w %q: want 64 hex digits, or a unique prefix of 6 or more", entry.ErrMalformedID, arg)
	}
	ids, err := n.Store.IDsWithPrefix(gid, even, 1<<10)
	if err != nil {
		return entry.ID{}, err
	}
	var match []entry.ID
	for _, id := range ids {
		if strings.HasPrefix(id.String(), arg) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return entry.ID{}, fmt.Errorf("%w %s… in group %s", ErrNoEntry, arg, gid.Short())
	case 1:
		return match[0], nil
	}
	return entry.ID{}, fmt.Errorf("%w: %q names %d entries; give more of the id", ErrAmbiguous, arg, len(match))
}

// noKey explains why this node cannot write to a private group: it is not a
// member, or it is but has not received the key entry an admin wrote.
func (n *Node) noKey(g *group.Group) error {
	v, err := n.View(g.ID)
	if err != nil {
		return err
	}
	if member, _ := v.Members().At(n.Home.Author, view.Pos{HLC: hlc.Timestamp(math.MaxUint64)}); !member {
		return fmt.Errorf("%w: %s is not a member of %q (write policy %s): an admin must add it",
			group.ErrNotAllowed, n.Home.Author.Short(), g.Name, g.Write)
	}
	return fmt.Errorf("%w %q yet: import the key entry an admin wrote when adding you", ErrNoKey, g.Name)
}

// Replicated lists the groups this node replicates: those it holds and has
// neither left nor paused.
func (n *Node) Replicated() ([]*group.Group, error) { return n.groupsWhere(n.replicates) }

// groupsWhere lists the groups the store holds that keep says to.
func (n *Node) groupsWhere(keep func(entry.ID) (bool, error)) ([]*group.Group, error) {
	gs, err := n.Store.Groups()
	if err != nil {
		return nil, err
	}
	out := gs[:0]
	for _, g := range gs {
		ok, err := keep(g.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, g)
		}
	}
	return out, nil
}

// Leave stops replicating a group; with purge, its entries are deleted too.
func (n *Node) Leave(g entry.ID, purge bool) error {
	var err error
	if purge {
		n.idx.mu.Lock()
		delete(n.idx.trees, g)
		n.idx.mu.Unlock()
		err = n.Store.Purge(g)
		n.keyCache.forget(g)
	} else {
		err = n.Store.SetLeft(g, true)
	}
	if h := n.hooks.Load(); err == nil && h != nil && h.Left != nil {
		h.Left(g)
	}
	return err
}

package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/store"
)

// PauseInfo is a group paused on this node for going beyond its caps
// (docs/security.md, "Groups that misbehave"), as `group show` prints it.
type PauseInfo struct {
	Since string `json:"since"` // RFC 3339
	Over  string `json:"over"`  // the cap reached: "entries" or "bytes"
}

// CapsInfo is the operator's caps on a group; zero is no limit.
type CapsInfo struct {
	EntriesPerDay uint32 `json:"entries_per_day"`
	BytesPerDay   uint64 `json:"bytes_per_day"`
}

// Caps returns the caps set on group g; zero when none are.
func (n *Node) Caps(g entry.ID) (CapsInfo, error) {
	c, err := n.Store.Caps(g)
	return CapsInfo{EntriesPerDay: c.EntriesPerDay, BytesPerDay: c.BytesPerDay}, err
}

// SetCaps sets the most group g may add to this node in a day, by any
// author; zero caps remove them, and any pause with them. A group that
// reaches a cap is paused here: neither replicated nor forwarded, and
// nothing more of it stored, until Resume.
func (n *Node) SetCaps(g entry.ID, c CapsInfo) error {
	return n.Store.SetCaps(g, store.Caps{EntriesPerDay: c.EntriesPerDay, BytesPerDay: c.BytesPerDay})
}

// Resume lifts a group's pause: it is replicated again, and the rest of the
// day it was paused on may go beyond its caps. It reports whether the group
// was paused.
func (n *Node) Resume(g entry.ID) (bool, error) { return n.Store.Resume(g) }

// paused reports whether group g is paused on this node.
func (n *Node) paused(g entry.ID) (bool, error) {
	p, err := n.Store.Paused(g)
	return p.Active(), err
}

// replicates reports whether this node replicates group g: it holds it,
// and has neither left nor paused it.
func (n *Node) replicates(g entry.ID) (bool, error) {
	left, err := n.Store.Left(g)
	if err != nil || left {
		return false, err
	}
	paused, err := n.paused(g)
	return !paused, err
}

// capsInfo fills a group's caps and pause into its info.
func (n *Node) capsInfo(info *GroupInfo, g entry.ID) error {
	var err error
	if info.Caps, err = n.Caps(g); err != nil {
		return err
	}
	p, err := n.Store.Paused(g)
	if err != nil {
		return err
	}
	if p.Active() {
		info.Paused = &PauseInfo{Since: time.UnixMilli(p.AtMs).UTC().Format(time.RFC3339), Over: p.Over}
	}
	return nil
}

// notePaused quits the overlay of every group a commit found paused, so
// that nothing more of it is pushed here or forwarded from here.
func (n *Node) notePaused(outs []store.Outcome) {
	h := n.hooks.Load()
	if h == nil || h.Left == nil {
		return
	}
	var seen entry.ID
	for _, o := range outs {
		if errors.Is(o.Err, store.ErrPaused) && o.Group != seen {
			seen = o.Group
			h.Left(o.Group)
		}
	}
}

// pausedWrite explains a write refused because its group is paused here.
func pausedWrite(err error, g *group.Group) error {
	if errors.Is(err, store.ErrPaused) {
		return fmt.Errorf("%w: `hearsay group resume %s` lifts the pause, `hearsay group caps` changes the caps", err, g.Name)
	}
	return err
}

// PausedGroups lists the groups paused on this node.
func (n *Node) PausedGroups() ([]*group.Group, error) { return n.groupsWhere(n.paused) }

// Resume lifts a group's pause and syncs it at once with a peer the
// group's core picks, which also takes the node back into its overlay,
// rather than at the next anti-entropy round. It reports whether the group
// was paused; a sync that fails is left to the rounds.
func (nw *Network) Resume(ctx context.Context, g entry.ID) (bool, error) {
	ok, err := nw.n.Resume(g)
	if err != nil || !ok {
		return ok, err
	}
	if p, picked := nw.gossip.Reconcile(g, nw.syncCandidates(), nil); picked {
		nw.SyncPeer(ctx, p, g)
	}
	return true, nil
}

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"hearsay/internal/blob"
	"hearsay/internal/proto/storage"
	"hearsay/internal/shards"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Placement says where a file's shards are after Place.
type Placement struct {
	Sent    int      // shards sent to peers by this call
	Holders []string // distinct peers that hold a shard of the file
	Errors  []string // refusals and failures, one line each (at most a few)
}

// placeParallel bounds the shards sent at once.
const placeParallel = 8

// Place puts the shards of f (its table loaded) on distinct peers chosen
// by rendezvous hashing among the candidates for the file's key (its table
// id), so shard j of every stripe goes to the same peer, as Tahoe-LAFS
// places one share per server per file: a file lives on k+m peers, and
// losing a peer costs every stripe one shard, never more. Shards already
// placed stay. Shards this node holds
// for itself but that rendezvous gives to others are dropped here once
// placed. Every holder of a shard gets the shard table too.
// A stripe whose shards cannot all be placed is left to the repair loop.
func (nw *Network) Place(ctx context.Context, f *File, src Source) (Placement, error) {
	p := f.Params()
	var res Placement
	nw.reachMembers(ctx, f.Group, p.N())
	cands := nw.candidates(f.Group, p.N())
	where, err := nw.locate(ctx, f.Group, f.Table)
	if err != nil {
		return res, err
	}
	self := nw.Host.ID().String()
	type send struct {
		id blob.ID
		to string
	}
	var sends []send
	var keep []blob.ID // shards whose place is this node
	var drop []blob.ID // shards this node holds for itself but places elsewhere
	dests := map[string]bool{}
	for i := range f.M.Stripes() {
		holders := make([][]string, p.N())
		for j := range p.N() {
			holders[j] = where[f.Table.Shard(p, i, j)]
		}
		to, must := storage.Place(f.M.Table, p.N(), cands, holders)
		for j := range p.N() {
			id := f.Table.Shard(p, i, j)
			dests[to[j]] = true
			switch {
			case to[j] == self:
				keep = append(keep, id)
			case must[j]:
				sends = append(sends, send{id, to[j]})
				fallthrough
			default:
				drop = append(drop, id)
			}
		}
	}
	for c := range dests { // every holder keeps the table: it checks the file's health
		if c != self && !slices.Contains(where[f.M.TableID()], c) {
			sends = append(sends, send{f.M.TableID(), c})
		}
	}
	rb := &rebuilder{f: f, src: src}
	var mu sync.Mutex
	failed := map[blob.ID]bool{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, placeParallel)
	exp := nw.n.now().Add(Lease).Unix()
	for _, sd := range sends {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := nw.sendObject(ctx, f, rb, sd.id, sd.to, exp)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed[sd.id] = true
				if len(res.Errors) < 5 {
					res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", shortPeer(sd.to), err))
				}
				return
			}
			res.Sent++
		}()
	}
	wg.Wait()
	objects := nw.blobs.objects
	for _, id := range drop {
		if m, err := objects.Meta(id); err == nil && m.Owner == self && !failed[id] {
			objects.Delete(id)
		}
	}
	for _, id := range keep { // a repair may give this node a shard it lacks
		if !objects.Has(id) {
			if data, err := rb.shard(ctx, id); err == nil {
				objects.Put(shards.Meta{ID: id, Group: f.Group, Writer: f.Version.Author, Owner: self, Expires: exp}, data)
			}
		}
	}
	after, err := nw.locate(ctx, f.Group, f.Table)
	if err != nil {
		return res, err
	}
	distinct := map[string]bool{}
	for _, hs := range after {
		for _, h := range hs {
			distinct[h] = true
		}
	}
	for h := range distinct {
		res.Holders = append(res.Holders, h)
	}
	return res, nil
}

func shortPeer(p string) string {
	if len(p) > 8 {
		return "…" + p[len(p)-8:]
	}
	return p
}

// sendObject sends one object to a peer, reading it from this node's store
// or, for a shard this node does not hold, rebuilding it.
func (nw *Network) sendObject(ctx context.Context, f *File, rb *rebuilder, id blob.ID, to string, expires int64) error {
	pid, err := peer.Decode(to)
	if err != nil {
		return err
	}
	data, err := nw.blobs.objects.Read(id, 0, -1)
	if errors.Is(err, shards.ErrNotFound) {
		data, err = rb.shard(ctx, id)
	}
	if err != nil {
		return err
	}
	meta := shards.Meta{ID: id, Group: f.Group, Writer: f.Version.Author, Expires: expires}
	if err := nw.blobs.storeOn(ctx, pid, meta, data); err != nil {
		return err
	}
	nw.blobs.mu.Lock()
	nw.blobs.ledger.Placed(to, int64(len(data)))
	nw.blobs.save()
	nw.blobs.mu.Unlock()
	nw.blobs.placed.add(to, id, len(data))
	nw.blobs.stats.placed.Add(1)
	return nil
}

// rebuilder computes the shards of a file this node does not hold from k
// others of their stripe: what a repairer sends to new holders. It keeps
// the last stripe it rebuilt, since a repair sends a stripe's missing
// shards one after the other, so a stripe's k shards are fetched once.
type rebuilder struct {
	f   *File
	src Source

	mu     sync.Mutex
	where  map[blob.ID][2]int // shard id → stripe, index; built on first use
	stripe int                // the stripe in shards; -1: none
	shards [][]byte
}

func (rb *rebuilder) shard(ctx context.Context, id blob.ID) ([]byte, error) {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	p := rb.f.Params()
	if rb.where == nil {
		rb.where, rb.stripe = map[blob.ID][2]int{}, -1
		for i := range rb.f.M.Stripes() {
			for j := range p.N() {
				rb.where[rb.f.Table.Shard(p, i, j)] = [2]int{i, j}
			}
		}
	}
	at, ok := rb.where[id]
	if !ok {
		return nil, fmt.Errorf("%s is not a shard of %q", id.Short(), rb.f.Path)
	}
	if rb.stripe != at[0] {
		shs, err := rb.src.Stripe(ctx, rb.f, at[0])
		if err != nil {
			return nil, err
		}
		c, err := blob.NewCoder(p, int64(rb.f.M.Size), rb.f.M.Key)
		if err != nil {
			return nil, err
		}
		if err := c.Rebuild(at[0], shs); err != nil {
			return nil, err
		}
		rb.stripe, rb.shards = at[0], shs
	}
	if blob.IDOf(rb.shards[at[1]]) != id {
		return nil, fmt.Errorf("%w: rebuilt shard %s", blob.ErrCorrupt, id.Short())
	}
	return rb.shards[at[1]], nil
}

// PutFile is FilePut and then Place, on a serving node: k and m, unless
// given, follow the number of peers there are to hold shards.
func (nw *Network) PutFile(ctx context.Context, gid [32]byte, path string, r io.Reader, size int64, o PutOptions) (*File, Placement, error) {
	if o.Peers == 0 {
		o.Peers = len(nw.candidates(gid, 1<<30))
	}
	f, _, err := nw.n.FilePut(gid, path, r, size, o)
	if err != nil {
		return nil, Placement{}, err
	}
	pl, err := nw.Place(ctx, f, nw.Source(gid))
	return f, pl, err
}

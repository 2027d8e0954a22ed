package node

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"hearsay/internal/blob"
	"hearsay/internal/proto/storage"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/peer"
)

// placedObject is one object this node placed on a peer: what it audits.
type placedObject struct {
	peer string
	id   blob.ID
	size int
}

// placements records what this node placed where, in an append-only file
// (<home>/shards/placed.log, one "<peer> <id> <size>" line each). A record
// lost in a crash only means one object fewer audited.
type placements struct {
	mu   sync.Mutex
	path string
	list []placedObject // bounded by maxPlacements: the oldest are forgotten first
	seen map[placedObject]bool
}

// maxPlacements bounds the records kept (about 100 bytes each).
const maxPlacements = 1 << 20

// maxCared bounds the files one repair round checks (and audits draw from).
const maxCared = 4096

func openPlacements(dir string) *placements {
	pl := &placements{path: filepath.Join(dir, "placed.log"), seen: map[placedObject]bool{}}
	f, err := os.Open(pl.path)
	if err != nil {
		return pl
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		id, err := blob.ParseID(fields[1])
		size, err2 := strconv.Atoi(fields[2])
		if err == nil && err2 == nil {
			pl.remember(placedObject{fields[0], id, size})
		}
	}
	return pl
}

func (pl *placements) remember(o placedObject) {
	if pl.seen[o] {
		return
	}
	if len(pl.list) >= maxPlacements {
		delete(pl.seen, pl.list[0])
		pl.list = pl.list[1:]
	}
	pl.list = append(pl.list, o)
	pl.seen[o] = true
}

func (pl *placements) add(p string, id blob.ID, size int) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	o := placedObject{p, id, size}
	if pl.seen[o] {
		return
	}
	pl.remember(o)
	if f, err := os.OpenFile(pl.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
		fmt.Fprintf(f, "%s %s %d\n", p, id, size)
		f.Close()
	}
}

func (pl *placements) forget(o placedObject) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if !pl.seen[o] {
		return
	}
	delete(pl.seen, o)
	for i, x := range pl.list {
		if x == o {
			pl.list = append(pl.list[:i], pl.list[i+1:]...)
			break
		}
	}
}

// pickOf returns a random record of what this node placed on p.
func (pl *placements) pickOf(p string, rng *rand.Rand) (placedObject, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var of []placedObject
	for _, o := range pl.list {
		if o.peer == p {
			of = append(of, o)
		}
	}
	if len(of) == 0 {
		return placedObject{}, false
	}
	return of[rng.IntN(len(of))], true
}

// pick returns a random record, or false if there is none.
func (pl *placements) pick(rng *rand.Rand) (placedObject, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if len(pl.list) == 0 {
		return placedObject{}, false
	}
	return pl.list[rng.IntN(len(pl.list))], true
}

// Audit challenges peer p to prove it holds a random block of object id
// (size bytes): a fresh nonce, a random block, the answer checked against
// the id. It reports whether p passed; the ledger books the outcome.
func (nw *Network) Audit(ctx context.Context, p peer.ID, id blob.ID, size int, rng *rand.Rand) (bool, error) {
	var nonce [32]byte
	crand.Read(nonce[:])
	block := rng.IntN(max(1, blob.Blocks(size)))
	passed, err := nw.blobs.audit(ctx, p, id, size, block, nonce)
	if err != nil && !passed && !isRefusal(err) && !isMalformed(err) {
		return false, err // the network failed, not the peer: no verdict
	}
	b := nw.blobs
	b.mu.Lock()
	b.ledger.Audited(p.String(), passed, int64(size))
	b.save()
	b.mu.Unlock()
	if !passed {
		nw.charge(p, FaultAudit)
	}
	return passed, err
}

func isRefusal(err error) bool { return err != nil && errors.Is(err, ErrRefused) }
func isMalformed(err error) bool {
	return err != nil && (errors.Is(err, wire.ErrMalformed) || errors.Is(err, blob.ErrCorrupt))
}

func (b *blobs) audit(ctx context.Context, p peer.ID, id blob.ID, size, block int, nonce [32]byte) (bool, error) {
	s, r, err := b.request(ctx, p, wire.BlobAudit{ID: id, Nonce: nonce, Block: uint64(block)})
	if err != nil {
		return false, err
	}
	defer s.Close()
	m, err := answer(r)
	if err != nil {
		return false, err
	}
	proof, ok := m.(wire.BlobProof)
	if !ok {
		return false, fmt.Errorf("%w: %T answers an audit", wire.ErrMalformed, m)
	}
	hs := make([]blob.ID, len(proof.Hashes))
	for i, h := range proof.Hashes {
		hs[i] = h
	}
	switch {
	case proof.Nonce != nonce:
		return false, fmt.Errorf("%w: the proof answers another audit", blob.ErrCorrupt)
	case int(proof.Size) != size:
		return false, fmt.Errorf("%w: the proof is of %d bytes, want %d", blob.ErrCorrupt, proof.Size, size)
	}
	if err := blob.CheckHashes(id, size, hs); err != nil {
		return false, err
	}
	if err := blob.CheckBlock(hs, size, block, proof.Block); err != nil {
		return false, err
	}
	return true, nil
}

// startCare runs the care of files (run) until ctx ends or close is called.
func (b *blobs) startCare(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	b.mu.Lock()
	b.stopCare = cancel
	b.mu.Unlock()
	b.care.Add(1)
	go func() {
		defer b.care.Done()
		b.run(ctx)
	}()
}

// close stops the care of files and waits for it: a repair round reads the
// node's store, which closes after the network.
func (b *blobs) close() {
	b.mu.Lock()
	stop := b.stopCare
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
	b.care.Wait()
}

// run is the care of files, until ctx ends: audits at random times (a
// mean of AuditEvery seconds apart, exponentially distributed so a holder
// cannot tell when the next comes), and a repair round every RepairEvery.
func (b *blobs) run(ctx context.Context) {
	var seed [16]byte
	crand.Read(seed[:])
	rng := rand.New(rand.NewPCG(binaryUint64(seed[:8]), binaryUint64(seed[8:])))
	b.mu.Lock()
	audit, repair := b.limits.AuditEvery, b.limits.RepairEvery
	b.mu.Unlock()
	if audit <= 0 {
		audit = storage.DefaultConfig().AuditEvery
	}
	if repair <= 0 {
		repair = storage.DefaultConfig().RepairEvery
	}
	auditT := time.NewTimer(expDuration(rng, audit))
	repairT := time.NewTimer(time.Duration(repair) * time.Second)
	defer auditT.Stop()
	defer repairT.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-auditT.C:
			b.auditOne(ctx, rng)
			auditT.Reset(expDuration(rng, audit))
		case <-repairT.C:
			b.nw.RepairAll(ctx)
			repairT.Reset(time.Duration(repair) * time.Second)
		}
	}
}

func binaryUint64(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

func expDuration(rng *rand.Rand, meanSeconds int64) time.Duration {
	return time.Duration(rng.ExpFloat64() * float64(meanSeconds) * float64(time.Second))
}

// auditOne audits one random object: one this node placed on the peer
// that last failed an audit, while there is one (a suspect is audited
// until it passes or holds nothing more of ours); else half the time one
// this node placed (its own data), else a random shard of a file it holds
// shards of, at a random holder, so that holders check each other and a
// peer that claims what it no longer holds is caught by all of them. A peer that fails
// loses the credit of what it claimed, and is bad after FailLimit strikes.
func (b *blobs) auditOne(ctx context.Context, rng *rand.Rand) {
	actx, cancel := context.WithTimeout(ctx, blobRequestTimeout)
	defer cancel()
	b.mu.Lock()
	suspect := b.suspect
	b.mu.Unlock()
	o, ok := b.placed.pickOf(suspect, rng)
	if !ok {
		o, ok = b.placed.pick(rng)
		if !ok || rng.IntN(2) == 0 {
			if other, found := b.pickHeld(actx, rng); found {
				o, ok = other, true
			}
		}
	}
	if !ok {
		b.mu.Lock()
		b.suspect = ""
		b.mu.Unlock()
		return
	}
	p, err := peer.Decode(o.peer)
	if err != nil {
		b.placed.forget(o)
		return
	}
	passed, err := b.nw.Audit(actx, p, o.id, o.size, rng)
	failed := !passed && err != nil && (isRefusal(err) || isMalformed(err))
	if failed {
		b.placed.forget(o) // it is gone from there: repair replaces it
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case failed: // what else it holds of ours is audited next, until it passes
		b.suspect = o.peer
	case passed && b.suspect == o.peer:
		b.suspect = ""
	}
}

// pickHeld picks a random shard of a random file this node cares for, and
// a random other peer that claims to hold it.
func (b *blobs) pickHeld(ctx context.Context, rng *rand.Rand) (placedObject, bool) {
	b.mu.Lock()
	files := b.cared
	b.mu.Unlock()
	if len(files) == 0 {
		return placedObject{}, false
	}
	f := files[rng.IntN(len(files))]
	p := f.Params()
	if f.Table == nil || f.M.Stripes() == 0 {
		return placedObject{}, false
	}
	i := rng.IntN(f.M.Stripes())
	id := f.Table.Shard(p, i, rng.IntN(p.N()))
	where, err := b.nw.locate(ctx, f.Group, []blob.ID{id})
	self := b.nw.Host.ID().String()
	others := slices.DeleteFunc(where[id], func(h string) bool { return h == self })
	if err != nil || len(others) == 0 {
		return placedObject{}, false
	}
	return placedObject{others[rng.IntN(len(others))], id, p.ShardLen(int64(f.M.Size), i)}, true
}

// RepairAll checks every file of every replicated group whose shard table
// this node holds (its holders do), and repairs those it is the repairer of.
func (nw *Network) RepairAll(ctx context.Context) {
	groups, err := nw.n.Replicated()
	if err != nil {
		return
	}
	var cared []*File
	defer func() {
		nw.blobs.mu.Lock()
		nw.blobs.cared = cared
		nw.blobs.mu.Unlock()
	}()
	nw.blobs.collect(nw.n.now())
	for _, g := range groups {
		files, err := nw.n.Files(g.ID, "")
		if err != nil {
			continue
		}
		for _, f := range files {
			if ctx.Err() != nil {
				return
			}
			if nw.blobs.objects.Has(f.M.TableID()) && len(cared) < maxCared {
				nw.Repair(ctx, f)
				cared = append(cared, f)
			}
			if f.Version.Author == nw.n.Home.Author {
				nw.renewIfDue(ctx, f)
			}
		}
	}
}

// Repair restores f's redundancy if more than the repair slack of a stripe
// is missing (or the file has fewer distinct holders than k+m, as after a
// put offline) and this node is its repairer: the first, in rendezvous
// order for the file, of the live peers holding its shards. It reports
// whether it repaired.
func (nw *Network) Repair(ctx context.Context, f *File) (bool, error) {
	src := nw.Source(f.Group)
	if err := nw.n.LoadTable(ctx, f, src); err != nil {
		return false, err
	}
	st, err := Health(ctx, f, src)
	if err != nil || st.Healthy || !st.Readable {
		return false, err
	}
	nw.blobs.mu.Lock()
	slack := nw.blobs.limits.RepairSlack
	nw.blobs.mu.Unlock()
	if !storage.NeedsRepair(st.MinLive, st.K, st.M, slack) && len(st.Holders) >= st.K+st.M {
		return false, nil // short, within the slack: an offline holder may come back
	}
	if storage.Repairer(f.M.TableID(), st.Holders) != nw.Host.ID().String() {
		return false, nil
	}
	if _, err = nw.Place(ctx, f, src); err != nil {
		return false, err
	}
	nw.blobs.stats.repaired.Add(1)
	return true, nil
}

// renewEvery is how often a writer's node renews the leases of its files:
// a quarter of a lease, so a node that is offline for three weeks still
// finds its files held.
const renewEvery = Lease / 4

// renewIfDue extends the leases of f's objects on every peer that holds
// them, if this node has not done so within renewEvery.
func (nw *Network) renewIfDue(ctx context.Context, f *File) {
	b := nw.blobs
	now := nw.n.now()
	b.mu.Lock()
	last, done := b.renewed[f.M.TableID()]
	if done && now.Sub(last) < renewEvery {
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	src := nw.Source(f.Group)
	if err := nw.n.LoadTable(ctx, f, src); err != nil {
		return
	}
	ids := append(slices.Clone([]blob.ID(f.Table)), f.M.TableID())
	where, err := nw.locate(ctx, f.Group, ids)
	if err != nil {
		return
	}
	byPeer := map[string][]blob.ID{}
	for id, hs := range where {
		for _, h := range hs {
			byPeer[h] = append(byPeer[h], id)
		}
	}
	expires := uint64(now.Add(Lease).Unix())
	self := nw.Host.ID().String()
	for h, ids := range byPeer {
		if h == self {
			for _, id := range ids {
				b.objects.Renew(id, int64(expires))
			}
			continue
		}
		p, err := peer.Decode(h)
		if err != nil {
			continue
		}
		for start := 0; start < len(ids); start += wire.MaxHave {
			batch := ids[start:min(start+wire.MaxHave, len(ids))]
			req := wire.BlobRenew{Expires: expires, IDs: make([][32]byte, len(batch))}
			for i, id := range batch {
				req.IDs[i] = id
			}
			if s, r, err := b.request(ctx, p, req); err == nil {
				answer(r)
				s.Close()
			}
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.renewed) >= maxCared {
		clear(b.renewed) // they are renewed again, a little early
	}
	b.renewed[f.M.TableID()] = now
}

// collect drops the objects held for others whose lease has ended: nobody
// renewed them, so their writer let them go (or is gone). Deletion is
// never guaranteed: another holder may keep its copy as long as it likes.
func (b *blobs) collect(now time.Time) {
	self := b.nw.Host.ID().String()
	for _, m := range b.objects.Expired(now.Unix(), self) {
		if b.objects.Delete(m.ID) != nil {
			continue
		}
		b.mu.Lock()
		b.ledger.Dropped(m.Owner, fmt.Sprintf("%x", m.Writer), int64(m.Size))
		b.mu.Unlock()
	}
}

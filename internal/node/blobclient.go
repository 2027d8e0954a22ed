package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"hearsay/internal/blob"
	"hearsay/internal/proto/storage"
	"hearsay/internal/shards"
	"hearsay/internal/transport"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// ErrRefused is a peer's refusal of a blob request; errors.Is also matches
// the storage error it stands for (storage.ErrNoCredit, …).
var ErrRefused = errors.New("refused")

// errHeld answers a store of an object the peer holds already.
var errHeld = errors.New("held already")

// blobRequestTimeout bounds one request to one peer: a shard or a table
// chunk, or an audit.
const blobRequestTimeout = 30 * time.Second

func (b *blobs) request(ctx context.Context, p peer.ID, m wire.BlobMessage) (network.Stream, *bufio.Reader, error) {
	s, err := transport.Open(ctx, b.nw.Host, p, wire.BlobProtocol)
	if err != nil {
		return nil, nil, err
	}
	s.SetDeadline(time.Now().Add(blobRequestTimeout))
	if err := wire.WriteFrame(s, wire.EncodeBlob(m)); err != nil {
		s.Reset()
		return nil, nil, err
	}
	return s, bufio.NewReader(s), nil
}

// answer reads one answer; a BlobErr becomes an error.
func answer(r *bufio.Reader) (wire.BlobMessage, error) {
	frame, err := wire.ReadFrame(r)
	if err != nil {
		return nil, err
	}
	m, err := wire.DecodeBlob(frame)
	if err != nil {
		return nil, err
	}
	if e, ok := m.(wire.BlobErr); ok {
		base := map[wire.Code]error{wire.CodeNoCredit: storage.ErrNoCredit, wire.CodeOverCap: storage.ErrOverCap,
			wire.CodeFull: storage.ErrFull, wire.CodeNotFound: shards.ErrNotFound, wire.CodeHeld: errHeld}[e.Code]
		if base == nil {
			base = ErrRefused
		}
		return nil, fmt.Errorf("%w: %w: %q", ErrRefused, base, e.Text)
	}
	return m, nil
}

// storeOn asks p to hold an object.
func (b *blobs) storeOn(ctx context.Context, p peer.ID, meta shards.Meta, data []byte) error {
	hs := make([][32]byte, 0, blob.Blocks(len(data)))
	for _, h := range blob.BlockHashes(data) {
		hs = append(hs, h)
	}
	s, r, err := b.request(ctx, p, wire.BlobStore{Group: meta.Group, Writer: meta.Writer, ID: meta.ID,
		Size: uint64(len(data)), Expires: uint64(meta.Expires), Hashes: hs})
	if err != nil {
		return err
	}
	defer s.Close()
	if m, err := answer(r); errors.Is(err, errHeld) {
		return nil
	} else if err != nil {
		return err
	} else if _, ok := m.(wire.BlobAck); !ok {
		return fmt.Errorf("%w: %T answers a store", wire.ErrMalformed, m)
	}
	for off := 0; off < len(data); off += wire.BlobChunk {
		if err := wire.WriteFrame(s, wire.EncodeBlob(wire.BlobData{Data: data[off:min(off+wire.BlobChunk, len(data))]})); err != nil {
			return err
		}
	}
	m, err := answer(r)
	if err != nil {
		return err
	}
	if _, ok := m.(wire.BlobAck); !ok {
		return fmt.Errorf("%w: %T answers a store", wire.ErrMalformed, m)
	}
	return nil
}

// fetchFrom reads a whole object of size bytes from p, checking each block
// as it arrives.
func (b *blobs) fetchFrom(ctx context.Context, p peer.ID, id blob.ID, size int) (data []byte, err error) {
	defer func() {
		if errors.Is(err, blob.ErrCorrupt) { // bytes that do not match the id the peer was asked for
			b.nw.charge(p, FaultMalformed)
		} else if f := Classify(err); f.Misbehaviour() {
			b.nw.charge(p, f)
		}
	}()
	s, r, err := b.request(ctx, p, wire.BlobFetch{ID: id})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	m, err := answer(r)
	if err != nil {
		return nil, err
	}
	o, ok := m.(wire.BlobObject)
	if !ok {
		return nil, fmt.Errorf("%w: %T answers a fetch", wire.ErrMalformed, m)
	}
	hs := make([]blob.ID, len(o.Hashes))
	for i, h := range o.Hashes {
		hs[i] = h
	}
	if int(o.Size) != size {
		return nil, fmt.Errorf("%w: object %s of %d bytes, want %d", blob.ErrCorrupt, id.Short(), o.Size, size)
	}
	if err := blob.CheckHashes(id, size, hs); err != nil {
		return nil, err
	}
	data = make([]byte, 0, size)
	for len(data) < size {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, err := answer(r)
		if err != nil {
			return nil, err
		}
		d, ok := m.(wire.BlobData)
		if !ok || len(data)+len(d.Data) > size || (len(data)+len(d.Data) < size && len(d.Data)%blob.BlockSize != 0) {
			return nil, fmt.Errorf("%w: object bytes out of shape", wire.ErrMalformed)
		}
		b.mu.Lock()
		down := b.download
		b.mu.Unlock()
		if err := down.WaitN(ctx, len(d.Data)); err != nil {
			return nil, err
		}
		for off := 0; off < len(d.Data); off += blob.BlockSize {
			i := (len(data) + off) / blob.BlockSize
			if err := blob.CheckBlock(hs, size, i, d.Data[off:min(off+blob.BlockSize, len(d.Data))]); err != nil {
				return nil, err
			}
		}
		data = append(data, d.Data...)
	}
	return data, nil
}

// haveOn asks p which of ids it holds.
func (b *blobs) haveOn(ctx context.Context, p peer.ID, ids []blob.ID) ([]bool, error) {
	out := make([]bool, 0, len(ids))
	for start := 0; start < len(ids); start += wire.MaxHave {
		batch := ids[start:min(start+wire.MaxHave, len(ids))]
		req := wire.BlobHave{IDs: make([][32]byte, len(batch))}
		for i, id := range batch {
			req.IDs[i] = id
		}
		s, r, err := b.request(ctx, p, req)
		if err != nil {
			return nil, err
		}
		m, err := answer(r)
		s.Close()
		if err != nil {
			return nil, err
		}
		h, ok := m.(wire.BlobHolding)
		if !ok || len(h.Bits) != (len(batch)+7)/8 {
			return nil, fmt.Errorf("%w: %T answers a have", wire.ErrMalformed, m)
		}
		for i := range batch {
			out = append(out, h.Bits[i/8]&(1<<(i%8)) != 0)
		}
	}
	return out, nil
}

// candidates are the peers that may hold a group's shards, this node
// first: the connected peers that replicate the group (members first, as
// DESIGN §3 asks: those synced with and those the DHT named), then, while
// they are fewer than want, any other connected peer, which offers
// storage by speaking the protocol. Peers that failed their audits here
// are never candidates.
func (nw *Network) candidates(g [32]byte, want int) []string {
	self := nw.Host.ID()
	connected := func(p peer.ID) bool { return nw.Host.Network().Connectedness(p) == network.Connected }
	set := map[peer.ID]bool{}
	nw.mu.Lock()
	for p := range nw.synced[g] {
		set[p] = true
	}
	nw.mu.Unlock()
	b := nw.blobs
	b.mu.Lock()
	for p := range b.members[g] {
		set[p] = true
	}
	bad := func(p peer.ID) bool { return b.ledger.Bad(p.String()) }
	var out, more []string
	for p := range set {
		if connected(p) && !bad(p) && p != self {
			out = append(out, p.String())
		}
	}
	if len(out)+1 < want {
		for _, p := range nw.Host.Network().Peers() {
			if !set[p] && !bad(p) {
				more = append(more, p.String())
			}
		}
	}
	b.mu.Unlock()
	slices.Sort(out)
	slices.Sort(more)
	return append(append([]string{self.String()}, out...), more...)
}

// maxMembers bounds the members of one group the DHT may name to this node.
const maxMembers = 64

// reachMembers connects to members of g that the DHT names when fewer than
// want are connected: a node that holds nothing of a file must reach the
// peers that hold its shards.
func (nw *Network) reachMembers(ctx context.Context, g [32]byte, want int) {
	if len(nw.candidates(g, 0)) >= want {
		return
	}
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	infos, err := nw.FindMembers(fctx, g)
	if err != nil {
		return
	}
	var wg sync.WaitGroup
	for _, info := range infos[:min(len(infos), maxMembers)] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			if nw.Host.Connect(dctx, info) != nil {
				return
			}
			nw.blobs.mu.Lock()
			defer nw.blobs.mu.Unlock()
			if nw.blobs.members[g] == nil {
				nw.blobs.members[g] = map[peer.ID]bool{}
			}
			if len(nw.blobs.members[g]) < maxMembers {
				nw.blobs.members[g][info.ID] = true
			}
		}()
	}
	wg.Wait()
}

// Source is the network as a Source for the files of group g: this node's
// store first, then the peers that replicate g (reached through the DHT
// when too few are connected), then any connected peer.
func (nw *Network) Source(g [32]byte) Source {
	return &netSource{nw: nw, g: g, holders: map[blob.ID][]string{}}
}

type netSource struct {
	nw *Network
	g  [32]byte

	reach   sync.Once
	mu      sync.Mutex
	located map[blob.ID]bool     // tables whose shards were located
	holders map[blob.ID][]string // each shard's holders as last located; bounded by one file's shards
}

// Locate asks the group's candidates which of ids they hold, in parallel.
func (s *netSource) Locate(ctx context.Context, ids []blob.ID) (map[blob.ID][]string, error) {
	s.reach.Do(func() { s.nw.reachMembers(ctx, s.g, wantMembers) })
	return s.nw.locate(ctx, s.g, ids)
}

// wantMembers is how many connected members of a group a source looks for
// before it locates shards: Storj's 80 pieces, the widest stripe a default
// gives being 30.
const wantMembers = 32

// locate asks every candidate for group g which of ids it holds, in
// parallel; a zero g asks every connected peer.
func (nw *Network) locate(ctx context.Context, g [32]byte, ids []blob.ID) (map[blob.ID][]string, error) {
	out := map[blob.ID][]string{}
	self := nw.Host.ID().String()
	for _, id := range ids {
		if nw.blobs.objects.Has(id) {
			out[id] = append(out[id], self)
		}
	}
	cands := nw.candidates(g, 1<<30)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, c := range cands[1:] {
		p, err := peer.Decode(c)
		if err != nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			has, err := nw.blobs.haveOn(ctx, p, ids)
			if err != nil {
				return // an unreachable peer holds nothing we can have
			}
			mu.Lock()
			for i, h := range has {
				if h {
					out[ids[i]] = append(out[ids[i]], c)
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for id := range out {
		slices.Sort(out[id])
	}
	return out, ctx.Err()
}

func (s *netSource) Object(ctx context.Context, id blob.ID, size int) ([]byte, error) {
	if b, err := s.nw.blobs.objects.Read(id, 0, -1); err == nil && len(b) == size {
		return b, nil
	}
	where, err := s.Locate(ctx, []blob.ID{id})
	if err != nil {
		return nil, err
	}
	var last error = fmt.Errorf("%w: no connected peer holds %s", shards.ErrNotFound, id.Short())
	for _, h := range where[id] {
		p, err := peer.Decode(h)
		if err != nil || p == s.nw.Host.ID() {
			continue
		}
		b, err := s.nw.blobs.fetchFrom(ctx, p, id, size)
		if err == nil {
			return b, nil
		}
		last = err
	}
	return nil, last
}

// extra is how many more shards than k a stripe's fetch asks for at
// first: the slowest answers are cancelled once k are in (Storj's long-tail
// cancellation), so a slow peer costs a little bandwidth, not time.
const extra = 2

// hedgeAfter is how long a stripe's fetch waits on the fetches in flight
// before it asks one more holder as well: a peer that slows down mid-way
// is outrun by another, not waited for. A 1 MiB stripe's shard moves in
// well under a second on any link a node would serve files over.
const hedgeAfter = 2 * time.Second

// Stripe fetches k shards of stripe i: those this node holds, then k+extra
// at once from peers, rotating by stripe so that consecutive stripes load
// different peers; a fetch that fails is replaced by the shard's next
// holder or another shard, one more starts every hedgeAfter while k are
// not in, and the slowest are cancelled once they are.
func (s *netSource) Stripe(ctx context.Context, f *File, i int) ([][]byte, error) {
	p := f.Params()
	if err := s.locateFile(ctx, f); err != nil {
		return nil, err
	}
	out := make([][]byte, p.N())
	have := 0
	type job struct {
		j    int
		peer peer.ID
	}
	var jobs []job
	self := s.nw.Host.ID()
	s.mu.Lock()
	for j := range p.N() {
		id := f.Table.Shard(p, i, j)
		if b, err := s.nw.blobs.objects.Read(id, 0, -1); err == nil {
			out[j] = b
			have++
			continue
		}
		hs := s.holders[id]
		for k := range hs { // rotate, so that stripes spread over holders
			h := hs[(k+i)%len(hs)]
			if pid, err := peer.Decode(h); err == nil && pid != self {
				jobs = append(jobs, job{j, pid})
			}
		}
	}
	s.mu.Unlock()
	if have >= p.K {
		return out, nil
	}
	// Each shard's holders in turn; shards in an order rotated by stripe.
	slices.SortStableFunc(jobs, func(a, b job) int { return (a.j+i)%p.N() - (b.j+i)%p.N() })
	type result struct {
		j    int
		data []byte
		err  error
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, len(jobs))
	running := 0
	used := make([]bool, len(jobs))
	inFlight := map[int]bool{} // shards being fetched
	size := p.ShardLen(int64(f.M.Size), i)
	start := func() bool {
		for n, jb := range jobs {
			if used[n] || out[jb.j] != nil || inFlight[jb.j] {
				continue
			}
			used[n], inFlight[jb.j] = true, true
			running++
			go func() {
				data, err := s.nw.blobs.fetchFrom(sctx, jb.peer, f.Table.Shard(p, i, jb.j), size)
				results <- result{jb.j, data, err}
			}()
			return true
		}
		return false
	}
	for range p.K - have + extra {
		start()
	}
	var lastErr error
	hedge := time.NewTicker(hedgeAfter)
	defer hedge.Stop()
	for have < p.K && running > 0 {
		var r result
		select {
		case r = <-results:
		case <-hedge.C: // the fetches in flight are slow: one more, from a holder not yet asked
			start()
			continue
		}
		running--
		delete(inFlight, r.j)
		if r.err != nil { // the next holder of that shard, or another shard
			lastErr = r.err
			for running < p.K-have+extra && start() {
			}
			continue
		}
		if out[r.j] == nil {
			out[r.j] = r.data
			have++
		}
	}
	if have < p.K {
		return nil, fmt.Errorf("stripe %d of %q: %d of the %d shards it needs are to be had (last error: %v)", i, f.Path, have, p.K, lastErr)
	}
	return out, nil
}

// locateFile learns the holders of every shard of f once per source.
func (s *netSource) locateFile(ctx context.Context, f *File) error {
	s.mu.Lock()
	done := s.located[f.M.TableID()]
	s.mu.Unlock()
	if done {
		return nil
	}
	where, err := s.Locate(ctx, f.Table)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.located == nil {
		s.located = map[blob.ID]bool{}
	}
	s.located[f.M.TableID()] = true
	for id, hs := range where {
		s.holders[id] = hs
	}
	return nil
}

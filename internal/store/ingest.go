package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/view"

	"github.com/cockroachdb/pebble/v2"
)

// ChunkSize is how many entries a stream ingest commits in one batch: large
// enough that an fsync is amortized, small enough to keep a core busy.
const ChunkSize = 1024

// ChunkBytes bounds a chunk's encoded entries as well: IngestAll holds
// 2×workers chunks at once, which at ChunkSize of the largest entries
// would be gigabytes. At 4 MiB, a node importing 1 GB of the largest
// entries peaked at 255 MiB; at 2 MiB, 196 (TestExportGigabyteThroughNode).
const ChunkBytes = 2 << 20

// ErrWrite marks an entry that was valid but whose batch failed to commit.
var ErrWrite = errors.New("write failed")

// Outcome is what became of one ingested entry. Err is nil when the entry
// was stored or already held (Duplicate).
type Outcome struct {
	ID        entry.ID // zero when the bytes did not decode
	Group     entry.ID
	Author    entry.Author // set when admission judged the entry
	HLC       hlc.Timestamp
	Kind      string
	Duplicate bool
	Err       error
}

// Stored reports whether this ingest wrote the entry.
func (o Outcome) Stored() bool { return o.Err == nil && !o.Duplicate }

// Reason is a short, stable name for why an entry was refused, for counters
// and machine-readable reports; "" when it was not refused.
func Reason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{entry.ErrTooLarge, "too-large"},
		{entry.ErrMalformed, "malformed"},
		{entry.ErrBadSignature, "bad-signature"},
		{group.ErrFuture, "future"},
		{group.ErrUnknownGroup, "unknown-group"},
		{group.ErrBeforeGenesis, "before-genesis"},
		{group.ErrNotAllowed, "not-allowed"},
		{group.ErrOverQuota, "over-quota"},
		{ErrPaused, "paused"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	if err != nil {
		return "store"
	}
	return ""
}

// VerifyBatch is how many signatures Prepare checks in one batch equation.
// The per-signature cost falls little beyond 64; a batch that fails is
// verified again one by one, so a bad entry costs its batch that much more.
const VerifyBatch = 128

// prepareJob is how many entries of a chunk IngestAll gives a worker at a
// time: two batches.
const prepareJob = 2 * VerifyBatch

// Prepared holds decoded entries whose signatures have been checked, but
// for those the store already held when they were prepared: a duplicate is
// not verified, and Commit checks it is still held.
type Prepared struct {
	entries    []*entry.Signed
	errs       []error
	unverified []bool
	overviews  []*Article // a post's article record, as checkBody made it; nil for others
}

func newPrepared(n int) *Prepared {
	return &Prepared{entries: make([]*entry.Signed, n), errs: make([]error, n), unverified: make([]bool, n),
		overviews: make([]*Article, n)}
}

// Prepare decodes raws, verifies their signatures and checks their bodies on
// all workers. It reads from the store only whether each entry is held, and
// takes no lock, so it may run while another batch commits. The decoded
// entries alias raws: the caller must not reuse those buffers.
func (s *Store) Prepare(raws [][]byte) *Prepared {
	p := newPrepared(len(raws))
	s.prepareAll(p, func(i int) (*entry.Signed, error) { return entry.Decode(raws[i]) })
	return p
}

// PrepareDecoded is Prepare for entries already decoded (entry.Decode):
// the gossip layer decodes a pushed entry to check it before admission. A
// nil entry is refused as malformed.
func (s *Store) PrepareDecoded(es []*entry.Signed) *Prepared {
	p := newPrepared(len(es))
	s.prepareAll(p, func(i int) (*entry.Signed, error) {
		if es[i] == nil {
			return nil, fmt.Errorf("%w: not decoded", entry.ErrMalformed)
		}
		return es[i], nil
	})
	return p
}

// PrepareOwn takes entries this node has just signed (entry.Sign): their
// signatures are not checked again.
func PrepareOwn(es ...*entry.Signed) *Prepared {
	p := newPrepared(len(es))
	for i, e := range es {
		p.entries[i] = e
		p.overviews[i], p.errs[i] = checkBody(e)
	}
	return p
}

// prepareAll runs prepareRange on contiguous parts of p, one per worker.
func (s *Store) prepareAll(p *Prepared, decode func(int) (*entry.Signed, error)) {
	n := len(p.entries)
	workers := min(s.workers, (n+63)/64)
	if workers <= 1 {
		s.prepareRange(p, 0, n, decode)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { s.prepareRange(p, w*n/workers, (w+1)*n/workers, decode) })
	}
	wg.Wait()
}

// prepareRange decodes entries lo..hi, sets aside those already held, and
// verifies the others' signatures in batches.
func (s *Store) prepareRange(p *Prepared, lo, hi int, decode func(int) (*entry.Signed, error)) {
	batch := make([]*entry.Signed, 0, VerifyBatch)
	at := make([]int, 0, VerifyBatch)
	keys := s.keys.Get().(*entry.Keys)
	defer s.keys.Put(keys)
	flush := func() {
		for k, err := range entry.VerifyBatch(batch, keys) {
			if err != nil {
				p.errs[at[k]] = err
			}
		}
		batch, at = batch[:0], at[:0]
		// A batch is milliseconds of work that never blocks: a write
		// ready to run (its fsync done) gets a core now rather than when
		// the scheduler preempts this one.
		s.yield()
		runtime.Gosched()
	}
	for i := lo; i < hi; i++ {
		e, err := decode(i)
		p.entries[i] = e
		if err == nil {
			p.overviews[i], err = checkBody(e)
		}
		if p.errs[i] = err; err != nil {
			continue
		}
		if !s.fresh(e) {
			if held, err := s.held(e); err == nil && held {
				p.unverified[i] = true
				continue
			}
		}
		batch, at = append(batch, e), append(at, i)
		if len(batch) == VerifyBatch {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}

// fresh reports that e's seq is above the highest the store is known to
// hold of its author: then it is not held, and Prepare need not look. The
// answer may be false for an entry that is fresh (the cache does not know
// the author yet), never true for one that is held.
func (s *Store) fresh(e *entry.Signed) bool {
	gid := e.GroupID()
	s.cacheMu.RLock()
	top, ok := s.tops[string(key(tagSeq, gid[:], e.Author[:]))]
	s.cacheMu.RUnlock()
	return ok && e.Seq > top
}

// held reports whether the store holds e byte for byte: the id covers
// the content, not the signature, so the same id with other signature bytes
// is verified as any new entry is (and then found a duplicate by admit).
func (s *Store) held(e *entry.Signed) (bool, error) {
	v, closer, err := s.db.Get(idKey(e.GroupID(), e.ID))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ok := len(v) == 8
	var at hlc.Timestamp
	if ok {
		at = hlc.Timestamp(binary.BigEndian.Uint64(v))
	}
	closer.Close()
	if !ok || at != e.HLC {
		return false, nil
	}
	raw, closer, err := s.db.Get(logKey(e.GroupID(), at, e.ID))
	if err != nil {
		return false, nil
	}
	defer closer.Close()
	return bytes.Equal(raw, e.Raw), nil
}

// bytes is the size of the entries p holds.
func (p *Prepared) bytes() int {
	n := 0
	for _, e := range p.entries {
		if e != nil {
			n += len(e.Raw)
		}
	}
	return n
}

// joinPrepared is ps as one Prepared, in order.
func joinPrepared(ps []*Prepared) *Prepared {
	if len(ps) == 1 {
		return ps[0]
	}
	j := &Prepared{}
	for _, p := range ps {
		j.entries = append(j.entries, p.entries...)
		j.errs = append(j.errs, p.errs...)
		j.unverified = append(j.unverified, p.unverified...)
		j.overviews = append(j.overviews, p.overviews...)
	}
	return j
}

// Ingest validates raws and stores the valid ones in one fsynced batch.
func (s *Store) Ingest(raws [][]byte, nowMs int64) []Outcome {
	return s.Commit(s.Prepare(raws), nowMs)
}

// IngestAll ingests the chunks next returns until io.EOF and calls done with
// each chunk's outcomes, in order. The workers prepare parts of chunks
// (prepareJob entries) while earlier chunks commit, so no core waits at a
// chunk boundary, and a batch is admitted while the one before it syncs;
// at most 2×workers chunks are in memory. An error other than io.EOF from next ends
// the run after the chunks before it are committed, and is returned.
func (s *Store) IngestAll(next func() ([][]byte, error), now func() int64, done func([]Outcome)) error {
	// A job is a part of a chunk, so that the last chunk too is prepared on
	// every core rather than on one while the others wait. The worker that
	// prepares a chunk's last part hands the chunk on.
	type chunk struct {
		n    int
		p    *Prepared
		left atomic.Int32 // parts not prepared yet
	}
	type job struct {
		c      *chunk
		raws   [][]byte
		lo, hi int
	}
	tokens := make(chan struct{}, 2*s.workers) // bounds the chunks read but not committed
	jobs := make(chan job)
	// Room for every chunk holding a token, so that no worker waits for
	// the committer: a prepared chunk waits here while a batch commits.
	prepared := make(chan *chunk, cap(tokens))
	var readErr error
	go func() {
		defer close(jobs)
		for n := 0; ; {
			tokens <- struct{}{}
			raws, err := next()
			if len(raws) > 0 {
				c := &chunk{n: n, p: newPrepared(len(raws))}
				c.left.Store(int32((len(raws) + prepareJob - 1) / prepareJob))
				for lo := 0; lo < len(raws); lo += prepareJob {
					jobs <- job{c, raws, lo, min(len(raws), lo+prepareJob)}
				}
				n++
			} else {
				<-tokens
			}
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range s.workers {
		wg.Go(func() {
			for j := range jobs {
				s.prepareRange(j.c.p, j.lo, j.hi, func(i int) (*entry.Signed, error) { return entry.Decode(j.raws[i]) })
				if j.c.left.Add(-1) == 0 {
					prepared <- j.c
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(prepared)
	}()
	var last pending // applied, its fsync perhaps not done; finished before the next waits
	ready := map[int]*Prepared{}
	turn := 0
	for {
		var c *chunk
		var ok bool
		select {
		case c, ok = <-prepared:
		default:
			// Nothing to commit yet: the batch applied last is done
			// with now, so that its outcomes wait for no later chunk.
			last.finish(done, tokens)
			last = pending{}
			c, ok = <-prepared
		}
		if !ok {
			break
		}
		ready[c.n] = c.p
		// The chunks ready in turn commit together, in one batch and one
		// fsync, up to ChunkBytes of entries: when a commit fell behind (a
		// slow fsync), the next catches up instead of stalling the workers,
		// and a batch holds no more than one chunk of the largest entries.
		for {
			var ps []*Prepared
			size := 0
			for p, ok := ready[turn]; ok; p, ok = ready[turn] {
				n := p.bytes()
				if len(ps) > 0 && size+n > ChunkBytes {
					break
				}
				delete(ready, turn)
				ps, size = append(ps, p), size+n
				turn++
			}
			if len(ps) == 0 {
				break
			}
			// This batch's admission ran beside the fsync of the one
			// before, which is waited for only now.
			s.yield()
			next := pending{s.apply(joinPrepared(ps), now()), ps}
			last.finish(done, tokens)
			last = next
		}
	}
	last.finish(done, tokens)
	return readErr // written before jobs closed, so before prepared closed
}

// pending is a batch of IngestAll's chunks, applied.
type pending struct {
	a  *applied
	ps []*Prepared // its chunks
}

// finish waits for the batch's fsync and reports each chunk's outcomes,
// releasing its token.
func (w pending) finish(done func([]Outcome), tokens chan struct{}) {
	if w.a == nil {
		return
	}
	out := w.a.wait()
	for _, p := range w.ps {
		done(out[:len(p.entries):len(p.entries)])
		out = out[len(p.entries):]
		<-tokens
	}
}

// Commit admits prepared entries in order against the store and what the
// batch itself adds (a genesis followed by its posts may share a batch), then
// writes the admitted ones in one batch, fsynced before Commit returns.
func (s *Store) Commit(p *Prepared, nowMs int64) []Outcome {
	return s.apply(p, nowMs).wait()
}

// applied is a commit whose writes the next commit and readers see, its
// fsync perhaps not done: wait returns the outcomes once it is. (Pebble
// makes a batch visible before its WAL sync in any case.)
type applied struct {
	s   *Store
	b   *pebble.Batch // nil when nothing was written or the write failed
	out []Outcome
}

// wait waits for the commit's fsync and returns its outcomes; a failed
// fsync fails every entry it stored and breaks the store, as a failed
// write does (durably).
func (a *applied) wait() []Outcome {
	if a.b == nil {
		return a.out
	}
	err := a.b.SyncWait()
	a.b.Close()
	if err != nil {
		a.s.broken.Store(true)
		failStored(a.out, fmt.Errorf("%w: %v; reopen the store", ErrWrite, err))
	}
	return a.out
}

// apply is Commit up to the fsync: it holds the commit lock while it admits
// the entries and hands the batch to Pebble, not while the disk syncs, so
// that the next commit's admission (IngestAll's next chunk, a post) runs
// beside this one's fsync.
func (s *Store) apply(p *Prepared, nowMs int64) *applied {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &applied{s: s, out: make([]Outcome, len(p.entries))}
	it, err := s.db.NewIter(nil)
	if err != nil {
		a.out = failAll(p, err)
		return a
	}
	defer it.Close()
	c := &commit{s: s, it: it, nowMs: nowMs, maxHLC: s.MaxHLC(), sets: make([]keyValue, 0, setsPerEntry*len(p.entries)),
		groups: map[entry.ID]*group.Group{}, usage: map[string]group.Usage{}, counts: map[entry.ID]uint64{},
		ids: map[entry.ID]bool{}, seqs: map[string]entry.ID{}, equiv: map[string]bool{}, tops: map[string]uint64{},
		grants: map[string]hlc.Timestamp{}, articles: map[entry.ID]uint64{}, caps: map[entry.ID]*capState{}}
	out := a.out
	stored := 0
	for i, e := range p.entries {
		if p.errs[i] != nil {
			out[i].Err = p.errs[i]
			if e != nil {
				out[i].ID, out[i].Group, out[i].HLC, out[i].Kind = e.ID, e.GroupID(), e.HLC, e.Kind
			}
			continue
		}
		if p.unverified[i] {
			// Held when it was prepared, so not verified: still held, it
			// is a duplicate; purged since, it is verified now.
			if held, err := s.held(e); err == nil && held {
				out[i] = Outcome{ID: e.ID, Group: e.GroupID(), HLC: e.HLC, Kind: e.Kind, Duplicate: true}
				continue
			}
			if err := e.Verify(); err != nil {
				out[i] = Outcome{ID: e.ID, Group: e.GroupID(), HLC: e.HLC, Kind: e.Kind, Err: err}
				continue
			}
		}
		out[i] = c.admit(e, p.overviews[i])
		if out[i].Stored() {
			stored++
		}
	}
	if stored == 0 && !c.paused() {
		return a
	}
	err = c.finish()
	var b *pebble.Batch
	if err == nil {
		// Raised before the entries can be read, so that a write made after
		// reading one orders after it (TestClockSkew found a post on a slow
		// clock equal to the one it followed). A commit that fails leaves it
		// high, which costs nothing: the clock only has to move forward.
		s.maxHLC.Store(uint64(c.maxHLC))
		b = c.batch()
		err = s.durably(func() error { return s.db.ApplyNoSyncWait(b, pebble.Sync) })
	}
	if err != nil {
		// The batch is not closed: after a failed apply Pebble may still
		// hold it, and Close would put it back in Pebble's pool.
		failStored(out, fmt.Errorf("%w: %v", ErrWrite, err))
		return a
	}
	// The caches change before the lock is released, as the next commit
	// admits against them and sees this one's writes.
	s.cacheMu.Lock()
	for id, g := range c.groups {
		s.groups[id] = g
	}
	if len(s.tops)+len(c.tops) > maxTops {
		clear(s.tops)
	}
	for k, top := range c.tops {
		s.tops[k] = top
	}
	s.cacheMu.Unlock()
	a.b = b
	return a
}

// failStored fails the entries of out that were to be stored.
func failStored(out []Outcome, err error) {
	for i := range out {
		if out[i].Stored() {
			out[i].Err = err
		}
	}
}

func failAll(p *Prepared, err error) []Outcome {
	out := make([]Outcome, len(p.entries))
	for i := range out {
		out[i].Err = errors.Join(p.errs[i], err)
	}
	return out
}

// commit is the state of one batch: what it adds on top of the store.
type commit struct {
	s      *Store
	sets   []keyValue       // what the batch writes, in the order written
	size   int              // of the keys and values in sets
	it     *pebble.Iterator // one iterator for the whole batch: creating one per entry costs more than the seek
	nowMs  int64
	maxHLC hlc.Timestamp
	groups map[entry.ID]*group.Group // created in this batch
	usage  map[string]group.Usage    // by usage key, store value plus this batch
	counts map[entry.ID]uint64       // entries this batch adds per group
	ids    map[entry.ID]bool         // entries this batch adds
	seqs   map[string]entry.ID       // (group, author, seq) → an id this batch adds
	equiv  map[string]bool           // (group, author) proven in this batch
	tops   map[string]uint64         // (group, author) → highest seq, with this batch
	grants map[string]hlc.Timestamp  // view.GrantPrefix → oldest grant this batch adds
	// articles is each group's highest article number, with this batch
	articles map[entry.ID]uint64
	caps     map[entry.ID]*capState // the caps and pause of each group the batch touched
}

// setsPerEntry is about how many keys admitting a post writes (the log,
// the id and seq indexes, its views, the article index), so that a
// commit's list of writes is allocated once rather than grown: growing it
// was a seventh of what an ingest allocates.
const setsPerEntry = 8

type keyValue struct {
	k, v []byte
	n    int // the order written
}

// set writes k in this batch; the last write of a key wins. k and v must
// not change before the batch commits.
func (c *commit) set(k, v []byte) {
	c.sets = append(c.sets, keyValue{k, v, len(c.sets)})
	c.size += len(k) + len(v)
}

// batch is the Pebble batch of what c writes, its keys in order: Pebble
// inserts a batch's keys into the memtable one by one, and a key that
// follows the one before it is found from there instead of from the top of
// the skiplist, which made the inserts a tenth of the ingest's CPU. Of two
// writes of one key the last still wins, as it comes later in the batch.
//
// The keys are put in order by their first byte (the index they belong
// to) and then sorted within each index: several indexes are written in
// order already (the log, as entries mostly come in log order, and the
// articles), and sorting costs as much as the inserts it saves.
func (c *commit) batch() *pebble.Batch {
	var at [257]int // at[t+1] counts the keys of first byte t, then where they start
	for _, kv := range c.sets {
		at[int(kv.k[0])+1]++
	}
	for t := 1; t < len(at); t++ {
		at[t] += at[t-1]
	}
	byIndex := make([]keyValue, len(c.sets))
	next := at
	for _, kv := range c.sets {
		byIndex[next[kv.k[0]]] = kv
		next[kv.k[0]]++
	}
	order := func(a, b keyValue) int { return cmp.Or(bytes.Compare(a.k, b.k), a.n-b.n) }
	for t := range 256 {
		if part := byIndex[at[t]:at[t+1]]; !slices.IsSortedFunc(part, order) {
			slices.SortFunc(part, order)
		}
	}
	b := c.s.db.NewBatchWithSize(c.size + 16*len(byIndex))
	for _, kv := range byIndex {
		b.Set(kv.k, kv.v, nil)
	}
	return b
}

// setView writes a view key, noting the grants admission reads back.
func (c *commit) setView(k, v []byte) {
	c.set(k, v)
	if p, at, ok := view.ParseGrant(k); ok {
		if old, seen := c.grants[string(p)]; !seen || at < old {
			c.grants[string(p)] = at
		}
	}
}

// GrantedBefore implements group.Grants over the store and this batch.
func (c *commit) GrantedBefore(g entry.ID, a entry.Author, admin bool, at hlc.Timestamp) (bool, error) {
	p := view.GrantPrefix(g, a, admin)
	if t, ok := c.grants[string(p)]; ok && t < at {
		return true, nil
	}
	if c.it.SeekGE(p) && bytes.HasPrefix(c.it.Key(), p) && view.GrantPos(c.it.Key()).HLC < at {
		return true, nil
	}
	return false, c.it.Error()
}

func (c *commit) admit(e *entry.Signed, overview *Article) Outcome {
	gid := e.GroupID()
	o := Outcome{ID: e.ID, Group: gid, Author: e.Author, HLC: e.HLC, Kind: e.Kind}
	author := string(key(tagSeq, gid[:], e.Author[:]))
	top, err := c.top(author)
	if o.Err = err; err != nil {
		return o
	}
	// A seq above the author's highest is an empty slot: the entry is neither
	// held nor a fork, and the lookups below are skipped. That is the common
	// case, as authors write in order.
	fresh := e.Seq > top
	if !fresh {
		held, err := c.s.has(idKey(gid, e.ID))
		if o.Err = err; err != nil {
			return o
		}
		if held || c.ids[e.ID] {
			o.Duplicate = true
			return o
		}
	}
	if o.Err = group.CheckClock(e, c.nowMs); o.Err != nil {
		return o
	}
	g, err := c.group(e)
	if o.Err = err; err != nil {
		return o
	}
	uk := string(usageKey(gid, e.Author, group.Day(e.HLC)))
	used, err := c.used(uk)
	if o.Err = err; err != nil {
		return o
	}
	if o.Err = g.Admit(e, used, c); o.Err != nil {
		return o
	}
	capUse, err := c.checkCaps(gid, e)
	if o.Err = err; err != nil {
		return o
	}
	if o.Err = c.checkSeq(gid, e, fresh); o.Err != nil {
		return o
	}
	c.set(logKey(gid, e.HLC, e.ID), e.Raw)
	c.set(idKey(gid, e.ID), u64(uint64(e.HLC)))
	c.set(seqKey(gid, e.Author, e.Seq, e.ID), nil)
	if e.Kind == entry.KindGenesis {
		c.set(key(tagGroup, gid[:]), nil)
		c.groups[gid] = g
		c.articles[gid] = 0 // a new group's index starts empty, not missing
	}
	// CheckBody passed in Prepare, so the body decodes.
	if o.Err = view.Apply(gid, e, c.setView); o.Err != nil {
		return o
	}
	if o.Err = c.article(gid, e, overview); o.Err != nil {
		return o
	}
	c.usage[uk] = group.Usage{Entries: used.Entries + 1, Bytes: used.Bytes + uint64(len(e.Raw))}
	capUse.count(c, e)
	c.counts[gid]++
	c.ids[e.ID] = true
	c.tops[author] = max(top, e.Seq)
	c.maxHLC = max(c.maxHLC, e.HLC)
	return o
}

// maxTops bounds the cache of highest seqs: past it the cache starts over
// and refills from the store.
const maxTops = 1 << 16

// top is the highest seq of (group, author) held, with this batch: from the
// batch, the store's cache, or one seek to the end of the author's range.
func (c *commit) top(author string) (uint64, error) {
	if t, ok := c.tops[author]; ok {
		return t, nil
	}
	c.s.cacheMu.RLock()
	t, ok := c.s.tops[author]
	c.s.cacheMu.RUnlock()
	if ok {
		return t, nil
	}
	t = 0
	if c.it.SeekLT([]byte(prefixEnd([]byte(author)))) && strings.HasPrefix(string(c.it.Key()), author) {
		t = binary.BigEndian.Uint64(c.it.Key()[len(author):])
	}
	if err := c.it.Error(); err != nil {
		return 0, err
	}
	c.tops[author] = t
	return t, nil
}

func (c *commit) group(e *entry.Signed) (*group.Group, error) {
	if e.Kind == entry.KindGenesis {
		return group.FromGenesis(e)
	}
	if g, ok := c.groups[e.Group]; ok {
		return g, nil
	}
	return c.s.Group(e.Group)
}

func (c *commit) used(uk string) (group.Usage, error) {
	if u, ok := c.usage[uk]; ok {
		return u, nil
	}
	v, err := c.s.get([]byte(uk))
	if errors.Is(err, ErrNotFound) {
		return group.Usage{}, nil
	}
	if err != nil || len(v) != 12 {
		return group.Usage{}, fmt.Errorf("%w: usage record: %v", ErrCorrupt, err)
	}
	return group.Usage{Entries: binary.BigEndian.Uint32(v), Bytes: binary.BigEndian.Uint64(v[4:])}, nil
}

// checkSeq claims the entry's (group, author, seq) slot in this batch and
// records the author as an equivocator when another entry already holds it.
// Both entries are kept. A fresh slot, above the author's highest seq, can
// only be held by an earlier entry of this batch.
func (c *commit) checkSeq(gid entry.ID, e *entry.Signed, fresh bool) error {
	slot := string(seqKey(gid, e.Author, e.Seq, entry.ID{}))[:1+32+32+8]
	other, seen := c.seqs[slot]
	c.seqs[slot] = e.ID
	if !seen && !fresh && c.it.SeekGE([]byte(slot)) && strings.HasPrefix(string(c.it.Key()), slot) {
		other, seen = entry.ID(c.it.Key()[len(slot):]), true
	}
	if err := c.it.Error(); err != nil {
		return err
	}
	if !seen {
		return nil
	}
	ek := key(tagEquiv, gid[:], e.Author[:])
	if c.equiv[string(ek)] {
		return nil
	}
	held, err := c.s.has(ek)
	if err != nil || held {
		return err
	}
	c.equiv[string(ek)] = true
	c.set(ek, append(other[:], e.ID[:]...))
	return nil
}

// finish adds the batch's counters to the stored ones.
func (c *commit) finish() error {
	for gid, n := range c.counts {
		have, err := c.s.Count(gid)
		if err != nil {
			return err
		}
		c.set(key(tagCount, gid[:]), u64(have+n))
	}
	for uk, u := range c.usage {
		c.set([]byte(uk), binary.BigEndian.AppendUint64(u32(u.Entries), u.Bytes))
	}
	for gid, last := range c.articles {
		c.set(key(tagArticles, gid[:]), u64(last))
	}
	c.set(keyMaxHLC, u64(uint64(c.maxHLC)))
	c.pauses()
	return nil
}

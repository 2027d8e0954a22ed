// Package store keeps a replica's entries in Pebble: the log of every group
// in (hlc, id) order, the indexes beside it, and the ingest path that
// validates entries before one fsynced batch makes them durable.
package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/view"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"lukechampine.com/blake3"
)

// Errors of the store itself, beside the refusal reasons of entry and group.
var (
	ErrNotFound = errors.New("no such entry")
	ErrLocked   = errors.New("store is in use by another hearsay process")
	ErrCorrupt  = errors.New("store is corrupt")
)

// Pebble sizes: the block cache keeps the indexes ingest reads in memory; a
// larger memtable than the 4 MiB default flushes less often during catch-up.
const (
	cacheSize    = 64 << 20
	memTableSize = 32 << 20
)

// Options configure Open.
type Options struct {
	// FS is the file system; nil means the operating system's. Tests use
	// vfs.NewMem() or a crash-simulating file system.
	FS vfs.FS
	// Logf receives Pebble's error messages; nil drops them.
	Logf func(format string, args ...any)
	// Workers bounds the goroutines that verify signatures; 0 means GOMAXPROCS.
	Workers int
	// Yield, if set, is called between units of work that take
	// milliseconds and never block: after each batch of signatures
	// verified (VerifyBatch), before each batch IngestAll commits. The
	// node pauses there while a write of its own is in flight, so that the
	// write's fsync finds a core free when it returns. It must not wait
	// for anything its caller holds.
	Yield func()
}

// Store is safe for concurrent use. Ingest is serialized; reads see the
// latest committed state.
type Store struct {
	db      *pebble.DB
	lock    *pebble.Lock
	workers int
	yield   func() // Options.Yield; never nil

	broken atomic.Bool // a write failed: see durably

	closeOnce sync.Once
	closeErr  error

	mu sync.Mutex // serializes commits (up to handing their batch to Pebble, not across its fsync) and purges
	// cacheMu guards the caches, which readers use without waiting for a
	// commit: Group (the gossip layer's Serves) and Prepare must not queue
	// behind an fsync.
	cacheMu sync.RWMutex
	groups  map[entry.ID]*group.Group
	tops    map[string]uint64 // (group, author) seq-key prefix → highest seq held; a cache
	purges  uint64            // counts purges, so that a group read during one is not cached
	maxHLC  atomic.Uint64     // an hlc.Timestamp; written under mu

	// keys holds the authors' decoded keys, an *entry.Keys for each worker
	// verifying at once (each bounded by the entry package).
	keys sync.Pool
}

// Open opens or creates the store in dir.
func Open(dir string, o Options) (*Store, error) {
	fs := o.FS
	if fs == nil {
		fs = vfs.Default
	}
	if err := fs.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	lock, err := pebble.LockDirectory(dir, fs)
	if err != nil {
		// NB: Pebble reports a lock held in this process by message only.
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) || strings.Contains(err.Error(), "lock held") {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, dir)
		}
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	po := &pebble.Options{FS: fs, Lock: lock, Logger: logger{o.Logf},
		Cache: pebble.NewCache(cacheSize), MemTableSize: memTableSize}
	defer po.Cache.Unref()
	// Ingest looks up mostly absent keys (new ids); bloom filters answer those
	// without reading data blocks.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s := &Store{db: db, lock: lock, workers: o.Workers, groups: map[entry.ID]*group.Group{}, tops: map[string]uint64{}}
	s.keys.New = func() any { return entry.NewKeys() }
	if s.yield = o.Yield; s.yield == nil {
		s.yield = func() {}
	}
	if s.workers <= 0 {
		s.workers = runtime.GOMAXPROCS(0)
	}
	v, err := s.get(keyMaxHLC)
	switch {
	case err == nil && len(v) == 8:
		s.maxHLC.Store(binary.BigEndian.Uint64(v))
	case err != nil && !errors.Is(err, ErrNotFound):
		s.Close()
		return nil, err
	}
	if err := s.indexArticles(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the store; later calls do nothing. It flushes nothing:
// every commit is already durable.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = errors.Join(s.db.Close(), s.lock.Close()) })
	return s.closeErr
}

// MaxHLC is the greatest hlc of any stored entry: a restarted clock starts there.
func (s *Store) MaxHLC() hlc.Timestamp {
	return hlc.Timestamp(s.maxHLC.Load())
}

func (s *Store) get(k []byte) ([]byte, error) {
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

func (s *Store) has(k []byte) (bool, error) {
	_, err := s.get(k)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Group returns a group the store holds. It does not wait for a commit.
func (s *Store) Group(id entry.ID) (*group.Group, error) {
	s.cacheMu.RLock()
	g, ok := s.groups[id]
	purges := s.purges
	s.cacheMu.RUnlock()
	if ok {
		return g, nil
	}
	raw, err := s.Get(id, id)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w %s", group.ErrUnknownGroup, id)
	}
	if err != nil {
		return nil, err
	}
	g, err = group.FromGenesis(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: genesis of %s: %v", ErrCorrupt, id.Short(), err)
	}
	s.cacheMu.Lock()
	if s.purges == purges {
		s.groups[id] = g
	}
	s.cacheMu.Unlock()
	return g, nil
}

// Left reports whether this node left the group: it keeps the entries but
// no longer replicates them.
func (s *Store) Left(g entry.ID) (bool, error) {
	v, err := s.get(key(tagGroup, g[:]))
	if err != nil {
		return false, err
	}
	return len(v) == 1 && v[0] == groupLeft, nil
}

// SetLeft marks the group left, or (left false) replicated again.
func (s *Store) SetLeft(g entry.ID, left bool) error {
	if _, err := s.Group(g); err != nil {
		return err
	}
	var v []byte
	if left {
		v = []byte{groupLeft}
	}
	return s.durably(func() error { return s.db.Set(key(tagGroup, g[:]), v, pebble.Sync) })
}

// Purge deletes everything the store holds of a group, durably.
func (s *Store) Purge(g entry.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	prefixes := append(view.Prefixes(g), key(tagGroup, g[:]), key(tagCount, g[:]))
	prefixes = append(prefixes, key(tagArticles, g[:]))
	for _, t := range []byte{tagLog, tagID, tagSeq, tagEquiv, tagUsage, tagArticle, tagArticleOf, tagCaps, tagPause, tagGroupUsage} {
		prefixes = append(prefixes, key(t, g[:]))
	}
	for _, p := range prefixes {
		if err := b.DeleteRange(p, prefixEnd(p), nil); err != nil {
			return err
		}
	}
	if err := s.durably(func() error { return b.Commit(pebble.Sync) }); err != nil {
		return err
	}
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	s.purges++
	delete(s.groups, g)
	for k := range s.tops {
		if strings.HasPrefix(k, string(key(tagSeq, g[:]))) {
			delete(s.tops, k)
		}
	}
	return nil
}

// Groups lists the groups the store holds, in id order.
func (s *Store) Groups() ([]*group.Group, error) {
	var ids []entry.ID
	err := s.scan([]byte{tagGroup}, func(k, _ []byte) bool {
		ids = append(ids, entry.ID(k[1:]))
		return true
	})
	if err != nil {
		return nil, err
	}
	gs := make([]*group.Group, 0, len(ids))
	for _, id := range ids {
		g, err := s.Group(id)
		if err != nil {
			return nil, err
		}
		gs = append(gs, g)
	}
	return gs, nil
}

// Get returns an entry of a group by id.
func (s *Store) Get(g, id entry.ID) (*entry.Signed, error) {
	raw, err := s.GetRaw(g, id)
	if err != nil {
		return nil, err
	}
	return decodeStored(raw)
}

// GetRaw returns the encoding of an entry of a group by id, without
// decoding it: what a peer is sent.
func (s *Store) GetRaw(g, id entry.ID) ([]byte, error) {
	v, closer, err := s.db.Get(idKey(g, id))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	ok := len(v) == 8
	var at hlc.Timestamp
	if ok {
		at = hlc.Timestamp(binary.BigEndian.Uint64(v))
	}
	closer.Close()
	if !ok {
		return nil, fmt.Errorf("%w: id index of %s", ErrCorrupt, id.Short())
	}
	raw, err := s.get(logKey(g, at, id))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is indexed but not in the log: %v", ErrCorrupt, id.Short(), err)
	}
	return raw, nil
}

// GetRawMany is GetRaw of many ids of one group: raws[i] is the encoding
// of ids[i], nil when the group holds no such entry. Ids asked in log order,
// as a joiner asks for what it lacks, are read by walking the log: when the
// entry after the last one read is the next id asked, it is taken from
// there, and only an id that breaks the walk is looked up in the id index.
// A batch in log order costs one lookup and a step per entry, and the id
// index, whose blocks a large group's random lookups would read from disk
// one by one, stays out of it.
func (s *Store) GetRawMany(g entry.ID, ids []entry.ID) ([][]byte, error) {
	raws := make([][]byte, len(ids))
	if len(ids) == 0 {
		return raws, nil
	}
	logs, err := s.db.NewIter(&pebble.IterOptions{LowerBound: key(tagLog, g[:]), UpperBound: prefixEnd(key(tagLog, g[:]))})
	if err != nil {
		return nil, err
	}
	defer logs.Close()
	idx, err := s.db.NewIter(&pebble.IterOptions{LowerBound: key(tagID, g[:]), UpperBound: prefixEnd(key(tagID, g[:]))})
	if err != nil {
		return nil, err
	}
	defer idx.Close()
	walking := false // logs is at the entry of the id before
	for i, id := range ids {
		if walking {
			if logs.Next() && bytes.HasSuffix(logs.Key(), id[:]) {
				raws[i] = bytes.Clone(logs.Value())
				continue
			}
			walking = false
		}
		k := idKey(g, id)
		if !idx.SeekGE(k) || !bytes.Equal(idx.Key(), k) {
			continue
		}
		v := idx.Value()
		if len(v) != 8 {
			return nil, fmt.Errorf("%w: id index of %s", ErrCorrupt, id.Short())
		}
		lk := logKey(g, hlc.Timestamp(binary.BigEndian.Uint64(v)), id)
		if !logs.SeekGE(lk) || !bytes.Equal(logs.Key(), lk) {
			return nil, fmt.Errorf("%w: %s is indexed but not in the log", ErrCorrupt, id.Short())
		}
		raws[i] = bytes.Clone(logs.Value())
		walking = true
	}
	return raws, errors.Join(logs.Error(), idx.Error())
}

// Positions calls fn with the (hlc, id) of every entry of the group, in id
// order, reading only the id index.
func (s *Store) Positions(g entry.ID, fn func(hlc.Timestamp, entry.ID)) error {
	var bad error
	err := s.scan(key(tagID, g[:]), func(k, v []byte) bool {
		if len(v) != 8 {
			bad = fmt.Errorf("%w: id index value of %d bytes", ErrCorrupt, len(v))
			return false
		}
		fn(hlc.Timestamp(binary.BigEndian.Uint64(v)), entry.ID(k[1+32:]))
		return true
	})
	return errors.Join(err, bad)
}

// IDsWithPrefix returns up to limit ids of the group that start with p, in
// id order.
func (s *Store) IDsWithPrefix(g entry.ID, p []byte, limit int) ([]entry.ID, error) {
	var ids []entry.ID
	err := s.scan(key(tagID, g[:], p), func(k, _ []byte) bool {
		ids = append(ids, entry.ID(k[1+32:]))
		return len(ids) < limit
	})
	return ids, err
}

// decodeStored decodes an entry read back from disk; it was verified on the
// way in, so only the encoding is checked.
func decodeStored(raw []byte) (*entry.Signed, error) {
	s, err := entry.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return s, nil
}

// Log calls fn with the group's entries in log order, (hlc, id) ascending,
// until fn returns false.
func (s *Store) Log(g entry.ID, fn func(*entry.Signed) bool) error {
	var derr error
	err := s.scan(key(tagLog, g[:]), func(_, v []byte) bool {
		e, err := decodeStored(bytes.Clone(v))
		if err != nil {
			derr = err
			return false
		}
		return fn(e)
	})
	return errors.Join(err, derr)
}

// LogBackward calls fn with the group's entries in reverse log order until
// fn returns false.
func (s *Store) LogBackward(g entry.ID, fn func(*entry.Signed) bool) error {
	p := key(tagLog, g[:])
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return err
	}
	for ok := it.Last(); ok; ok = it.Prev() {
		e, err := decodeStored(bytes.Clone(it.Value()))
		if err != nil {
			it.Close()
			return err
		}
		if !fn(e) {
			break
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// Count is the number of entries the store holds for the group, genesis included.
func (s *Store) Count(g entry.ID) (uint64, error) {
	v, err := s.get(key(tagCount, g[:]))
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(v), nil
}

// Digest is BLAKE3-256 of the group's ids concatenated in ascending order:
// two replicas hold the same entries exactly when their digests are equal.
// It reads the id index, O(entries).
func (s *Store) Digest(g entry.ID) ([32]byte, error) {
	h := blake3.New(32, nil)
	err := s.scan(key(tagID, g[:]), func(k, _ []byte) bool {
		h.Write(k[1+32:])
		return true
	})
	var d [32]byte
	h.Sum(d[:0])
	return d, err
}

// ScanView calls fn with the view keys under prefix, in key order, until fn
// returns false.
func (s *Store) ScanView(prefix []byte, fn func(k, v []byte) bool) error {
	if len(prefix) == 0 || prefix[0] != view.Tag {
		return fmt.Errorf("ScanView: %x is not a view prefix", prefix)
	}
	return s.scan(prefix, fn)
}

// ViewReader reads a group's views on the store's current state.
func (s *Store) ViewReader(g entry.ID) view.Reader { return viewReader{s, g} }

// ApplyUnsealed indexes entries unsealed here and clears the awaiting keys
// at cleared (the unsealed entries' and any that hid nothing usable) in one
// fsynced batch.
func (s *Store) ApplyUnsealed(g entry.ID, keyID []byte, unsealed []*entry.Signed, cleared []view.Pos) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, e := range unsealed {
		if err := view.Apply(g, e, func(k, v []byte) { b.Set(k, v, nil) }); err != nil {
			return err
		}
	}
	for _, p := range cleared {
		b.Delete(view.AwaitingKey(g, keyID, p), nil)
	}
	return s.durably(func() error { return b.Commit(pebble.Sync) })
}

type viewReader struct {
	s *Store
	g entry.ID
}

func (r viewReader) Scan(p []byte, fn func(k, v []byte) bool) error { return r.s.scan(p, fn) }
func (r viewReader) Entry(id entry.ID) (*entry.Signed, error)       { return r.s.Get(r.g, id) }

// Equivocation is proof that an author signed two entries with one seq.
type Equivocation struct {
	Author entry.Author
	A, B   entry.ID
}

// Equivocations lists, per author, the first proof found, in author order.
func (s *Store) Equivocations(g entry.ID) ([]Equivocation, error) {
	var out []Equivocation
	var bad error
	err := s.scan(key(tagEquiv, g[:]), func(k, v []byte) bool {
		if len(v) != 64 {
			bad = fmt.Errorf("%w: equivocation record of %d bytes", ErrCorrupt, len(v))
			return false
		}
		out = append(out, Equivocation{Author: entry.Author(k[33:]), A: entry.ID(v[:32]), B: entry.ID(v[32:])})
		return true
	})
	return out, errors.Join(err, bad)
}

// NextSeq is the seq an author's next entry in the group takes.
func (s *Store) NextSeq(g entry.ID, a entry.Author) (uint64, error) {
	p := key(tagSeq, g[:], a[:])
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if !it.Last() {
		return 1, it.Error()
	}
	return binary.BigEndian.Uint64(it.Key()[len(p):]) + 1, nil
}

func (s *Store) scan(prefix []byte, fn func(k, v []byte) bool) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// logger routes Pebble's messages: informational ones are dropped, errors go
// to Logf.
type logger struct{ logf func(string, ...any) }

func (l logger) Infof(string, ...any) {}

func (l logger) Errorf(format string, args ...any) {
	if l.logf != nil {
		l.logf("pebble: "+format, args...)
	}
}

func (l logger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !strings.HasPrefix(msg, "pebble: ") {
		msg = "pebble: " + msg
	}
	panic(fatal{msg})
}

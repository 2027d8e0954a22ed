// Package shards is the node's object store on disk: the shards and shard
// tables of files (package blob) it holds, for itself and for other peers.
// It lives beside Pebble, not in it: objects are large, written once and
// read in ranges, and do not belong in the log's write batches.
//
// Each object is one file, <dir>/<2 hex>/<64 hex>: a header (who it is held
// for, until when, its block hashes) and then its bytes. A file is written
// under a temporary name, fsynced and renamed, so a crash leaves an object
// whole or absent. Open reads every header to index what is held.
package shards

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"hearsay/internal/blob"
)

// ErrNotFound is returned for an object the store does not hold.
var ErrNotFound = errors.New("object not held")

// Meta is what the store knows of an object besides its bytes.
type Meta struct {
	ID      blob.ID
	Size    int
	Group   [32]byte // the group of the file it belongs to
	Writer  [32]byte // the author of the manifest: the key storage caps count against
	Owner   string   // the peer it is held for (its libp2p id); this node's own for its own files
	Expires int64    // Unix seconds: the lease; after it the object may be dropped
	Hashes  []blob.ID
}

const magic = "hearsay-object-1\n"

// Store is an object store in one directory. It is safe for concurrent use.
type Store struct {
	dir string
	// Damaged counts the object files found damaged (by Open, or by a
	// read) and set aside as .damaged-<id>: their shards are lost here, and
	// repair replaces them elsewhere. Guarded by mu once Open returns.
	Damaged int

	mu    sync.Mutex
	index map[blob.ID]*Meta // every object held; bounded by the disk it indexes
	bytes int64
}

// Open opens (creating) the store in dir and indexes what it holds.
// Temporary files a crash left behind are removed; a damaged file is set
// aside, never served.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &Store{dir: dir, index: map[blob.ID]*Meta{}}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			return os.Remove(path)
		}
		if strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		m, err := readMeta(path)
		if err != nil { // kept aside for an operator to look at, never served
			s.Damaged++
			return os.Rename(path, filepath.Join(filepath.Dir(path), ".damaged-"+d.Name()))
		}
		s.index[m.ID] = m
		s.bytes += int64(m.Size)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) path(id blob.ID) string {
	h := id.String()
	return filepath.Join(s.dir, h[:2], h)
}

// Has reports whether the store holds id.
func (s *Store) Has(id blob.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.index[id] != nil
}

// Meta returns what the store knows of id.
func (s *Store) Meta(id blob.ID) (Meta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.index[id]
	if m == nil {
		return Meta{}, fmt.Errorf("%w: %s", ErrNotFound, id.Short())
	}
	return *m, nil
}

// Bytes is the total size of the objects held.
func (s *Store) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// List returns the metadata of every object held, by id.
func (s *Store) List() []Meta {
	s.mu.Lock()
	out := make([]Meta, 0, len(s.index))
	for _, m := range s.index {
		out = append(out, *m)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Meta) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out
}

// Put stores data as the object m.ID after checking it against the id.
// Storing an object already held only extends its lease (and keeps its
// first owner, who earned the credit for it).
func (s *Store) Put(m Meta, data []byte) error {
	m.Size = len(data)
	m.Hashes = blob.BlockHashes(data)
	if err := blob.CheckHashes(m.ID, m.Size, m.Hashes); err != nil {
		return err
	}
	s.mu.Lock()
	old := s.index[m.ID]
	s.mu.Unlock()
	if old != nil {
		if m.Expires <= old.Expires {
			return nil
		}
		m.Owner, m.Group, m.Writer = old.Owner, old.Group, old.Writer
	}
	if err := s.write(&m, data); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev := s.index[m.ID]; prev != nil {
		s.bytes -= int64(prev.Size)
	}
	s.index[m.ID] = &m
	s.bytes += int64(m.Size)
	return nil
}

func (s *Store) write(m *Meta, data []byte) error {
	path := s.path(m.ID)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriterSize(f, 256<<10)
	w.Write(encodeMeta(m))
	w.Write(data)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Read returns bytes [off, off+n) of object id, checked block by block
// against its hashes: a disk that rotted is reported, not served. off must
// be a multiple of blob.BlockSize; n < 0 reads to the end.
func (s *Store) Read(id blob.ID, off, n int) ([]byte, error) {
	m, err := s.Meta(id)
	if err != nil {
		return nil, err
	}
	if off < 0 || off%blob.BlockSize != 0 || off > m.Size {
		return nil, fmt.Errorf("shards: read of %s at %d", id.Short(), off)
	}
	if n < 0 || off+n > m.Size {
		n = m.Size - off
	}
	end := min(m.Size, off+blob.Blocks(n)*blob.BlockSize) // whole blocks, to check each
	f, err := os.Open(s.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, s.lost(id, err)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, end-off)
	if _, err := f.ReadAt(buf, int64(len(encodeMeta(&m))+off)); err != nil {
		return nil, s.lost(id, err)
	}
	for i := 0; i < len(buf); i += blob.BlockSize {
		if err := blob.CheckBlock(m.Hashes, m.Size, (off+i)/blob.BlockSize, buf[i:min(i+blob.BlockSize, len(buf))]); err != nil {
			return nil, s.lost(id, err)
		}
	}
	return buf[:n], nil
}

// lost forgets an object whose file is gone, cut short or rotten, so that
// this node no longer claims to hold it and repair replaces it elsewhere;
// the file, if any, is set aside.
func (s *Store) lost(id blob.ID, cause error) error {
	s.mu.Lock()
	if m := s.index[id]; m != nil {
		s.bytes -= int64(m.Size)
		delete(s.index, id)
		s.Damaged++
	}
	s.mu.Unlock()
	path := s.path(id)
	os.Rename(path, filepath.Join(filepath.Dir(path), ".damaged-"+id.String()))
	return fmt.Errorf("%w: %s on disk is damaged: %v", ErrNotFound, id.Short(), cause)
}

// Renew extends the lease of an object held to expires (a lease never
// shortens), rewriting the 8 bytes of its header in place. It reports
// whether the object is held.
func (s *Store) Renew(id blob.ID, expires int64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.index[id]
	if m == nil {
		return false, nil
	}
	if expires <= m.Expires {
		return true, nil
	}
	f, err := os.OpenFile(s.path(id), os.O_WRONLY, 0)
	if err != nil {
		return true, err
	}
	defer f.Close()
	off := len(magic) + 64 + len(binary.AppendUvarint(nil, uint64(len(m.Owner)))) + len(m.Owner)
	if _, err := f.WriteAt(binary.BigEndian.AppendUint64(nil, uint64(expires)), int64(off)); err != nil {
		return true, err
	}
	m.Expires = expires
	return true, f.Sync()
}

// Expired lists the objects whose lease ended before now, held for a peer
// other than self.
func (s *Store) Expired(now int64, self string) []Meta {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Meta
	for _, m := range s.index {
		if m.Expires < now && m.Owner != self {
			out = append(out, *m)
		}
	}
	return out
}

// Delete drops an object; dropping one not held is no error.
func (s *Store) Delete(id blob.ID) error {
	s.mu.Lock()
	m := s.index[id]
	delete(s.index, id)
	if m != nil {
		s.bytes -= int64(m.Size)
	}
	s.mu.Unlock()
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// encodeMeta is the header: magic, group, writer, uvarint-prefixed owner,
// expires, size, block hashes.
func encodeMeta(m *Meta) []byte {
	b := append([]byte(magic), m.Group[:]...)
	b = append(b, m.Writer[:]...)
	b = binary.AppendUvarint(b, uint64(len(m.Owner)))
	b = append(b, m.Owner...)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Expires))
	b = binary.BigEndian.AppendUint64(b, uint64(m.Size))
	for _, h := range m.Hashes {
		b = append(b, h[:]...)
	}
	return b
}

func readMeta(path string) (*Meta, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(f)
	head := make([]byte, len(magic)+64)
	if _, err := io.ReadFull(r, head); err != nil || string(head[:len(magic)]) != magic {
		return nil, errors.New("not an object file")
	}
	m := &Meta{}
	copy(m.Group[:], head[len(magic):])
	copy(m.Writer[:], head[len(magic)+32:])
	n, err := binary.ReadUvarint(r)
	if err != nil || n > 256 {
		return nil, errors.New("damaged header")
	}
	owner := make([]byte, n)
	fixed := make([]byte, 16)
	if _, err := io.ReadFull(r, owner); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(r, fixed); err != nil {
		return nil, err
	}
	m.Owner = string(owner)
	m.Expires = int64(binary.BigEndian.Uint64(fixed))
	size := binary.BigEndian.Uint64(fixed[8:])
	if size > blob.MaxObject {
		return nil, errors.New("damaged header")
	}
	m.Size = int(size)
	m.Hashes = make([]blob.ID, blob.Blocks(m.Size))
	for i := range m.Hashes {
		if _, err := io.ReadFull(r, m.Hashes[i][:]); err != nil {
			return nil, err
		}
	}
	if int64(len(encodeMeta(m))+m.Size) != st.Size() {
		return nil, errors.New("truncated")
	}
	hex := filepath.Base(path)
	if id, err := blob.ParseID(hex); err != nil || blob.CheckHashes(id, m.Size, m.Hashes) != nil {
		return nil, errors.New("header does not match its name")
	}
	m.ID, _ = blob.ParseID(hex)
	return m, nil
}

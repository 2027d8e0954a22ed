package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"hearsay/internal/blob"
	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/shards"
	"hearsay/internal/view"

	"lukechampine.com/blake3"
)

// Lease is how long a holder keeps a shard nobody renews: Tahoe-LAFS's 31
// days. A writer's node renews the leases of its files every quarter of a
// lease (renewEvery); deletion is never guaranteed (docs/files.md).
const Lease = 31 * 24 * time.Hour

// ErrNotFile is returned for a path whose version is not a large file.
var ErrNotFile = errors.New("not a file")

// File is one version of a large file: its manifest and shard table.
type File struct {
	Group   entry.ID
	Path    string
	Version view.Version
	M       blob.Manifest
	Table   blob.Table
}

// Params are the file's coding parameters.
func (f *File) Params() blob.Params { return f.M.Params() }

// objectStore holds the node's shards and shard tables, opened on first use.
type objectStore struct {
	once  sync.Once
	store *shards.Store
	err   error
}

// Objects is the node's object store (<home>/shards).
func (n *Node) Objects() (*shards.Store, error) {
	n.objects.once.Do(func() {
		n.objects.store, n.objects.err = shards.Open(filepath.Join(n.Home.Dir, "shards"))
	})
	return n.objects.store, n.objects.err
}

// Source is where a node finds shards: its own store only, or the network
// as well (Network.Source).
type Source interface {
	// Locate reports, for each id, the peers known to hold it (this node's
	// own peer id included when it does).
	Locate(ctx context.Context, ids []blob.ID) (map[blob.ID][]string, error)
	// Stripe returns shard j of stripe i at [j] for at least k shards, each
	// checked against the table, or an error saying what is missing.
	Stripe(ctx context.Context, f *File, i int) ([][]byte, error)
	// Object returns a whole object of size bytes, checked against its id.
	Object(ctx context.Context, id blob.ID, size int) ([]byte, error)
}

// PutOptions steer FilePut. K < 1 chooses k and m from the peers there
// are (blob.DefaultParams).
type PutOptions struct {
	K, M  int
	Peers int // distinct holders there are, this node included
}

// FilePut codes content (size bytes from r) into shards kept in this
// node's object store and writes the manifest as a new version of path.
// The network places the shards on peers afterwards (Network.Place). A
// put of the same bytes to the same path again stores nothing twice and,
// if that version is still the latest, writes no new one: an interrupted
// put is resumed by running it again. A put that fails (the content is cut
// short, the writer may not write) removes the objects it stored.
func (n *Node) FilePut(gid entry.ID, path string, r io.Reader, size int64, o PutOptions) (_ *File, _ entry.ID, err error) {
	g, err := n.Store.Group(gid)
	if err != nil {
		return nil, entry.ID{}, err
	}
	if err := group.CheckPath(path); err != nil {
		return nil, entry.ID{}, err
	}
	p := blob.DefaultParams(o.Peers)
	if o.K > 0 {
		p.K, p.M = o.K, o.M
	}
	p.Sealed = g.Read == group.ReadMembers
	if err := p.Check(); err != nil {
		return nil, entry.ID{}, err
	}
	objects, err := n.Objects()
	if err != nil {
		return nil, entry.ID{}, err
	}
	self, err := n.PeerID()
	if err != nil {
		return nil, entry.ID{}, err
	}
	if size < 0 {
		return nil, entry.ID{}, fmt.Errorf("a file of %d bytes", size)
	}
	seg := make([]byte, p.SegmentSize)
	first, err := io.ReadFull(r, seg[:max(0, p.SegmentLen(size, 0))])
	if err != nil {
		return nil, entry.ID{}, fmt.Errorf("reading the file: %w", err)
	}
	var key []byte
	if p.Sealed {
		key = n.contentKey(gid, path, size, seg[:first])
	}
	coder, err := blob.NewCoder(p, size, key)
	if err != nil {
		return nil, entry.ID{}, err
	}
	meta := shards.Meta{Group: gid, Writer: n.Home.Author, Owner: self, Expires: n.now().Add(Lease).Unix()}
	var stored []blob.ID // objects this put added, removed again if it fails
	defer func() {
		if err != nil {
			for _, id := range stored {
				objects.Delete(id)
			}
		}
	}()
	content := blob.NewContentHasher()
	var table blob.Table
	for i := range p.Stripes(size) {
		sl := p.SegmentLen(size, i)
		if i > 0 {
			if _, err := io.ReadFull(r, seg[:sl]); err != nil {
				return nil, entry.ID{}, fmt.Errorf("reading the file: %w (it is shorter than %d bytes)", err, size)
			}
		}
		content.Add(seg[:sl])
		shs, err := coder.Encode(i, seg[:sl])
		if err != nil {
			return nil, entry.ID{}, err
		}
		for _, sh := range shs {
			meta.ID = blob.IDOf(sh)
			table = append(table, meta.ID)
			if !objects.Has(meta.ID) {
				stored = append(stored, meta.ID)
				if err := objects.Put(meta, sh); err != nil {
					return nil, entry.ID{}, err
				}
			}
		}
	}
	if k, _ := r.Read(seg[:1]); k > 0 {
		return nil, entry.ID{}, fmt.Errorf("the file is longer than the %d bytes it was said to have", size)
	}
	tb := table.Encode()
	meta.ID = blob.IDOf(tb)
	if !objects.Has(meta.ID) {
		stored = append(stored, meta.ID)
	}
	if err := objects.Put(meta, tb); err != nil {
		return nil, entry.ID{}, err
	}
	m := blob.Manifest{Size: uint64(size), Segment: uint32(p.SegmentSize), K: uint16(p.K), M: uint16(p.M),
		Content: content.Sum().Bytes(), Table: meta.ID.Bytes(), Key: key}
	f := &File{Group: gid, Path: path, M: m, Table: table}
	if latest, err := n.FileOf(gid, path, entry.ID{}); err == nil && sameFile(&latest.M, &m) {
		latest.Table = table
		return latest, latest.Version.At.ID, nil
	}
	id, err := n.writeBody(gid, group.KindDir, nil, &group.DirOp{Path: path, Op: group.OpPut, File: &m})
	if err != nil {
		return nil, id, err
	}
	v, err := n.View(gid)
	if err != nil {
		return nil, id, err
	}
	vs, err := v.History(path)
	if err != nil {
		return nil, id, err
	}
	f.Version = vs[0]
	return f, id, nil
}

func sameFile(a, b *blob.Manifest) bool {
	return a.Size == b.Size && a.Segment == b.Segment && a.K == b.K && a.M == b.M &&
		bytes.Equal(a.Content, b.Content) && bytes.Equal(a.Table, b.Table) && bytes.Equal(a.Key, b.Key)
}

// contentKey derives a private file's content key from this node's secret
// key and what identifies the put (group, path, size, first segment): a
// put run again derives the same key, so its shards are the same and an
// interrupted put resumes; nobody without this node's key can derive it or
// confirm a guess of the content. The manifest that carries it is sealed.
func (n *Node) contentKey(gid entry.ID, path string, size int64, first []byte) []byte {
	h := blake3.New(32, n.Home.Key.Seed())
	h.Write([]byte("hearsay-content-key-v1"))
	h.Write(gid[:])
	fmt.Fprintf(h, "%d\x00%s\x00", size, path)
	h.Write(first)
	return h.Sum(nil)
}

// FileOf reads version (zero: the latest visible one) of a file at path,
// with its shard table from this node's store when it holds it.
func (n *Node) FileOf(gid entry.ID, path string, version entry.ID) (*File, error) {
	v, err := n.View(gid)
	if err != nil {
		return nil, err
	}
	var ver view.Version
	if version.IsZero() {
		if ver, _, err = v.Get(path); err != nil {
			return nil, err
		}
	} else {
		vs, err := v.History(path)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(vs, func(x view.Version) bool { return x.At.ID == version })
		if i < 0 {
			return nil, fmt.Errorf("%w: %s is not a version of %q", ErrNoEntry, version.Short(), path)
		}
		if ver = vs[i]; ver.Op != group.OpPut {
			return nil, fmt.Errorf("%w: version %s of %q is a removal", ErrNotFile, version.Short(), path)
		}
	}
	op, err := v.Op(ver)
	if err != nil {
		return nil, err
	}
	if op.File == nil {
		return nil, fmt.Errorf("%w: %q holds a small value (read it with dir get)", ErrNotFile, path)
	}
	return &File{Group: gid, Path: path, Version: ver, M: *op.File}, nil
}

// LoadTable fills in f.Table from src (this node's store first).
func (n *Node) LoadTable(ctx context.Context, f *File, src Source) error {
	if f.Table != nil {
		return nil
	}
	b, err := src.Object(ctx, f.M.TableID(), f.M.TableLen())
	if err != nil {
		return fmt.Errorf("the shard table of %q: %w", f.Path, err)
	}
	f.Table, err = blob.DecodeTable(&f.M, b)
	return err
}

// Files lists the large files under prefix, latest versions.
func (n *Node) Files(gid entry.ID, prefix string) ([]*File, error) {
	v, err := n.View(gid)
	if err != nil {
		return nil, err
	}
	vs, err := v.Find(prefix)
	if err != nil {
		return nil, err
	}
	var out []*File
	for _, ver := range vs {
		op, err := v.Op(ver)
		if err != nil {
			return nil, err
		}
		if op.File != nil {
			out = append(out, &File{Group: gid, Path: ver.Path, Version: ver, M: *op.File})
		}
	}
	return out, nil
}

// LocalSource is this node's own store as a Source: what a node that does
// not serve can read.
func (n *Node) LocalSource() Source { return localSource{n} }

type localSource struct{ n *Node }

func (l localSource) Locate(_ context.Context, ids []blob.ID) (map[blob.ID][]string, error) {
	objects, err := l.n.Objects()
	if err != nil {
		return nil, err
	}
	self, err := l.n.PeerID()
	if err != nil {
		return nil, err
	}
	out := map[blob.ID][]string{}
	for _, id := range ids {
		if objects.Has(id) {
			out[id] = []string{self}
		}
	}
	return out, nil
}

func (l localSource) Object(_ context.Context, id blob.ID, size int) ([]byte, error) {
	objects, err := l.n.Objects()
	if err != nil {
		return nil, err
	}
	b, err := objects.Read(id, 0, -1)
	if errors.Is(err, shards.ErrNotFound) {
		return nil, fmt.Errorf("%w; this node holds none of it: start `hearsay serve` to fetch it from peers", err)
	}
	if err == nil && len(b) != size {
		return nil, fmt.Errorf("%w: object %s has %d bytes, want %d", blob.ErrCorrupt, id.Short(), len(b), size)
	}
	return b, err
}

func (l localSource) Stripe(_ context.Context, f *File, i int) ([][]byte, error) {
	objects, err := l.n.Objects()
	if err != nil {
		return nil, err
	}
	return localShards(objects, f, i)
}

// localShards reads the shards of stripe i that objects holds; it fails,
// saying how many more it needs, if fewer than k.
func localShards(objects *shards.Store, f *File, i int) ([][]byte, error) {
	p := f.Params()
	out := make([][]byte, p.N())
	have := 0
	for j := range out {
		b, err := objects.Read(f.Table.Shard(p, i, j), 0, -1)
		if err == nil {
			out[j] = b
			have++
		}
		if have == p.K {
			return out, nil
		}
	}
	return nil, fmt.Errorf("stripe %d of %q: this node holds %d of the %d shards it needs; start `hearsay serve` to fetch the other %d from peers",
		i, f.Path, have, p.K, p.K-have)
}

// Files is how the API and the folder view reach large files: through the
// network when the node serves one (Net non-nil), else this node's store.
type Files struct {
	N   *Node
	Net *Network
}

// Source is where the shards of g's files are found.
func (fs Files) Source(g entry.ID) Source {
	if fs.Net != nil {
		return fs.Net.Source(g)
	}
	return fs.N.LocalSource()
}

// Put stores size bytes from r as a new version of path, placed on peers
// when the node serves.
func (fs Files) Put(ctx context.Context, g entry.ID, path string, r io.Reader, size int64, o PutOptions) (*File, Placement, error) {
	if fs.Net != nil {
		return fs.Net.PutFile(ctx, g, path, r, size, o)
	}
	f, _, err := fs.N.FilePut(g, path, r, size, o)
	return f, Placement{}, err
}

// Open opens version (zero: the latest) of the file at path to read.
func (fs Files) Open(ctx context.Context, g entry.ID, path string, version entry.ID) (*File, *FileReader, error) {
	f, err := fs.N.FileOf(g, path, version)
	if err != nil {
		return nil, nil, err
	}
	src := fs.Source(g)
	if err := fs.N.LoadTable(ctx, f, src); err != nil {
		return nil, nil, err
	}
	r, err := OpenFile(ctx, f, src)
	return f, r, err
}

package dav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/node"

	"golang.org/x/net/webdav"
)

// maxEmpty bounds the empty folders FS keeps.
const maxEmpty = 10_000

// FS is the webdav.FileSystem of a node's groups.
//
// The directory view holds paths, not folders: a folder exists while a path
// under it does. Clients expect the folder MKCOL makes, and the one whose
// last file they deleted, to stay; FS keeps those empty folders in this
// process's memory, on this node only, until a file is written into them,
// they are deleted, or the node stops. At most maxEmpty are kept.
type FS struct {
	n       *node.Node
	files   node.Files
	started time.Time

	mu     sync.Mutex
	empty  map[entry.ID]map[string]time.Time // per group, path → when made
	nEmpty int
}

var _ webdav.FileSystem = (*FS)(nil)

// New serves the groups of n, their large files through files.
func New(n *node.Node, files node.Files) *FS {
	return &FS{n: n, files: files, started: time.Now(), empty: map[entry.ID]map[string]time.Time{}}
}

// Stat describes a file or folder.
func (fs *FS) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	rq := reqOf(ctx)
	l, err := fs.resolve(rq, name)
	if err != nil {
		return nil, err
	}
	return fs.stat(rq, l)
}

// OpenFile opens a file's latest version or a folder's listing to read, or
// a file to write: closing it puts a new version.
func (fs *FS) OpenFile(ctx context.Context, name string, flag int, _ os.FileMode) (webdav.File, error) {
	rq := reqOf(ctx)
	write := flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0
	l, err := fs.resolve(rq, name)
	if errors.Is(err, os.ErrNotExist) && write {
		return nil, rq.fail(http.StatusConflict, os.ErrNotExist, noGroup(name))
	}
	if err != nil {
		return nil, err
	}
	if write {
		return fs.create(ctx, rq, l, flag)
	}
	if rq.version != "" {
		return fs.openVersion(ctx, rq, l)
	}
	fi, err := fs.stat(rq, l)
	if err != nil {
		return nil, err
	}
	if fi.dir {
		entries, err := fs.list(rq, l)
		return &dirFile{fi: fi, entries: entries}, err
	}
	s, err := fs.snapshot(rq, l.f.g)
	if err != nil {
		return nil, err
	}
	ver, val, err := s.v.Get(l.path)
	if err != nil {
		return nil, err
	}
	if op, err := s.v.Op(ver); err != nil {
		return nil, err
	} else if op.File != nil {
		_, r, err := fs.files.Open(ctx, l.f.g.ID, l.path, ver.At.ID)
		if err != nil {
			return nil, err
		}
		return &blobFile{FileReader: r, fi: fi}, nil
	}
	return &readFile{Reader: bytes.NewReader(val), fi: fi}, nil
}

func (fs *FS) create(ctx context.Context, rq *request, l loc, flag int) (webdav.File, error) {
	switch {
	case l.f == nil:
		return nil, rq.fail(http.StatusForbidden, os.ErrPermission, "the root holds one folder per group: files go inside a group's folder")
	case l.path == "":
		return nil, rq.fail(http.StatusMethodNotAllowed, os.ErrExist, "a group's folder is a folder, not a file")
	}
	fi, err := fs.stat(rq, l)
	switch {
	case err == nil && fi.dir:
		return nil, rq.fail(http.StatusMethodNotAllowed, os.ErrExist, fmt.Sprintf("%q is a folder, not a file", l.path))
	case err == nil && flag&os.O_EXCL != 0:
		return nil, rq.fail(http.StatusPreconditionFailed, os.ErrExist, fmt.Sprintf("%q exists", l.path))
	case err != nil && (!errors.Is(err, os.ErrNotExist) || flag&os.O_CREATE == 0):
		return nil, err
	}
	if err := fs.checkParent(rq, l); err != nil {
		return nil, err
	}
	g := l.f.g
	w := &writeFile{limit: int(g.Quota.MaxBody), fi: &info{name: path.Base(l.path), mod: time.Now()}, rq: rq,
		spillDir: filepath.Join(fs.n.Home.Dir, "tmp")}
	putFile := func(r io.Reader, size int64) (entry.ID, error) {
		f, _, err := fs.files.Put(ctx, g.ID, l.path, r, size, node.PutOptions{})
		if err != nil {
			return entry.ID{}, err
		}
		return f.Version.At.ID, nil
	}
	w.commit = func(value []byte) (entry.ID, error) {
		id, err := fs.n.DirPut(g.ID, l.path, value)
		if errors.Is(err, entry.ErrTooLarge) { // the value fits, but not with its path: a large file then
			id, err = putFile(bytes.NewReader(value), int64(len(value)))
		}
		return fs.wrote(rq, g.ID, l.path, id, err)
	}
	w.commitFile = func(r io.Reader, size int64) (entry.ID, error) {
		id, err := putFile(r, size)
		return fs.wrote(rq, g.ID, l.path, id, err)
	}
	if fi != nil && flag&os.O_TRUNC == 0 {
		s, err := fs.snapshot(rq, g)
		if err != nil {
			return nil, err
		}
		ver, val, err := s.v.Get(l.path)
		if err != nil {
			return nil, err
		}
		if op, err := s.v.Op(ver); err != nil || op.File != nil {
			return nil, rq.fail(http.StatusNotImplemented, os.ErrPermission, "a large file is written whole: PUT it again")
		}
		w.buf.Write(val)
		w.fi.size = int64(len(val))
	}
	return w, nil
}

// wrote notes a write of the folder view and turns its refusal into an answer.
func (fs *FS) wrote(rq *request, g entry.ID, p string, id entry.ID, err error) (entry.ID, error) {
	rq.changed(g)
	if err != nil {
		return id, rq.writeFailed(err)
	}
	fs.filled(g, p)
	return id, nil
}

// checkParent fails unless the folder l is in exists: a client makes
// folders before it writes into them, as on a disk.
func (fs *FS) checkParent(rq *request, l loc) error {
	parent := path.Dir(l.path)
	if parent == "." {
		return nil
	}
	fi, err := fs.stat(rq, loc{l.f, parent})
	switch {
	case errors.Is(err, os.ErrNotExist):
		return rq.fail(http.StatusConflict, os.ErrNotExist, fmt.Sprintf("no folder %q: make it first (MKCOL)", parent))
	case err != nil:
		return err
	case !fi.dir:
		return rq.fail(http.StatusConflict, os.ErrNotExist, fmt.Sprintf("%q is a file, not a folder", parent))
	}
	return nil
}

// writeFailed records why the node refused a write.
func (rq *request) writeFailed(err error) error {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, group.ErrNotAllowed), errors.Is(err, node.ErrNoKey):
		status = http.StatusForbidden
	case errors.Is(err, entry.ErrTooLarge):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, group.ErrOverQuota):
		status = http.StatusInsufficientStorage
	}
	return rq.fail(status, os.ErrPermission, err.Error())
}

// Mkdir makes an empty folder (see FS).
func (fs *FS) Mkdir(ctx context.Context, name string, _ os.FileMode) error {
	rq := reqOf(ctx)
	l, err := fs.resolve(rq, name)
	if errors.Is(err, os.ErrNotExist) {
		if !strings.Contains(strings.Trim(path.Clean("/"+name), "/"), "/") {
			return rq.fail(http.StatusForbidden, os.ErrPermission, "a group's folder appears when this node replicates the group: `hearsay group create` or `group join` it")
		}
		return rq.fail(http.StatusConflict, os.ErrNotExist, noGroup(name))
	}
	if err != nil {
		return err
	}
	if l.f == nil || l.path == "" {
		return rq.fail(http.StatusMethodNotAllowed, os.ErrExist, "that folder exists")
	}
	if _, err := fs.stat(rq, l); err == nil {
		return rq.fail(http.StatusMethodNotAllowed, os.ErrExist, fmt.Sprintf("%q exists", l.path))
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := fs.checkParent(rq, l); err != nil {
		return err
	}
	if !fs.addEmpty(l.f.g.ID, l.path) {
		return rq.fail(http.StatusInsufficientStorage, os.ErrPermission, fmt.Sprintf("this node keeps at most %d empty folders: write a file into one", maxEmpty))
	}
	return nil
}

// RemoveAll writes a tombstone for a file, or for every file in a folder;
// their versions stay in the group's history.
func (fs *FS) RemoveAll(ctx context.Context, name string) error {
	rq := reqOf(ctx)
	l, err := fs.resolve(rq, name)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if l.f == nil || l.path == "" {
		return rq.fail(http.StatusForbidden, os.ErrPermission, "a group's folder cannot be deleted: `hearsay group leave` stops replicating the group")
	}
	paths, err := fs.paths(rq, l)
	if err != nil {
		return err
	}
	for _, p := range paths {
		_, err := fs.n.DirRm(l.f.g.ID, p)
		rq.changed(l.f.g.ID)
		if err != nil {
			return rq.writeFailed(err)
		}
	}
	fs.dropEmpty(l.f.g.ID, l.path)
	fs.keepParent(rq, l)
	return nil
}

// paths lists the live paths l stands for: itself, and all under it.
func (fs *FS) paths(rq *request, l loc) ([]string, error) {
	s, err := fs.snapshot(rq, l.f.g)
	if err != nil {
		return nil, err
	}
	vs, err := s.find(l.path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range vs {
		if v.Path == l.path || strings.HasPrefix(v.Path, l.path+"/") {
			out = append(out, v.Path)
		}
	}
	return out, nil
}

// keepParent keeps the folder l was in when l was the last thing in it.
func (fs *FS) keepParent(rq *request, l loc) {
	parent := path.Dir(l.path)
	if parent == "." {
		return
	}
	if _, err := fs.stat(rq, loc{l.f, parent}); errors.Is(err, os.ErrNotExist) {
		fs.addEmpty(l.f.g.ID, parent)
	}
}

// Rename moves a file or folder: a put at each new path, then a tombstone
// at each old one, so that a crash between leaves a copy, never a loss.
// webdav has already cleared the destination when overwriting was asked.
func (fs *FS) Rename(ctx context.Context, oldName, newName string) error {
	rq := reqOf(ctx)
	const fixed = "a group's folder cannot be moved, renamed or replaced"
	from, err := fs.resolve(rq, oldName)
	if err != nil {
		return err
	}
	if from.f == nil || from.path == "" {
		return rq.fail(http.StatusForbidden, os.ErrPermission, fixed)
	}
	to, err := fs.resolve(rq, newName)
	if errors.Is(err, os.ErrNotExist) {
		return rq.fail(http.StatusConflict, os.ErrNotExist, noGroup(newName))
	}
	if err != nil {
		return err
	}
	if to.f == nil || to.path == "" {
		return rq.fail(http.StatusForbidden, os.ErrPermission, fixed)
	}
	if from.f.g.ID == to.f.g.ID && strings.HasPrefix(to.path+"/", from.path+"/") {
		return rq.fail(http.StatusConflict, os.ErrInvalid, "a folder cannot move into itself")
	}
	fi, err := fs.stat(rq, from)
	if err != nil {
		return err
	}
	if err := fs.checkParent(rq, to); err != nil {
		return err
	}
	var paths []string
	if fi.dir {
		s, err := fs.snapshot(rq, from.f.g)
		if err != nil {
			return err
		}
		vs, err := s.find(from.path + "/")
		if err != nil {
			return err
		}
		for _, v := range vs {
			paths = append(paths, v.Path)
		}
	} else {
		paths = []string{from.path}
	}
	src, err := fs.snapshot(rq, from.f.g)
	if err != nil {
		return err
	}
	values := make([][]byte, len(paths))
	for i, p := range paths {
		if _, values[i], err = src.v.Get(p); err != nil {
			return err
		}
	}
	for i, p := range paths {
		dst := to.path + strings.TrimPrefix(p, from.path)
		_, err := fs.n.DirPut(to.f.g.ID, dst, values[i])
		rq.changed(to.f.g.ID)
		if err != nil {
			return rq.writeFailed(err)
		}
		fs.filled(to.f.g.ID, dst)
	}
	for _, p := range paths {
		_, err := fs.n.DirRm(from.f.g.ID, p)
		rq.changed(from.f.g.ID)
		if err != nil {
			return rq.writeFailed(err)
		}
	}
	for p, at := range fs.dropEmpty(from.f.g.ID, from.path) {
		fs.addEmptyAt(to.f.g.ID, to.path+strings.TrimPrefix(p, from.path), at)
	}
	fs.keepParent(rq, from)
	return nil
}

func noGroup(name string) string {
	top, _, _ := strings.Cut(strings.Trim(path.Clean("/"+name), "/"), "/")
	return fmt.Sprintf("no group folder %q: the root lists the groups this node replicates, as <name>-<first 12 hex digits of the id>", top)
}

// isEmptyFolder reports whether p is an empty folder FS keeps, and since when.
func (fs *FS) isEmptyFolder(g entry.ID, p string) (time.Time, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	at, ok := fs.empty[g][p]
	return at, ok
}

// emptyFolders are the empty folders kept right inside parent ("" for the
// group's folder).
func (fs *FS) emptyFolders(g entry.ID, parent string) map[string]time.Time {
	if parent == "" {
		parent = "."
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := map[string]time.Time{}
	for p, at := range fs.empty[g] {
		if path.Dir(p) == parent {
			out[p] = at
		}
	}
	return out
}

func (fs *FS) addEmpty(g entry.ID, p string) bool { return fs.addEmptyAt(g, p, time.Now()) }

func (fs *FS) addEmptyAt(g entry.ID, p string, at time.Time) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if _, ok := fs.empty[g][p]; ok {
		return true
	}
	if fs.nEmpty >= maxEmpty {
		return false
	}
	if fs.empty[g] == nil {
		fs.empty[g] = map[string]time.Time{}
	}
	fs.empty[g][p] = at
	fs.nEmpty++
	return true
}

// dropEmpty forgets the empty folders at and under p, and returns them.
func (fs *FS) dropEmpty(g entry.ID, p string) map[string]time.Time {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := map[string]time.Time{}
	for q, at := range fs.empty[g] {
		if q == p || strings.HasPrefix(q, p+"/") {
			out[q] = at
			delete(fs.empty[g], q)
			fs.nEmpty--
		}
	}
	return out
}

// filled forgets the empty folders that p, just written, is in: they exist
// by it now.
func (fs *FS) filled(g entry.ID, p string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if _, ok := fs.empty[g][d]; ok {
			delete(fs.empty[g], d)
			fs.nEmpty--
		}
	}
}

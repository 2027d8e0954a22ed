package dav

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/node"

	"golang.org/x/net/webdav"
)

// info describes a file or folder. It is a pointer so that a written file's
// info, taken before the file is closed, learns the version Close wrote.
type info struct {
	name    string
	dir     bool
	size    int64
	mod     time.Time
	version entry.ID // a file's latest version; zero for folders
}

func (i *info) Name() string       { return i.name }
func (i *info) Size() int64        { return i.size }
func (i *info) ModTime() time.Time { return i.mod }
func (i *info) IsDir() bool        { return i.dir }
func (i *info) Sys() any           { return nil }

func (i *info) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

// ETag is a file's version id: it changes with every write, on every
// replica alike.
func (i *info) ETag(context.Context) (string, error) {
	if i.version.IsZero() {
		return "", webdav.ErrNotImplemented
	}
	return `"` + i.version.String() + `"`, nil
}

// ContentType goes by the extension; webdav sniffs the content without one.
func (i *info) ContentType(context.Context) (string, error) {
	if t := mime.TypeByExtension(path.Ext(i.name)); t != "" {
		return t, nil
	}
	return "", webdav.ErrNotImplemented
}

// errNotSupported answers what a handle cannot do (reading a folder,
// listing a file, writing a file opened to read).
var errNotSupported = &fs.PathError{Op: "use", Err: fs.ErrInvalid}

// dirFile is an open folder: its listing, taken when it was opened.
type dirFile struct {
	fi      *info
	entries []os.FileInfo
	pos     int
}

func (d *dirFile) Close() error                   { return nil }
func (d *dirFile) Read([]byte) (int, error)       { return 0, errNotSupported }
func (d *dirFile) Write([]byte) (int, error)      { return 0, errNotSupported }
func (d *dirFile) Seek(int64, int) (int64, error) { return 0, errNotSupported }
func (d *dirFile) Stat() (os.FileInfo, error)     { return d.fi, nil }
func (d *dirFile) Readdir(count int) ([]fs.FileInfo, error) {
	rest := d.entries[d.pos:]
	if count <= 0 {
		d.pos = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n := min(count, len(rest))
	d.pos += n
	return rest[:n], nil
}

// blobFile is an open large file's latest version, read from its shards
// stripe by stripe (Range requests read only the stripes they cover).
type blobFile struct {
	*node.FileReader
	fi *info
}

func (f *blobFile) Write([]byte) (int, error)          { return 0, errNotSupported }
func (f *blobFile) Stat() (os.FileInfo, error)         { return f.fi, nil }
func (f *blobFile) Readdir(int) ([]fs.FileInfo, error) { return nil, errNotSupported }

// readFile is an open file's latest version.
type readFile struct {
	*bytes.Reader
	fi *info
}

func (f *readFile) Close() error                       { return nil }
func (f *readFile) Write([]byte) (int, error)          { return 0, errNotSupported }
func (f *readFile) Stat() (os.FileInfo, error)         { return f.fi, nil }
func (f *readFile) Readdir(int) ([]fs.FileInfo, error) { return nil, errNotSupported }

// writeFile collects a new version: up to limit bytes in memory, to become
// a directory value; beyond, in a temporary file in the node's home, to
// become a large file (package blob). Close writes it.
type writeFile struct {
	buf        bytes.Buffer
	limit      int
	spillDir   string
	spill      *os.File // nil until the content outgrows limit
	fi         *info
	commit     func(value []byte) (entry.ID, error)
	commitFile func(r io.Reader, size int64) (entry.ID, error)
	rq         *request
	broken     bool // a write was refused
}

func (f *writeFile) Write(p []byte) (int, error) {
	if f.spill == nil && f.buf.Len()+len(p) > f.limit {
		if err := os.MkdirAll(f.spillDir, 0o700); err != nil {
			return 0, err
		}
		tmp, err := os.CreateTemp(f.spillDir, ".dav-put-")
		if err != nil {
			return 0, err
		}
		f.spill = tmp
		if _, err := tmp.Write(f.buf.Bytes()); err != nil {
			f.broken = true
			return 0, err
		}
		f.buf = bytes.Buffer{}
	}
	f.fi.size += int64(len(p))
	if f.spill != nil {
		n, err := f.spill.Write(p)
		if err != nil {
			f.broken = true
		}
		return n, err
	}
	return f.buf.Write(p)
}

// Close writes the version, unless what was to fill it did not all come.
func (f *writeFile) Close() error {
	if f.spill != nil {
		defer os.Remove(f.spill.Name())
		defer f.spill.Close()
	}
	if f.broken || f.rq.bodyErr != nil {
		return fs.ErrInvalid
	}
	var id entry.ID
	var err error
	if f.spill == nil {
		id, err = f.commit(f.buf.Bytes())
	} else if _, err = f.spill.Seek(0, io.SeekStart); err == nil {
		id, err = f.commitFile(f.spill, f.fi.size)
	}
	if err != nil {
		return err
	}
	f.fi.version = id
	return nil
}

func (f *writeFile) Read([]byte) (int, error)           { return 0, errNotSupported }
func (f *writeFile) Seek(int64, int) (int64, error)     { return 0, errNotSupported }
func (f *writeFile) Stat() (os.FileInfo, error)         { return f.fi, nil }
func (f *writeFile) Readdir(int) ([]fs.FileInfo, error) { return nil, errNotSupported }

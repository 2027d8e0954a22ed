package dav

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path"

	"hearsay/internal/entry"
	"hearsay/internal/node"
	"hearsay/internal/view"

	"golang.org/x/net/webdav"
)

// openVersion opens the version of a file that ?version= names (an entry
// id or a unique prefix, as `hearsay dir history` lists them), to read:
// GET file?version=ID gives an old value back, with that version's ETag.
func (fs *FS) openVersion(ctx context.Context, rq *request, l loc) (webdav.File, error) {
	if l.f == nil || l.path == "" {
		return nil, rq.fail(http.StatusBadRequest, os.ErrInvalid, "?version= names a version of a file, not of a folder")
	}
	s, err := fs.snapshot(rq, l.f.g)
	if err != nil {
		return nil, err
	}
	ver, op, err := fs.n.DirVersion(s.v, l.path, rq.version)
	switch {
	case errors.Is(err, view.ErrNoPath), errors.Is(err, node.ErrNoEntry):
		return nil, rq.fail(http.StatusNotFound, os.ErrNotExist, err.Error())
	case errors.Is(err, node.ErrAmbiguous):
		return nil, rq.fail(http.StatusConflict, os.ErrInvalid, err.Error())
	case errors.Is(err, entry.ErrMalformedID):
		return nil, rq.fail(http.StatusBadRequest, os.ErrInvalid, err.Error())
	case err != nil:
		return nil, err
	}
	fi, err := s.fileInfo(path.Base(l.path), ver)
	if err != nil {
		return nil, err
	}
	if op.File != nil {
		_, r, err := fs.files.Open(ctx, l.f.g.ID, l.path, ver.At.ID)
		if err != nil {
			return nil, err
		}
		return &blobFile{FileReader: r, fi: fi}, nil
	}
	return &readFile{Reader: bytes.NewReader(op.Value), fi: fi}, nil
}

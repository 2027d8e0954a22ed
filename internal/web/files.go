package web

import (
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/node"
)

// FilePut answers a file upload.
type FilePut struct {
	ID       string   `json:"id"` // the manifest entry: the new version of the path
	Size     int64    `json:"size"`
	K        int      `json:"k"`
	M        int      `json:"m"`
	Content  string   `json:"content"`
	Holders  []string `json:"holders"` // distinct peers that hold a shard, this node included
	Sent     int      `json:"sent"`    // shards sent to peers by this upload
	Problems []string `json:"problems,omitempty"`
}

// files reaches large files through the network when the node serves one.
func (s *Server) files() node.Files { return node.Files{N: s.n, Net: s.nw} }

// putFile stores the body as a new version of a large file: coded into
// shards and placed on peers before it answers. The body must say its
// length.
func (s *Server) putFile(w http.ResponseWriter, r *http.Request) {
	g, err := s.groupOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if r.ContentLength < 0 {
		fail(w, http.StatusLengthRequired, CodeBadRequest, "a file upload must carry Content-Length")
		return
	}
	var o node.PutOptions
	if k := r.URL.Query().Get("k"); k != "" {
		if o.K, err = strconv.Atoi(k); err != nil || o.K < 1 {
			fail(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("k=%q: want a whole number from 1", k))
			return
		}
		if o.M, err = strconv.Atoi(r.URL.Query().Get("m")); err != nil || o.M < 0 {
			fail(w, http.StatusBadRequest, CodeBadRequest, "with k, give m (0 or more)")
			return
		}
	}
	f, pl, err := s.files().Put(r.Context(), g.ID, r.PathValue("path"), r.Body, r.ContentLength, o)
	if err != nil {
		writeError(w, err)
		return
	}
	p := f.Params()
	writeJSON(w, http.StatusCreated, FilePut{ID: f.Version.At.ID.String(), Size: int64(f.M.Size), K: p.K, M: p.M,
		Content: f.M.ContentID().String(), Holders: pl.Holders, Sent: pl.Sent, Problems: pl.Errors})
}

// fileOf reads the file a request names: ?version= (an entry id or
// prefix) or the latest, with its shard table.
func (s *Server) fileOf(r *http.Request) (*node.File, error) {
	g, err := s.groupOf(r)
	if err != nil {
		return nil, err
	}
	var version entry.ID
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = s.n.ResolveEntry(g.ID, v); err != nil {
			return nil, err
		}
	}
	f, err := s.n.FileOf(g.ID, r.PathValue("path"), version)
	if err != nil {
		return nil, err
	}
	return f, s.n.LoadTable(r.Context(), f, s.files().Source(g.ID))
}

// getFile streams a file's content, verified stripe by stripe; Range
// requests read only the stripes they cover.
func (s *Server) getFile(w http.ResponseWriter, r *http.Request) {
	f, err := s.fileOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	fr, err := node.OpenFile(r.Context(), f, s.files().Source(f.Group))
	if err != nil {
		writeError(w, err)
		return
	}
	defer fr.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Hearsay-Content", f.M.ContentID().String())
	w.Header().Set("ETag", `"`+f.M.ContentID().String()+`"`)
	if v := r.URL.Query().Get("from"); v != "" { // what a resumed `file get` lacks: the rest, from an offset
		from, err := strconv.ParseInt(v, 10, 64)
		if err != nil || from < 0 || from > fr.Size() {
			fail(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("from=%q: want an offset in [0, %d]", v, fr.Size()))
			return
		}
		fr.Seek(from, io.SeekStart)
		w.Header().Set("Content-Length", strconv.FormatInt(fr.Size()-from, 10))
		io.Copy(w, fr) // once the body has started, an error can only cut it short: the reader sees a short body
		return
	}
	http.ServeContent(w, r, path.Base(f.Path), time.UnixMilli(int64(f.Version.At.HLC.Millis())), fr)
}

// fileStatus reports a file's health.
func (s *Server) fileStatus(r *http.Request) (result, error) {
	f, err := s.fileOf(r)
	if err != nil {
		return result{}, err
	}
	st, err := node.Health(r.Context(), f, s.files().Source(f.Group))
	if err != nil {
		return result{}, err
	}
	return ok(st)
}

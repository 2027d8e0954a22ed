// Package dav serves a node's groups as a folder tree over WebDAV
// (golang.org/x/net/webdav), so that an operating system can mount them.
//
// The root holds one folder per replicated group, named
// "<name>-<first 12 hex digits of its id>"; under it, the paths of the
// group's directory view are files and folders. Reading a file gives its
// latest version (GET file?version=ID an older one: openVersion); writing
// one puts a new version (up to the group's entry
// size a directory value, beyond it a large file coded into shards on
// peers, package blob); deleting one writes a
// tombstone (every version stays in the group's history); a move is a put
// at the new path and a tombstone at the old, a copy a put. Folders exist
// because a path under them does; an empty folder made with MKCOL lives in
// this process's memory until a file is written into it (see FS).
//
// Authentication is the caller's (package api); this package trusts every
// request it is given.
package dav

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"hearsay/internal/node"

	"golang.org/x/net/webdav"
)

// Handler serves the node's groups under prefix (say "/dav"); large files
// move through files.
func Handler(n *node.Node, files node.Files, prefix string) http.Handler {
	return handler{&webdav.Handler{Prefix: prefix, FileSystem: New(n, files), LockSystem: webdav.NewMemLS()}}
}

// handler gives each request the state its file system calls share, and
// answers failures with the reason its file system recorded.
type handler struct{ dav *webdav.Handler }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if hostile(r) {
		http.Error(w, "path: an encoded . or .. segment, /, or NUL is refused", http.StatusBadRequest)
		return
	}
	req := &request{version: r.URL.Query().Get("version")}
	if req.version != "" && r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "?version= reads an old version of a file: GET or HEAD only", http.StatusBadRequest)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), requestKey{}, req))
	r.Body = &body{r.Body, req}
	h.dav.ServeHTTP(&answer{ResponseWriter: w, req: req}, r)
}

// hostile reports a request whose path or Destination has an encoded
// segment that decodes to "." or "..", or holds a "/" or a NUL: webdav
// would clean it into another path (sub/%2e%2e/x becomes x) and write
// where the client did not name. (Plain dot segments are what clients
// clean themselves; they are cleaned here too, never climbed out of.)
func hostile(r *http.Request) bool {
	paths := []string{r.URL.EscapedPath()}
	if d := r.Header.Get("Destination"); d != "" {
		u, err := url.Parse(d)
		if err != nil {
			return true
		}
		paths = append(paths, u.EscapedPath())
	}
	for _, p := range paths {
		for _, seg := range strings.Split(p, "/") {
			s, err := url.PathUnescape(seg)
			if err != nil || (s != seg && (s == "." || s == "..")) || strings.ContainsAny(s, "/\x00") {
				return true
			}
		}
	}
	return false
}

// body notes a request body that broke off. NB: webdav closes (so commits)
// a file it was copying a body into even when the copy failed; a file
// checks bodyErr before it writes a version.
type body struct {
	io.ReadCloser
	req *request
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.req.bodyErr = err
	}
	return n, err
}

// failure is an error with the status and reason the client is given.
// NB: webdav.Handler maps every FileSystem error to a fixed status (a
// refused write becomes 405, whatever the cause) and writes only the status
// text; the file system records a failure and answer puts it on the wire.
type failure struct {
	status int
	reason string
}

// fail records why the current operation fails and returns base (an
// os.ErrNotExist, ErrExist, ErrPermission or ErrInvalid: what webdav tests
// for) for the handler.
func (rq *request) fail(status int, base error, reason string) error {
	rq.failure = &failure{status, reason}
	return base
}

// answer is the response writer of one request: the first error status
// webdav writes is replaced by the recorded failure, if there is one.
type answer struct {
	http.ResponseWriter
	req      *request
	replaced bool
}

func (a *answer) WriteHeader(code int) {
	f := a.req.failure
	if code < 400 || f == nil {
		a.ResponseWriter.WriteHeader(code)
		return
	}
	a.replaced = true
	a.Header().Set("Content-Type", "text/plain; charset=utf-8")
	a.ResponseWriter.WriteHeader(f.status)
	io.WriteString(a.ResponseWriter, f.reason+"\n")
}

// Write drops the status text webdav writes after an error it replaced.
func (a *answer) Write(p []byte) (int, error) {
	if a.replaced {
		return len(p), nil
	}
	return a.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (a *answer) Unwrap() http.ResponseWriter { return a.ResponseWriter }

type requestKey struct{}

// reqOf is the state of the request ctx belongs to; a call from outside a
// request (a test) gets a fresh one.
func reqOf(ctx context.Context) *request {
	if r, ok := ctx.Value(requestKey{}).(*request); ok {
		return r
	}
	return &request{}
}

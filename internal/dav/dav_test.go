package dav

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/store"
	"hearsay/internal/view"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func newNode(t *testing.T) *node.Node {
	t.Helper()
	h, _, err := home.Init(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(h, store.Options{FS: vfs.NewMem()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func newGroup(t *testing.T, n *node.Node, name string, write group.WritePolicy) *group.Group {
	t.Helper()
	id, err := n.CreateGroup(group.Genesis{Name: name, Write: write, Read: group.ReadPublic, Quota: group.DefaultQuota})
	if err != nil {
		t.Fatal(err)
	}
	g, err := n.Store.Group(id)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// server sends requests straight to the handler, so that a panic fails
// the test instead of being recovered by net/http.
type server struct {
	t *testing.T
	h http.Handler
}

func (s server) do(method, target string, body string, header ...string) *httptest.ResponseRecorder {
	s.t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w
}

// want checks a response's status and that its body contains each of parts.
func (s server) want(w *httptest.ResponseRecorder, status int, parts ...string) {
	s.t.Helper()
	if w.Code != status {
		s.t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body.String())
	}
	for _, p := range parts {
		if !strings.Contains(w.Body.String(), p) {
			s.t.Fatalf("no %q in %s", p, w.Body.String())
		}
	}
}

func get(t *testing.T, n *node.Node, g entry.ID, path string) (string, error) {
	t.Helper()
	v, err := n.View(g)
	if err != nil {
		t.Fatal(err)
	}
	_, val, err := v.Get(path)
	return string(val), err
}

func history(t *testing.T, n *node.Node, g entry.ID, path string) []string {
	t.Helper()
	v, err := n.View(g)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := v.History(path)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, ver := range vs {
		ops = append(ops, ver.Op)
	}
	return ops
}

func TestFolders(t *testing.T) {
	n := newNode(t)
	g := newGroup(t, n, "notes/2026", group.WriteMembers)
	n.DirPut(g.ID, "todo/today", []byte("write the docs"))
	n.DirPut(g.ID, "readme", []byte("hello"))
	n.DirPut(g.ID, "readme", []byte("hello again"))
	n.DirPut(g.ID, "both", []byte("a file"))
	n.DirPut(g.ID, "both/inside", []byte("and a folder"))
	s := server{t, Handler(n, node.Files{N: n}, "/dav")}
	top := "/dav/" + FolderName(g)
	if FolderName(g) != "notes_2026-"+g.ID.String()[:12] {
		t.Fatalf("folder name %q", FolderName(g))
	}

	s.want(s.do("PROPFIND", "/dav/", "", "Depth", "1"), http.StatusMultiStatus, "<D:href>"+top+"/</D:href>")
	w := s.do("PROPFIND", top+"/", "", "Depth", "1")
	s.want(w, http.StatusMultiStatus, top+"/todo/", top+"/readme<", top+"/both/<")
	if strings.Contains(w.Body.String(), top+"/both<") {
		t.Fatalf("a path that is a file and a folder is listed as both: %s", w.Body.String())
	}
	s.want(s.do("PROPFIND", top+"/todo/today", "", "Depth", "0"), http.StatusMultiStatus, "<D:getcontentlength>14</D:getcontentlength>")

	w = s.do("GET", top+"/readme", "")
	s.want(w, http.StatusOK, "hello again")
	v, _ := n.View(g.ID)
	latest, _, _ := v.Get("readme")
	if w.Header().Get("ETag") != `"`+latest.At.ID.String()+`"` {
		t.Fatalf("ETag %q, want the latest version's id", w.Header().Get("ETag"))
	}
	s.want(s.do("GET", top+"/nothere", ""), http.StatusNotFound)
	s.want(s.do("GET", "/dav/nosuch-000000000000/readme", ""), http.StatusNotFound)

	// Writing puts a version; the history keeps the earlier ones.
	s.want(s.do("PUT", top+"/readme", "third"), http.StatusCreated)
	if got, _ := get(t, n, g.ID, "readme"); got != "third" {
		t.Fatalf("readme after PUT: %q", got)
	}
	if h := history(t, n, g.ID, "readme"); len(h) != 3 {
		t.Fatalf("readme history: %v", h)
	}
	s.want(s.do("PUT", top+"/todo/tomorrow", ""), http.StatusCreated)
	if got, err := get(t, n, g.ID, "todo/tomorrow"); got != "" || err != nil {
		t.Fatalf("an empty file: %q, %v", got, err)
	}

	// Deleting writes a tombstone.
	s.want(s.do("DELETE", top+"/readme", ""), http.StatusNoContent)
	if _, err := get(t, n, g.ID, "readme"); !errors.Is(err, view.ErrNoPath) {
		t.Fatalf("readme after DELETE: %v", err)
	}
	if h := history(t, n, g.ID, "readme"); len(h) != 4 || h[0] != group.OpRm {
		t.Fatalf("readme history after DELETE, newest first: %v", h)
	}
	s.want(s.do("DELETE", top+"/readme", ""), http.StatusNotFound)
	s.want(s.do("DELETE", top+"/both", ""), http.StatusNoContent)
	if _, err := get(t, n, g.ID, "both"); err == nil {
		t.Fatal("deleting a folder left the file of the same path")
	}
}

func TestFoldersAndMoves(t *testing.T) {
	n := newNode(t)
	g := newGroup(t, n, "demo", group.WriteMembers)
	s := server{t, Handler(n, node.Files{N: n}, "/dav")}
	top := "/dav/" + FolderName(g)

	s.want(s.do("PUT", top+"/a/b/c.txt", "x"), http.StatusConflict, `no folder "a/b": make it first (MKCOL)`)
	s.want(s.do("MKCOL", top+"/a/b", ""), http.StatusConflict, `no folder "a"`)
	s.want(s.do("MKCOL", top+"/a", ""), http.StatusCreated)
	s.want(s.do("MKCOL", top+"/a", ""), http.StatusMethodNotAllowed, "exists")
	s.want(s.do("MKCOL", top+"/a/b", ""), http.StatusCreated)
	s.want(s.do("PROPFIND", top+"/a/", "", "Depth", "1"), http.StatusMultiStatus, top+"/a/b/")
	s.want(s.do("PUT", top+"/a/b/c.txt", "x"), http.StatusCreated)
	s.want(s.do("PUT", top+"/a/b/c.txt/d", "x"), http.StatusConflict, `"a/b/c.txt" is a file`)
	s.want(s.do("MKCOL", top+"/a/b/c.txt", ""), http.StatusMethodNotAllowed)
	s.want(s.do("PUT", top+"/a/b", "x"), http.StatusMethodNotAllowed, "is a folder")
	s.want(s.do("GET", top+"/a", ""), http.StatusMethodNotAllowed)

	// A move is a put at the new path and a tombstone at the old.
	s.want(s.do("MOVE", top+"/a/b/c.txt", "", "Destination", top+"/a/moved.txt"), http.StatusCreated)
	if got, _ := get(t, n, g.ID, "a/moved.txt"); got != "x" {
		t.Fatalf("moved file: %q", got)
	}
	if h := history(t, n, g.ID, "a/b/c.txt"); len(h) != 2 || h[0] != group.OpRm {
		t.Fatalf("history of a moved file: %v", h)
	}
	// The folder it left stays, as on a disk.
	s.want(s.do("PROPFIND", top+"/a/b", "", "Depth", "0"), http.StatusMultiStatus)
	s.want(s.do("COPY", top+"/a/moved.txt", "", "Destination", top+"/a/b/copy.txt"), http.StatusCreated)
	s.want(s.do("COPY", top+"/a/moved.txt", "", "Destination", top+"/a/b/copy.txt", "Overwrite", "F"), http.StatusPreconditionFailed)
	s.want(s.do("MOVE", top+"/a", "", "Destination", top+"/z"), http.StatusCreated)
	for _, p := range []string{"z/moved.txt", "z/b/copy.txt"} {
		if got, err := get(t, n, g.ID, p); got != "x" || err != nil {
			t.Fatalf("%s after moving its folder: %q, %v", p, got, err)
		}
	}
	s.want(s.do("PROPFIND", top+"/a", "", "Depth", "0"), http.StatusNotFound)
	s.want(s.do("MOVE", top+"/z", "", "Destination", top+"/z/inside"), http.StatusConflict, "cannot move into itself")
	s.want(s.do("COPY", top+"/z", "", "Destination", top+"/y"), http.StatusCreated)
	if got, _ := get(t, n, g.ID, "y/b/copy.txt"); got != "x" {
		t.Fatalf("copied folder: %q", got)
	}

	// The root and the groups' folders are not the client's to change.
	s.want(s.do("MKCOL", "/dav/newgroup", ""), http.StatusForbidden, "hearsay group create")
	s.want(s.do("PUT", "/dav/file", "x"), http.StatusConflict, "no group folder")
	s.want(s.do("DELETE", top, ""), http.StatusForbidden, "hearsay group leave")
	s.want(s.do("MOVE", top, "", "Destination", "/dav/renamed"), http.StatusForbidden)
	s.want(s.do("MOVE", top+"/z", "", "Destination", "/dav/", "Overwrite", "T"), http.StatusForbidden)
	s.want(s.do("MKCOL", top, ""), http.StatusMethodNotAllowed)
}

func TestRefusals(t *testing.T) {
	n, owner := newNode(t), newNode(t)
	g := newGroup(t, n, "demo", group.WriteMembers)
	theirs := newGroup(t, owner, "theirs", group.WriteOwner)
	var file bytes.Buffer
	owner.DirPut(theirs.ID, "law", []byte("only the owner writes"))
	owner.Export(theirs.ID, &file)
	if _, err := n.Import(&file); err != nil {
		t.Fatal(err)
	}
	s := server{t, Handler(n, node.Files{N: n}, "/dav")}
	top, their := "/dav/"+FolderName(g), "/dav/"+FolderName(theirs)

	s.want(s.do("GET", their+"/law", ""), http.StatusOK, "only the owner writes")
	s.want(s.do("PUT", their+"/law", "mine now"), http.StatusForbidden, "may not write")
	s.want(s.do("DELETE", their+"/law", ""), http.StatusForbidden, "may not write")
	if got, _ := get(t, n, theirs.ID, "law"); got != "only the owner writes" {
		t.Fatalf("a refused write changed the file: %q", got)
	}

	// Beyond what one entry holds, a file is a large file: coded into
	// shards (here all on this node), read back whole and in ranges.
	big := strings.Repeat("0123456789", int(g.Quota.MaxBody)/2)
	s.want(s.do("PUT", top+"/big", big), http.StatusCreated)
	s.want(s.do("PUT", top+"/nearly", big[:g.Quota.MaxBody-8]), http.StatusCreated)
	for name, want := range map[string]string{"big": big, "nearly": big[:g.Quota.MaxBody-8]} {
		if f, err := n.FileOf(g.ID, name, entry.ID{}); err != nil || int(f.M.Size) != len(want) {
			t.Fatalf("%s is not a large file of %d bytes: %v", name, len(want), err)
		}
		if w := s.do("GET", top+"/"+name, ""); w.Code != http.StatusOK || w.Body.String() != want {
			t.Fatalf("GET %s: %d, %d bytes", name, w.Code, w.Body.Len())
		}
	}
	if w := s.do("GET", top+"/big", "", "Range", "bytes=100005-100014"); w.Code != http.StatusPartialContent || w.Body.String() != "5678901234" {
		t.Fatalf("a range of a large file: %d %q", w.Code, w.Body.String())
	}

	// A body that breaks off writes no version.
	r := httptest.NewRequest("PUT", top+"/cut", io.MultiReader(strings.NewReader("half"), errReader{}))
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	if _, err := get(t, n, g.ID, "cut"); err == nil || w.Code < 400 {
		t.Fatalf("a broken upload: status %d, stored: %v", w.Code, err == nil)
	}

	for _, p := range []string{top + "/a%01b", top + "/tab%09", top + "/" + strings.Repeat("x", group.MaxPath+1)} {
		s.want(s.do("PUT", p, "x"), http.StatusBadRequest)
		s.want(s.do("PROPFIND", p, "", "Depth", "0"), http.StatusBadRequest)
		s.want(s.do("MKCOL", p, ""), http.StatusBadRequest)
	}
	s.want(s.do("PUT", top+"/x", "1"), http.StatusCreated)
	s.want(s.do("MOVE", top+"/x", "", "Destination", top+"/a%01b"), http.StatusBadRequest)
	// Dots are cleaned away before a path is read, never climbed out of.
	s.want(s.do("GET", top+"/../"+FolderName(g)+"/x", ""), http.StatusOK, "1")
	s.want(s.do("GET", "/dav/../../etc/passwd", ""), http.StatusNotFound)
}

// TestOddRequests: nothing a client sends crashes the handler or gets a 5xx
// (but 502, the answer to a destination on another server).
func TestOddRequests(t *testing.T) {
	n := newNode(t)
	g := newGroup(t, n, "demo", group.WriteMembers)
	n.DirPut(g.ID, "f", []byte("x"))
	s := server{t, Handler(n, node.Files{N: n}, "/dav")}
	top := "/dav/" + FolderName(g)
	bodies := []string{"", "<", `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:nope/></D:prop></D:propfind>`,
		`<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:a xmlns:x="urn:x">1</x:a></D:prop></D:set></D:propertyupdate>`,
		`<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`}
	headers := [][]string{nil, {"Depth", "infinity"}, {"Depth", "banana"}, {"Destination", "http://elsewhere/x"}, {"Destination", "%zz"},
		{"If", "(<opaquelocktoken:nope>)"}, {"If", "(("}, {"Timeout", "Second-x"}, {"Destination", top + "/g", "Overwrite", "T"}}
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "PROPFIND", "PROPPATCH", "BREW"} {
		for _, p := range []string{"/dav/", "/dav", "/elsewhere", top, top + "/", top + "/f", top + "/missing/deeper", "/dav//" + FolderName(g) + "//f"} {
			for _, b := range bodies {
				for _, h := range headers {
					if w := s.do(m, p, b, h...); w.Code >= 500 && w.Code != http.StatusBadGateway {
						t.Fatalf("%s %s %v with %q: %d %s", m, p, h, b, w.Code, w.Body.String())
					}
				}
			}
		}
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestEncodedDotsAndSlashes: a path or Destination with an encoded ".." or
// "/" is refused, and nothing is written, rather than cleaned into another
// path.
func TestEncodedDotsAndSlashes(t *testing.T) {
	n := newNode(t)
	g := newGroup(t, n, "demo", group.WriteMembers)
	s := server{t, Handler(n, node.Files{N: n}, "/dav")}
	top := "/dav/" + FolderName(g)
	s.want(s.do("MKCOL", top+"/sub", ""), http.StatusCreated)
	s.want(s.do("PUT", top+"/sub/ok", "1"), http.StatusCreated)
	for _, p := range []string{top + "/sub/%2e%2e/evil", top + "/sub/%2E%2e/evil", top + "/sub/.%2e/evil", top + "/sub/%2e/evil",
		top + "/sub%2fevil", top + "/sub/a%2F..%2Fevil", top + "/nul%00"} {
		for _, m := range []string{"PUT", "GET", "DELETE", "MKCOL", "PROPFIND"} {
			s.want(s.do(m, p, "x"), http.StatusBadRequest, "refused")
		}
	}
	s.want(s.do("MOVE", top+"/sub/ok", "", "Destination", top+"/sub/%2e%2e/evil"), http.StatusBadRequest, "refused")
	s.want(s.do("COPY", top+"/sub/ok", "", "Destination", top+"/a%2fb"), http.StatusBadRequest, "refused")
	v, err := n.View(g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if vers, err := v.Find(""); err != nil || len(vers) != 1 || vers[0].Path != "sub/ok" {
		t.Fatalf("paths stored: %+v, %v", vers, err)
	}
}

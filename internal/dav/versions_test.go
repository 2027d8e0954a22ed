package dav

import (
	"net/http"
	"testing"

	"hearsay/internal/group"
	"hearsay/internal/node"
)

// TestOldVersions: GET file?version=ID reads the version dir history
// lists, by its id or a prefix, with that version's ETag; a removed path's
// old values stay readable.
func TestOldVersions(t *testing.T) {
	n := newNode(t)
	g := newGroup(t, n, "notes", group.WriteMembers)
	first, _ := n.DirPut(g.ID, "readme", []byte("hello"))
	n.DirPut(g.ID, "readme", []byte("hello again"))
	rm, _ := n.DirRm(g.ID, "readme")
	other, _ := n.DirPut(g.ID, "other", []byte("elsewhere"))
	s := server{t, Handler(n, node.Files{N: n}, "/dav")}
	top := "/dav/" + FolderName(g)

	s.want(s.do("GET", top+"/readme", ""), http.StatusNotFound)
	for _, v := range []string{first.String(), first.String()[:8]} {
		w := s.do("GET", top+"/readme?version="+v, "")
		s.want(w, http.StatusOK, "hello")
		if w.Body.String() != "hello" || w.Header().Get("ETag") != `"`+first.String()+`"` {
			t.Fatalf("version %s: %q, ETag %q", v, w.Body.String(), w.Header().Get("ETag"))
		}
	}
	s.want(s.do("HEAD", top+"/readme?version="+first.String()[:8], ""), http.StatusOK)
	s.want(s.do("GET", top+"/readme?version="+rm.String()[:8], ""), http.StatusNotFound, "that version removed it")
	s.want(s.do("GET", top+"/readme?version="+other.String()[:8], ""), http.StatusNotFound, "dir history")
	s.want(s.do("GET", top+"/readme?version=xyz", ""), http.StatusBadRequest, "malformed id")
	s.want(s.do("GET", top+"/?version="+first.String()[:8], ""), http.StatusBadRequest, "not of a folder")
	s.want(s.do("PUT", top+"/readme?version="+first.String()[:8], "x"), http.StatusBadRequest, "GET or HEAD only")
}

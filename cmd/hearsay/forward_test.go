package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"hearsay/internal/home"
)

// TestNodeKilledMidRequest: the serving node stores a post, then dies
// (SIGKILL) before it answers. The CLI must not take the broken
// connection for "no node" and post again on the local store: the post is
// stored once, and the user is told it may have run.
func TestNodeKilledMidRequest(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	s := serve(t, dir, "--home", "a")
	rec := filepath.Join(dir, "a", "node.json")
	running, ok := home.ReadRunning(filepath.Join(dir, "a"))
	if !ok {
		t.Fatal("no record of the serving node")
	}
	// Between the CLI and the node, a proxy passes the first request on,
	// and once the node has answered it, kills the node and cuts the
	// connection: the node died after storing the post, before answering.
	var once sync.Once
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			body, _ := io.ReadAll(r.Body)
			req, _ := http.NewRequest(r.Method, running.APIURL+r.URL.Path, bytes.NewReader(body))
			req.Header = r.Header.Clone()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("the node: %v", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			s.cmd.Process.Kill()
			s.cmd.Wait()
		})
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}))
	defer proxy.Close()
	b, _ := json.Marshal(home.Running{PID: running.PID, APIURL: proxy.URL, PeerID: running.PeerID})
	if err := os.WriteFile(rec, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := hearsay(t, dir, nil, "--home", "a", "post", "demo", "exactly once")
	if r.code != 1 || !strings.Contains(r.stderr, "may have run") {
		t.Fatalf("post through a node that died mid-request: exit %d, %q", r.code, r.stderr)
	}
	os.Remove(rec) // the node is gone; read its store directly
	posts := 0
	for _, l := range strings.Split(must(t, hearsay(t, dir, nil, "--home", "a", "log", "demo", "--json")), "\n") {
		var e struct{ Text string }
		json.Unmarshal([]byte(l), &e)
		if e.Text == "exactly once" {
			posts++
		}
	}
	if posts != 1 {
		t.Fatalf("the post is stored %d times, want once", posts)
	}
}

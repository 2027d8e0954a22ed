package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freePort is a TCP port on 127.0.0.1 nothing listens on just now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestRestartedNodesReconnectQuickly: two nodes that know each other, and
// an offline peer both remember, restart; they find each other again at
// once (a post crosses within 10 s, not the 58 s it took when each first
// dialled the offline peer), and the offline peer costs one line of log
// per node, not one per group per round.
func TestRestartedNodesReconnectQuickly(t *testing.T) {
	dir := t.TempDir()
	pa, pb := freePort(t), freePort(t)
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "other", "--write", "open"))
	a := serve(t, dir, "--home", "a", "--listen", "/ip4/127.0.0.1/tcp/"+pa)
	b := joinAndServe(t, dir, "b", g, a.addrs[0])
	eventually(t, 10*time.Second, "b meeting a", func() bool {
		return strings.Contains(hearsay(t, dir, nil, "--home", "b", "peers").stdout, "1 group")
	})
	a.stop(t)
	b.stop(t)
	offline := "/ip4/127.0.0.1/tcp/" + freePort(t) + "/p2p/12D3KooWLRPJAA5o6nGY6M5Vf2Z1Vn3u3Dc7yTnSx1oYaB3Pxyzr"
	for _, h := range []string{"a", "b"} {
		path := filepath.Join(dir, h, "peers.json")
		var peers []string
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(raw, &peers)
		if len(peers) == 0 {
			t.Fatalf("%s remembered no peers", h)
		}
		out, _ := json.Marshal(append([]string{offline}, peers...))
		if err := os.WriteFile(path, out, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	a = serve(t, dir, "--home", "a", "--listen", "/ip4/127.0.0.1/tcp/"+pa)
	b = serve(t, dir, "--home", "b", "--listen", "/ip4/127.0.0.1/tcp/"+pb)
	post := must(t, hearsay(t, dir, nil, "--home", "b", "post", g, "after the restart"))
	eventually(t, 10*time.Second, "b's post on a after both restarted", func() bool {
		return hearsay(t, dir, nil, "--home", "a", "log", g).code == 0 && strings.Contains(hearsay(t, dir, nil, "--home", "a", "log", g).stdout, post[:12])
	})
	t.Logf("after both restarted, b's post reached a in %v", time.Since(start).Round(time.Millisecond))
	for name, s := range map[string]*serving{"a": a, "b": b} {
		n := 0
		for _, l := range strings.Split(s.stderr.String(), "\n") {
			if strings.Contains(l, "12D3KooWLRPJAA5o6nGY6M5Vf2Z1Vn3u3Dc7yTnSx1oYaB3Pxyzr") {
				n++
			}
		}
		if n > 1 {
			t.Fatalf("%s logged the offline peer on %d lines:\n%s", name, n, s.stderr.String())
		}
	}
}

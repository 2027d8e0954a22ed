package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hearsay/internal/node"
)

// bansOf reads `bans --json` of a home.
func bansOf(t *testing.T, dir, h string) []node.BanInfo {
	t.Helper()
	var out []node.BanInfo
	for _, l := range strings.Split(strings.TrimSpace(must(t, hearsay(t, dir, nil, "--home", h, "bans", "--json"))), "\n") {
		var b node.BanInfo
		if json.Unmarshal([]byte(l), &b) == nil {
			out = append(out, b)
		}
	}
	return out
}

// TestOperatorBans: an operator bans a peer, which is disconnected and
// refused; unbans it, and the peer is welcome again; with no node serving,
// the bans are kept for the next start.
func TestOperatorBans(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	a := serve(t, dir, "--home", "a")
	b := joinAndServe(t, dir, "b", g, a.addrs[0])
	bp := peerOf(b)
	eventually(t, 10*time.Second, "a meeting b", func() bool {
		return strings.Contains(hearsay(t, dir, nil, "--home", "a", "peers").stdout, bp)
	})
	must(t, hearsay(t, dir, nil, "--home", "a", "ban", bp, "--for", "1h"))
	if bans := bansOf(t, dir, "a"); len(bans) != 1 || bans[0].Peer != bp || time.Until(bans[0].Until) < 59*time.Minute {
		t.Fatalf("bans after banning b: %+v", bans)
	}
	eventually(t, 10*time.Second, "a dropping b", func() bool {
		return !strings.Contains(hearsay(t, dir, nil, "--home", "a", "peers").stdout, bp)
	})
	if r := hearsay(t, dir, nil, "--home", "b", "group", "join", g, "--peer", a.addrs[0]); r.code == 0 {
		t.Fatal("a banned peer joined through the node that banned it")
	}
	must(t, hearsay(t, dir, nil, "--home", "a", "unban", bp))
	if bans := bansOf(t, dir, "a"); len(bans) != 0 {
		t.Fatalf("bans after unbanning: %+v", bans)
	}
	must(t, hearsay(t, dir, nil, "--home", "b", "group", "join", g, "--peer", a.addrs[0]))
	if r := hearsay(t, dir, nil, "--home", "a", "unban", bp); r.code != 1 || !strings.Contains(r.stderr, "not banned") {
		t.Fatalf("unbanning twice: exit %d, %q", r.code, r.stderr)
	}
	if r := hearsay(t, dir, nil, "--home", "a", "ban", "nonsense"); r.code != 1 || !strings.Contains(r.stderr, "peer id") {
		t.Fatalf("a bad peer id: exit %d, %q", r.code, r.stderr)
	}
	a.stop(t)
	b.stop(t)
	must(t, hearsay(t, dir, nil, "--home", "a", "ban", bp, "--for", "2h"))
	a = serve(t, dir, "--home", "a")
	if bans := bansOf(t, dir, "a"); len(bans) != 1 || bans[0].Peer != bp || bans[0].Count != 1 || time.Until(bans[0].Until) < 119*time.Minute {
		t.Fatalf("a ban made offline, after the node started: %+v", bans)
	}
	a.stop(t)
}

package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hearsay/internal/node"
)

// peerIDOf is the peer id of the node serving home h.
func peerIDOf(t *testing.T, dir, h string) string {
	t.Helper()
	var st node.Status
	if err := json.Unmarshal([]byte(must(t, hearsay(t, dir, nil, "--home", h, "status", "--json"))), &st); err != nil {
		t.Fatal(err)
	}
	return st.PeerID
}

// TestRegistryMeetingPoint: a registry; three groups, each served by its
// own member, which knows only the registry; five newcomers that know only
// the registry find each other (they connect to the nodes it names,
// nearest first by the round trip they measure) and the members of the
// three groups, which they join with no --peer.
func TestRegistryMeetingPoint(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "registry", "init"))
	reg := serve(t, dir, "--home", "registry", "--registry")
	st := must(t, hearsay(t, dir, nil, "--home", "registry", "status"))
	if !strings.Contains(st, "reach     public  (a registry)") || !strings.Contains(st, "relaying for others") {
		t.Fatalf("the registry's status:\n%s", st)
	}
	var groups, posts []string
	for i := 1; i <= 3; i++ {
		m := fmt.Sprintf("member%d", i)
		must(t, hearsay(t, dir, nil, "--home", m, "init"))
		g := must(t, hearsay(t, dir, nil, "--home", m, "group", "create", fmt.Sprintf("group%d", i), "--write", "open"))
		posts = append(posts, must(t, hearsay(t, dir, nil, "--home", m, "post", g, "hello from "+m)))
		groups = append(groups, g)
		serve(t, dir, "--home", m, "--bootstrap", reg.addrs[0])
	}
	var newcomers, ids []string
	for i := 1; i <= 5; i++ {
		n := fmt.Sprintf("newcomer%d", i)
		must(t, hearsay(t, dir, nil, "--home", n, "init"))
		serve(t, dir, "--home", n, "--bootstrap", reg.addrs[0])
		newcomers = append(newcomers, n)
		ids = append(ids, peerIDOf(t, dir, n))
	}
	start := time.Now()
	for i, n := range newcomers {
		eventually(t, 30*time.Second, n+" connected to the four other newcomers", func() bool {
			var peers []node.PeerInfo
			for _, line := range strings.Split(strings.TrimSpace(hearsay(t, dir, nil, "--home", n, "peers", "--json").stdout), "\n") {
				var p node.PeerInfo
				if json.Unmarshal([]byte(line), &p) == nil {
					peers = append(peers, p)
				}
			}
			for j, id := range ids {
				if j != i && !slices.ContainsFunc(peers, func(p node.PeerInfo) bool { return p.ID == id }) {
					return false
				}
			}
			return true
		})
	}
	t.Logf("the five newcomers connected to each other within %v", time.Since(start).Round(time.Millisecond))
	near := must(t, hearsay(t, dir, nil, "--home", newcomers[0], "nearby", "--json"))
	var listed int
	for _, line := range strings.Split(near, "\n") {
		var n node.Nearby
		if json.Unmarshal([]byte(line), &n) == nil && n.RTT > 0 {
			listed++
		}
	}
	if listed < 7 { // the other four newcomers and the three members
		t.Fatalf("nearby lists %d measured nodes, want the 7 others:\n%s", listed, near)
	}
	start = time.Now()
	for _, n := range newcomers {
		for i, g := range groups {
			if got := must(t, hearsay(t, dir, nil, "--home", n, "group", "join", g)); got != g {
				t.Fatalf("%s's join printed %q", n, got)
			}
			if log := must(t, hearsay(t, dir, nil, "--home", n, "log", g)); !strings.Contains(log, posts[i][:12]) {
				t.Fatalf("%s's log of group%d lacks its member's post:\n%s", n, i+1, log)
			}
		}
	}
	t.Logf("15 joins through the registry in %v", time.Since(start).Round(time.Millisecond))
}

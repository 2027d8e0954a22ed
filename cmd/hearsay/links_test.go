package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearsay/internal/node"
)

var linksReal = flag.Bool("links.real", false, "run TestSharedLinksOnRealNodes: 16 serving nodes in 4 groups, with links shared across groups and without")

// linkNode is one process of TestSharedLinksOnRealNodes.
type linkNode struct {
	name       string
	groups     []int // indexes into the test's groups
	s          *serving
	api, token string
}

// linkFigures is what one run of the nodes measured.
type linkFigures struct {
	links, linksMax float64 // peers that are neighbours in some group, per node: mean and max
	connected       float64 // libp2p connections per node (the DHT's too)
	idle            float64 // overlay control messages and sync rounds sent, per membership a second
	idleBytes       float64 // their bytes, likewise
	idleByKind      map[string]float64
	delivered       float64 // of the members that should have a group's new post, those that got it
	slowest         time.Duration
}

// TestSharedLinksOnRealNodes (behind -links.real): 16 real processes on
// loopback, each in 3 of 4 open groups (12 members a group), run with
// links shared across groups (the default) and then with
// --share-links=false. It reports, per node, the peers it keeps as
// neighbours in some group (the connections the overlays need), its libp2p
// connections, the idle messages per membership a second, and one post per
// group reaching every member; sharing must need fewer links.
func TestSharedLinksOnRealNodes(t *testing.T) {
	if !*linksReal {
		t.Skip("16 serving nodes, twice: run with -links.real (./test.sh -long does)")
	}
	const nodes, groups, settle, window = 16, 4, 20 * time.Second, 20 * time.Second
	dir := t.TempDir()
	ns := make([]*linkNode, nodes)
	for i := range ns {
		n := &linkNode{name: fmt.Sprintf("n%d", i)}
		for g := range groups {
			if g != i%groups {
				n.groups = append(n.groups, g)
			}
		}
		must(t, hearsay(t, dir, nil, "--home", n.name, "init"))
		ns[i] = n
	}
	// Group g is created by node (g+1) mod 4, the first four serve, and
	// everyone joins through them.
	gids := make([]string, groups)
	creator := func(g int) *linkNode { return ns[(g+1)%groups] }
	for g := range groups {
		gids[g] = must(t, hearsay(t, dir, nil, "--home", creator(g).name, "group", "create", fmt.Sprintf("g%d", g), "--write", "open"))
	}
	// Each start takes a free port (a fixed one may be taken meanwhile);
	// the first four start first, each bootstrapping from those before
	// it, and the others from all four.
	startAll := func(joined bool, extra ...string) {
		var bootstrap []string
		for i, n := range ns {
			args := []string{"--home", n.name}
			for _, b := range bootstrap {
				args = append(args, "--bootstrap", b)
			}
			if !joined && i >= groups {
				for _, g := range n.groups {
					must(t, hearsay(t, dir, nil, "--home", n.name, "group", "join", gids[g], "--peer", creator(g).s.addrs[0]))
				}
			}
			n.s = serve(t, dir, append(args, extra...)...)
			n.api, n.token = servedAPI(t, filepath.Join(dir, n.name))
			if i < groups {
				bootstrap = append(bootstrap, n.s.addrs[0])
			}
		}
		if !joined { // the first four join each other's groups through their nodes
			for _, n := range ns[:groups] {
				for _, g := range n.groups {
					if creator(g) != n {
						must(t, hearsay(t, dir, nil, "--home", n.name, "group", "join", gids[g], "--peer", creator(g).s.addrs[0]))
					}
				}
			}
		}
	}
	stopAll := func() {
		for _, n := range ns {
			n.s.stop(t)
		}
	}
	startAll(false)
	shared := measureLinks(t, ns, gids, settle, window)
	stopAll()
	startAll(true, "--share-links=false")
	unshared := measureLinks(t, ns, gids, settle, window)
	stopAll()
	for _, r := range []struct {
		name string
		f    linkFigures
	}{{"--share-links=false", unshared}, {"links shared (the default)", shared}} {
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(r.f.idleByKind)) {
			kinds = append(kinds, fmt.Sprintf("%s %.3f", k, r.f.idleByKind[k]))
		}
		t.Logf("%s: overlay links per node %.2f (max %.0f); libp2p connections %.2f; idle %.3f msgs, %.0f bytes /membership/s (%s); delivery %.3f, slowest member %v",
			r.name, r.f.links, r.f.linksMax, r.f.connected, r.f.idle, r.f.idleBytes, strings.Join(kinds, ", "), r.f.delivered, r.f.slowest.Round(time.Millisecond))
	}
	t.Logf("links shared / unshared: %.2f", shared.links/unshared.links)
	if shared.delivered < 1 || unshared.delivered < 1 {
		t.Errorf("delivery %.3f shared, %.3f unshared: want 1", shared.delivered, unshared.delivered)
	}
	if shared.links >= unshared.links {
		t.Errorf("sharing kept %.2f links a node, against %.2f without", shared.links, unshared.links)
	}
}

// measureLinks lets the overlays settle, counts the idle messages over the
// window, reads each node's links, then posts once to each group and waits
// for every member to hold the post.
func measureLinks(t *testing.T, ns []*linkNode, gids []string, settle, window time.Duration) linkFigures {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(n *linkNode, path string) *http.Response {
		req, _ := http.NewRequest("GET", n.api+path, nil)
		req.Header.Set("Authorization", "Bearer "+n.token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: HTTP %d", n.name, path, resp.StatusCode)
		}
		return resp
	}
	// sent reads a node's counters of what it sent so far: the control
	// messages by kind, the sync rounds ("sync"), their bytes ("bytes"),
	// and its libp2p connections ("connected").
	sent := func(n *linkNode) map[string]float64 {
		resp := get(n, "/metrics")
		defer resp.Body.Close()
		c := map[string]float64{}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			name, v, ok := strings.Cut(sc.Text(), " ")
			f, err := strconv.ParseFloat(v, 64)
			if !ok || err != nil {
				continue
			}
			if kind, ok := strings.CutPrefix(name, `hearsay_broadcast_control_sent_total{kind="`); ok {
				c[strings.TrimSuffix(kind, `"}`)] += f
			}
			switch name {
			case "hearsay_sync_rounds_total":
				c["sync"] += f
			case `hearsay_broadcast_bytes_sent_total{type="control"}`, `hearsay_sync_bytes_total{direction="out"}`:
				c["bytes"] += f
			case "hearsay_peers_connected":
				c["connected"] = f
			}
		}
		return c
	}
	status := func(n *linkNode) node.Status {
		resp := get(n, "/api/v1/status")
		defer resp.Body.Close()
		var st node.Status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	time.Sleep(settle)
	before := make([]map[string]float64, len(ns))
	for i, n := range ns {
		before[i] = sent(n)
	}
	time.Sleep(window)
	f := linkFigures{idleByKind: map[string]float64{}}
	memberships := 0
	for i, n := range ns {
		c := sent(n)
		for k, v := range c {
			switch k {
			case "connected":
				f.connected += v
			case "bytes":
				f.idleBytes += v - before[i][k]
			default:
				f.idleByKind[k] += v - before[i][k]
				f.idle += v - before[i][k]
			}
		}
		memberships += len(n.groups)
		var linked []string
		for _, g := range status(n).Groups {
			linked = append(linked, g.Neighbours...)
		}
		slices.Sort(linked)
		l := float64(len(slices.Compact(linked)))
		f.links += l
		f.linksMax = max(f.linksMax, l)
	}
	per := float64(memberships) * window.Seconds()
	f.idle /= per
	f.idleBytes /= per
	for k := range f.idleByKind {
		f.idleByKind[k] /= per
	}
	f.links /= float64(len(ns))
	f.connected /= float64(len(ns))

	// One post a group, from its last member; every member must hold it.
	entries := func(n *linkNode) map[string]uint64 {
		held := map[string]uint64{}
		for _, g := range status(n).Groups {
			held[g.ID] = g.Entries
		}
		return held
	}
	posted := time.Now()
	want := map[*linkNode]map[string]uint64{}
	for g, gid := range gids {
		var members []*linkNode
		for _, n := range ns {
			if slices.Contains(n.groups, g) {
				members = append(members, n)
			}
		}
		for _, n := range members {
			if want[n] == nil {
				want[n] = map[string]uint64{}
			}
			want[n][gid] = entries(n)[gid] + 1
		}
		author := members[len(members)-1]
		body, _ := json.Marshal(map[string]string{"text": "to every member of " + gid[:8]})
		req, _ := http.NewRequest("POST", author.api+"/api/v1/groups/"+gid+"/posts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+author.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("post to %s: HTTP %d", gid, resp.StatusCode)
		}
	}
	total, got := 0, 0
	for _, gs := range want {
		total += len(gs)
	}
	for deadline := time.Now().Add(10 * time.Second); got < total && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for n, gs := range want {
			held := entries(n)
			for gid, count := range gs {
				if held[gid] >= count {
					delete(gs, gid)
					got++
					f.slowest = time.Since(posted)
				}
			}
		}
	}
	f.delivered = float64(got) / float64(total)
	return f
}

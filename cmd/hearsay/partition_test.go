package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hearsay/internal/node"
)

// TestPartitionsHeal runs a few cut-write-heal rounds in the race-built
// suite; docs/reliability.md reports a run of more and longer ones.
var (
	partitionRounds = flag.Int("partition.rounds", 3, "rounds of TestPartitionsHeal (docs/reliability.md: 12)")
	partitionCut    = flag.Duration("partition.cut", 3*time.Second, "the longest a cut of TestPartitionsHeal lasts after its writes (docs/reliability.md: 20s)")
)

// TestPartitionsHeal: five real nodes, each in its own network namespace on
// one switch (a bridge in a sixth). Each round cuts a random one or two of
// them off (their switch ports go down: `tc netem` does not work here),
// every node writes posts through the CLI while cut, and the cut heals;
// Jepsen-style, every write a command acknowledged must then be on every
// node, and the digests must agree. The time to converge after each heal
// is reported.
func TestPartitionsHeal(t *testing.T) {
	const nodes = 5
	l := newLab(t)
	sw := l.host("sw")
	attach := l.bridge(sw, "br0", "")
	hosts := make([]string, nodes)
	homes := make([]string, nodes)
	for i := range hosts {
		hosts[i] = l.host(fmt.Sprintf("n%d", i+1))
		homes[i] = fmt.Sprintf("h%d", i+1)
		l.link(sw, fmt.Sprintf("p%d", i+1), "", hosts[i], "eth0", fmt.Sprintf("10.0.8.%d/24", i+1))
		attach(fmt.Sprintf("p%d", i+1))
	}
	dir := t.TempDir()
	for _, h := range homes {
		must(t, hearsay(t, dir, nil, "--home", h, "init"))
	}
	g := must(t, hearsay(t, dir, nil, "--home", homes[0], "group", "create", "jepsen", "--write", "open"))
	l.serve(hosts[0], dir, "--home", homes[0], "--no-mdns")
	first := "/ip4/10.0.8.1/tcp/4001/p2p/" + l.status(hosts[0], dir, homes[0]).PeerID
	for i := 1; i < nodes; i++ {
		must(t, l.hearsay(hosts[i], dir, "--home", homes[i], "group", "join", g, "--peer", first))
		l.serve(hosts[i], dir, "--home", homes[i], "--no-mdns", "--bootstrap", first)
	}

	var mu sync.Mutex
	var acked []string              // ids of posts whose command exited 0
	lastBy := make([]string, nodes) // each node's last acknowledged post
	write := func(i, round, k int) {
		r := l.hearsay(hosts[i], dir, "--home", homes[i], "post", g, fmt.Sprintf("round %d, node %d, post %d", round, i+1, k))
		if r.code == 0 {
			mu.Lock()
			acked = append(acked, strings.TrimSpace(r.stdout))
			lastBy[i] = strings.TrimSpace(r.stdout)
			mu.Unlock()
		}
	}
	digests := func() []string {
		out := make([]string, nodes)
		for i := range nodes {
			var info node.GroupInfo
			if r := l.hearsay(hosts[i], dir, "--home", homes[i], "group", "show", g, "--json"); r.code == 0 {
				json.Unmarshal([]byte(r.stdout), &info)
			}
			out[i] = fmt.Sprintf("%s/%d", info.Digest, info.Entries)
		}
		return out
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var converge []time.Duration
	for round := 1; round <= *partitionRounds; round++ {
		cut := rng.Perm(nodes)[:1+rng.IntN(2)]
		for _, i := range cut {
			l.run("ip", "-n", sw, "link", "set", fmt.Sprintf("p%d", i+1), "down")
		}
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Go(func() {
				for k := range 3 {
					write(i, round, k)
				}
			})
		}
		wg.Wait()
		// The cut holds: what a cut node wrote is not on a node outside it.
		outside := 0
		for slices.Contains(cut, outside) {
			outside++
		}
		if strings.Contains(must(t, l.hearsay(hosts[outside], dir, "--home", homes[outside], "log", g)), lastBy[cut[0]][:12]) {
			t.Fatalf("round %d: node %d's post reached node %d through the cut", round, cut[0]+1, outside+1)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(*partitionCut))))
		for _, i := range cut {
			l.run("ip", "-n", sw, "link", "set", fmt.Sprintf("p%d", i+1), "up")
		}
		healed := time.Now()
		waitFor(t, 90*time.Second, fmt.Sprintf("round %d: digests agreeing after the heal", round), func() bool {
			d := digests()
			return !strings.HasPrefix(d[0], "/") && slices.Equal(d, slices.Repeat(d[:1], nodes))
		})
		converge = append(converge, time.Since(healed).Round(10*time.Millisecond))
		t.Logf("round %d: nodes %v cut off; converged %v after the heal", round, plusOne(cut), converge[len(converge)-1])
	}

	// Every acknowledged write is on every node, once.
	for i := range nodes {
		var log []node.LogEntry
		for _, line := range strings.Split(strings.TrimSpace(must(t, l.hearsay(hosts[i], dir, "--home", homes[i], "log", g, "--json"))), "\n") {
			var e node.LogEntry
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("log --json line %q: %v", line, err)
			}
			log = append(log, e)
		}
		have := map[string]int{}
		texts := map[string]int{}
		for _, e := range log {
			have[e.ID]++
			if e.Kind == "post" {
				texts[e.Text]++
			}
		}
		for _, id := range acked {
			if have[id] != 1 {
				t.Fatalf("node %d holds acknowledged post %s %d times", i+1, id[:12], have[id])
			}
		}
		for text, n := range texts {
			if n > 1 {
				t.Fatalf("node %d holds %q %d times", i+1, text, n)
			}
		}
	}
	t.Logf("%d rounds, %d acknowledged writes of %d, on all %d nodes; converge times %v", *partitionRounds, len(acked), 15**partitionRounds, nodes, converge)
}

func plusOne(is []int) []int {
	out := make([]int, len(is))
	for k, i := range is {
		out[k] = i + 1
	}
	return out
}

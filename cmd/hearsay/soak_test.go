package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hearsay/internal/node"
)

var (
	soakFor   = flag.Duration("soak.for", 0, "run TestLoadSoak, writing and churning this long (./test.sh -long: 30s; docs/reliability.md: 15m)")
	soakRate  = flag.Int("soak.rate", 20, "posts a second TestLoadSoak writes, over all live nodes")
	soakNodes = flag.Int("soak.nodes", 10, "nodes TestLoadSoak starts with")
)

// soakNode is one home of TestLoadSoak: its fixed listen address, so a
// restart keeps the address its peers remember, and its process while up.
type soakNode struct {
	name   string
	listen string
	s      *serving
	api    string
	token  string
}

// soakSample is one reading of a live node's process.
type soakSample struct {
	at         time.Duration
	rss        int64 // bytes, VmRSS
	heap       int64 // bytes of Go heap in use; Pebble's cache and memtables are outside it
	fds        int
	goroutines int
}

// TestLoadSoak: soak.nodes real `hearsay serve` processes share one open
// group on 127.0.0.1. The test posts soak.rate posts a second for soak.for
// through the REST API of each live node in turn, while every few seconds a
// node leaves (SIGINT or SIGKILL, at random), one that left comes back, or
// a fresh home joins the group and serves. Every 2 s it reads each live
// node's resident memory, Go heap, file descriptors and goroutines. At the end the
// nodes that left come back; every post a node acknowledged (201 with its
// id) must then be on every node exactly once, and no text may be stored
// twice. Node 0, which never leaves, must stay flat: its goroutines and
// descriptors at the end within twice their count after warming up (plus a
// little), which a leak per post or per peer would break; its memory is
// reported, not judged (a test's memory readings are noise).
func TestLoadSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("a soak of ten nodes: runs with -soak.for DURATION (./test.sh -long gives 30s)")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 31))
	mk := func(name string) *soakNode {
		return &soakNode{name: name, listen: "/ip4/127.0.0.1/tcp/" + freePort(t)}
	}
	first := mk("n0")
	must(t, hearsay(t, dir, nil, "--home", first.name, "init"))
	g := must(t, hearsay(t, dir, nil, "--home", first.name, "group", "create", "soak", "--write", "open"))
	nodes := []*soakNode{first}
	var mu sync.Mutex // guards nodes and each node's s, api and token
	up := func(n *soakNode) {
		args := []string{"--home", n.name, "--listen", n.listen}
		if n != first {
			args = append(args, "--bootstrap", first.s.addrs[0])
		}
		s := serve(t, dir, args...)
		api, token := servedAPI(t, filepath.Join(dir, n.name))
		mu.Lock()
		n.s, n.api, n.token = s, api, token
		mu.Unlock()
	}
	join := func(n *soakNode) {
		must(t, hearsay(t, dir, nil, "--home", n.name, "init"))
		must(t, hearsay(t, dir, nil, "--home", n.name, "group", "join", g, "--peer", first.s.addrs[0]))
		up(n)
	}
	up(first)
	for i := 1; i < *soakNodes; i++ {
		n := mk(fmt.Sprintf("n%d", i))
		join(n)
		nodes = append(nodes, n)
	}

	var (
		acked   = map[string]string{} // id → text
		tried   int
		failed  int
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		client  = &http.Client{Timeout: 10 * time.Second}
		samples = map[string][]soakSample{}
		events  []string
		start   = time.Now()
	)
	// live copies the nodes up now, so that a writer keeps the address it
	// picked while the churn restarts that node.
	live := func() []soakNode {
		mu.Lock()
		defer mu.Unlock()
		var out []soakNode
		for _, n := range nodes {
			if n.s != nil {
				out = append(out, *n)
			}
		}
		return out
	}
	post := func(n soakNode, text string) {
		body, _ := json.Marshal(map[string]string{"text": text})
		req, _ := http.NewRequest("POST", n.api+"/api/v1/groups/"+g+"/posts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+n.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		mu.Lock()
		defer mu.Unlock()
		tried++
		if err != nil {
			failed++
			return
		}
		defer resp.Body.Close()
		var id struct{ ID string }
		if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&id) != nil || id.ID == "" {
			failed++
			return
		}
		acked[id.ID] = text
	}

	// The writers: soak.rate posts a second, to each live node in turn,
	// several in flight so one slow node does not hold back the rest.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(*soakRate))
		defer tick.Stop()
		inflight := make(chan struct{}, 8)
		var posts sync.WaitGroup
		defer posts.Wait()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			ls := live()
			n := ls[i%len(ls)]
			select {
			case inflight <- struct{}{}:
			default:
				continue // eight posts waiting: this tick's is not written
			}
			posts.Add(1)
			go func() {
				defer posts.Done()
				defer func() { <-inflight }()
				post(n, fmt.Sprintf("soak post %d", i))
			}()
		}
	}()

	// The readings: every 2 s, each live node's process.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for _, n := range live() {
				if s, ok := readProcess(client, n); ok {
					s.at = time.Since(start)
					mu.Lock()
					samples[n.name] = append(samples[n.name], s)
					mu.Unlock()
				}
			}
		}
	}()

	// The churn, in this goroutine: every 3–6 s a node leaves, one that
	// left comes back, or a fresh home joins; at least half stay up, and
	// at most soak.nodes+4 homes exist.
	deadline := time.Now().Add(*soakFor)
	for time.Now().Before(deadline) {
		time.Sleep(time.Duration(3000+rng.IntN(3000)) * time.Millisecond)
		ls := live()
		var away []*soakNode
		for _, n := range nodes {
			if n.s == nil {
				away = append(away, n)
			}
		}
		switch r := rng.IntN(3); {
		case r == 0 && len(ls) > len(nodes)/2+1:
			n := nodeNamed(nodes, ls[1+rng.IntN(len(ls)-1)].name) // never n0
			how := "SIGINT"
			if rng.IntN(2) == 0 {
				how = "SIGKILL"
				n.s.cmd.Process.Signal(syscall.SIGKILL)
				n.s.cmd.Wait()
			} else {
				n.s.stop(t)
			}
			mu.Lock()
			n.s = nil
			mu.Unlock()
			events = append(events, fmt.Sprintf("%v %s leaves (%s)", time.Since(start).Round(time.Second), n.name, how))
		case r == 1 && len(away) > 0:
			n := away[rng.IntN(len(away))]
			up(n)
			events = append(events, fmt.Sprintf("%v %s comes back", time.Since(start).Round(time.Second), n.name))
		case len(nodes) < *soakNodes+4:
			n := mk(fmt.Sprintf("n%d", len(nodes)))
			join(n)
			mu.Lock()
			nodes = append(nodes, n)
			mu.Unlock()
			events = append(events, fmt.Sprintf("%v %s joins", time.Since(start).Round(time.Second), n.name))
		}
	}
	close(stop)
	wg.Wait()
	wrote := time.Since(start)
	for _, n := range nodes {
		if n.s == nil {
			up(n)
		}
	}
	t.Logf("churn: %s", strings.Join(events, "; "))
	t.Logf("%d nodes in the end; %d posts tried in %v, %d acknowledged, %d failed (the node left under them)",
		len(nodes), tried, wrote.Round(time.Second), len(acked), failed)
	if len(acked) < tried/2 {
		t.Fatalf("only %d of %d posts acknowledged", len(acked), tried)
	}

	// Every node converges on the same digest, then holds every
	// acknowledged post once.
	converged := time.Now()
	eventually(t, 2*time.Minute, "every node's digest agreeing", func() bool {
		want := digestOf(t, dir, first.name, g)
		for _, n := range nodes[1:] {
			if digestOf(t, dir, n.name, g) != want {
				return false
			}
		}
		return true
	})
	t.Logf("converged %v after the writes ended and every node was back", time.Since(converged).Round(10*time.Millisecond))
	for _, n := range nodes {
		seen := map[string]bool{}
		held := map[string]bool{}
		sc := bufio.NewScanner(strings.NewReader(must(t, hearsay(t, dir, nil, "--home", n.name, "log", g, "--json"))))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e node.LogEntry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("%s: log --json line %q: %v", n.name, sc.Text(), err)
			}
			if e.Kind != "post" {
				continue
			}
			if seen[e.Text] {
				t.Fatalf("%s holds %q twice", n.name, e.Text)
			}
			seen[e.Text], held[e.ID] = true, true
		}
		for id, text := range acked {
			if !held[id] {
				t.Fatalf("%s lacks the acknowledged post %s (%q)", n.name, id[:12], text)
			}
		}
	}

	// Node 0's readings, and the flat bounds.
	s0 := samples[first.name]
	if len(s0) < 4 {
		t.Fatalf("only %d readings of n0", len(s0))
	}
	var curve []string
	for k := range 12 { // twelve readings, evenly spread, the last one last
		s := s0[k*(len(s0)-1)/11]
		curve = append(curve, fmt.Sprintf("%v %d MiB (heap %d) %d fds %d goroutines", s.at.Round(time.Second), s.rss>>20, s.heap>>20, s.fds, s.goroutines))
	}
	t.Logf("n0: %s", strings.Join(curve, "; "))
	warm, last := s0[len(s0)/4], s0[len(s0)-1]
	if last.goroutines > 2*warm.goroutines+50 || last.fds > 2*warm.fds+50 {
		t.Fatalf("n0 grew: %d goroutines and %d fds after warming up, %d and %d at the end", warm.goroutines, warm.fds, last.goroutines, last.fds)
	}
	var peakRSS []int64
	for _, ss := range samples {
		peakRSS = append(peakRSS, slices.MaxFunc(ss, func(a, b soakSample) int { return int(a.rss - b.rss) }).rss>>20)
	}
	slices.Sort(peakRSS)
	t.Logf("peak RSS per node, MiB: %v", peakRSS)
}

func nodeNamed(nodes []*soakNode, name string) *soakNode {
	i := slices.IndexFunc(nodes, func(n *soakNode) bool { return n.name == name })
	return nodes[i]
}

// readProcess reads a serving node's resident memory and descriptors from
// /proc, and its goroutines and Go heap from its /metrics.
func readProcess(client *http.Client, n soakNode) (soakSample, bool) {
	pid := n.s.cmd.Process.Pid
	var s soakSample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, false
	}
	for l := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			s.rss = kb << 10
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, false
	}
	s.fds = len(fds)
	req, _ := http.NewRequest("GET", n.api+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+n.token)
	resp, err := client.Do(req)
	if err != nil {
		return s, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	found := 0
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			s.goroutines, _ = strconv.Atoi(v)
			found++
		}
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			s.heap = int64(f)
			found++
		}
	}
	return s, found == 2
}

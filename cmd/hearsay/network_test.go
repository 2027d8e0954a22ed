package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/store"
	"hearsay/internal/web"
)

// digestOf reads a home's digest of g, through its node when one serves it.
func digestOf(t *testing.T, dir, h, g string) string {
	t.Helper()
	r := hearsay(t, dir, nil, "--home", h, "group", "show", g, "--json")
	if r.code != 0 {
		return ""
	}
	var info map[string]any
	json.Unmarshal([]byte(r.stdout), &info)
	d, _ := info["digest"].(string)
	return d
}

// eventually polls cond every 50 ms for at most limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// groupInfoOver reads group g's info from a serving node's REST API: far
// quicker than a `group show` process, for tests that poll a count while
// something races it.
func groupInfoOver(t *testing.T, api, token, g string) node.GroupInfo {
	t.Helper()
	req, _ := http.NewRequest("GET", api+"/api/v1/groups/"+g, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info node.GroupInfo
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&info) != nil {
		t.Fatalf("group info over the API: HTTP %d", resp.StatusCode)
	}
	return info
}

// joinAndServe makes home h join g from a and serve with a as bootstrap.
func joinAndServe(t *testing.T, dir, h, g string, bootstrap ...string) *serving {
	t.Helper()
	must(t, hearsay(t, dir, nil, "--home", h, "init"))
	must(t, hearsay(t, dir, nil, "--home", h, "group", "join", g, "--peer", bootstrap[0]))
	args := []string{"--home", h}
	for _, b := range bootstrap {
		args = append(args, "--bootstrap", b)
	}
	return serve(t, dir, args...)
}

// TestPostReachesThirdNode: B and C join A's group; a post on B reaches C
// within 10 s.
func TestPostReachesThirdNode(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	a := serve(t, dir, "--home", "a")
	b := joinAndServe(t, dir, "b", g, a.addrs[0])
	c := joinAndServe(t, dir, "c", g, a.addrs[0])
	must(t, hearsay(t, dir, nil, "--home", "b", "post", g, "from b, for c"))
	want := digestOf(t, dir, "b", g)
	eventually(t, 10*time.Second, "the post on b reaching c", func() bool { return digestOf(t, dir, "c", g) == want })
	for _, s := range []*serving{a, b, c} {
		s.stop(t)
	}
}

// TestStoreAndForward: A, B, C share a group; B stops; A posts; A stops; B
// starts with only C reachable and gets A's post within 10 s.
func TestStoreAndForward(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	a := serve(t, dir, "--home", "a")
	c := joinAndServe(t, dir, "c", g, a.addrs[0])
	b := joinAndServe(t, dir, "b", g, a.addrs[0])
	b.stop(t)
	post := must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "while b was away"))
	eventually(t, 10*time.Second, "a's post reaching c", func() bool {
		return strings.Contains(hearsay(t, dir, nil, "--home", "c", "log", g).stdout, post[:12])
	})
	a.stop(t)
	b = serve(t, dir, "--home", "b", "--bootstrap", c.addrs[0])
	eventually(t, 10*time.Second, "b getting a's post from c", func() bool {
		return strings.Contains(hearsay(t, dir, nil, "--home", "b", "log", g).stdout, post[:12])
	})
	b.stop(t)
	c.stop(t)
}

// TestKilledDuringCatchUp: B is killed (SIGKILL) while fetching a large
// history; restarted, it converges, and the posts it acknowledged before
// the kill are on both nodes.
func TestKilledDuringCatchUp(t *testing.T) {
	dir := t.TempDir()
	g := bigGroup(t, filepath.Join(dir, "a"), 4000, 2000)
	a := serve(t, dir, "--home", "a")
	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	must(t, hearsay(t, dir, nil, "--home", "b", "group", "join", g, "--peer", a.addrs[0]))
	// B acknowledges three posts, then starts a sync it will not finish.
	var acked []string
	for i := range 3 {
		acked = append(acked, must(t, hearsay(t, dir, nil, "--home", "b", "post", g, fmt.Sprintf("acknowledged %d", i))))
	}
	for i := range 5 { // A grows while B is away
		must(t, hearsay(t, dir, nil, "--home", "a", "post", g, fmt.Sprintf("more %d", i)))
	}
	b := serve(t, dir, "--home", "b", "--bootstrap", a.addrs[0])
	time.Sleep(200 * time.Millisecond)
	b.cmd.Process.Signal(syscall.SIGKILL)
	b.cmd.Wait()
	b = serve(t, dir, "--home", "b", "--bootstrap", a.addrs[0])
	eventually(t, 30*time.Second, "b converging after the kill", func() bool { return digestOf(t, dir, "b", g) == digestOf(t, dir, "a", g) })
	for _, h := range []string{"a", "b"} {
		log := must(t, hearsay(t, dir, nil, "--home", h, "log", g))
		for _, id := range acked {
			if !strings.Contains(log, id[:12]) {
				t.Fatalf("%s lacks the acknowledged post %s", h, id[:12])
			}
		}
	}
	a.stop(t)
	b.stop(t)
}

// bigGroup makes a home holding an open group of n posts of size bytes,
// written in process (faster than n commands), and returns the group id.
func bigGroup(t *testing.T, dir string, n, size int) string {
	t.Helper()
	h, _, err := home.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	nd, err := node.Open(h, store.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nd.Close()
	g, err := nd.CreateGroup(group.Genesis{Name: "big", Write: group.WriteOpen, Read: group.ReadPublic,
		Quota: group.Quota{MaxBody: 64 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := nd.Post(g, group.Post{Text: fmt.Sprintf("%0*d", size, i)}, entry.ID{}); err != nil {
			t.Fatal(err)
		}
	}
	return g.String()
}

// TestPostOnAllFiveWithinTwoSeconds: five nodes in one group; a post on one
// is on all within 2 s of its storing there, far inside the 30 s
// anti-entropy period. Each node's event stream says when it stored the
// post: polling with CLI commands would time the commands too.
func TestPostOnAllFiveWithinTwoSeconds(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "n1", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "n1", "group", "create", "demo", "--write", "open"))
	first := serve(t, dir, "--home", "n1")
	nodes := []*serving{first}
	for i := 2; i <= 5; i++ {
		nodes = append(nodes, joinAndServe(t, dir, fmt.Sprintf("n%d", i), g, first.addrs[0]))
	}
	// Let every node greet its peers before the clock starts.
	eventually(t, 10*time.Second, "the nodes meeting", func() bool {
		for i := 2; i <= 5; i++ {
			if !strings.Contains(hearsay(t, dir, nil, "--home", fmt.Sprintf("n%d", i), "peers").stdout, " group") {
				return false
			}
		}
		return true
	})
	var watches []*arrivals
	for i := 1; i <= 5; i++ {
		watches = append(watches, watchArrivals(t, filepath.Join(dir, fmt.Sprintf("n%d", i)), g))
	}
	post := must(t, hearsay(t, dir, nil, "--home", "n3", "post", g, "to everyone"))
	eventually(t, 10*time.Second, "the post stored on all five", func() bool {
		for _, w := range watches {
			if _, ok := w.of(post); !ok {
				return false
			}
		}
		return true
	})
	origin, _ := watches[2].of(post)
	var last time.Duration
	for _, w := range watches {
		at, _ := w.of(post)
		last = max(last, at.Sub(origin))
	}
	t.Logf("on all five %v after it was stored on n3", last)
	if last > 2*time.Second {
		t.Fatalf("the post took %v to reach all five, want at most 2 s", last)
	}
	for _, s := range nodes {
		s.stop(t)
	}
}

// arrivals are the times a serving node stored each entry of a group, as
// its event stream told them.
type arrivals struct {
	mu sync.Mutex
	at map[string]time.Time // by entry id
}

// watchArrivals follows the event stream of the node serving homeDir
// until the test ends. The node subscribes before it answers, so nothing
// stored after this returns is missed.
func watchArrivals(t *testing.T, homeDir, g string) *arrivals {
	t.Helper()
	return watchArrivalsVia(t, http.DefaultClient, homeDir, g)
}

// watchArrivalsVia is watchArrivals through client (one that reaches a
// node inside a network namespace, say).
func watchArrivalsVia(t *testing.T, client *http.Client, homeDir, g string) *arrivals {
	t.Helper()
	url, token := servedAPI(t, homeDir)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v1/events?group="+g, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("events of %s: %s", homeDir, resp.Status)
	}
	a := &arrivals{at: map[string]time.Time{}}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				event = v
				continue
			}
			var e web.EntryEvent
			if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok && event == "entry" && json.Unmarshal([]byte(v), &e) == nil {
				now := time.Now()
				a.mu.Lock()
				if _, seen := a.at[e.ID]; !seen {
					a.at[e.ID] = now
				}
				a.mu.Unlock()
			}
		}
	}()
	return a
}

// of is when the entry whose id starts with id was stored.
func (a *arrivals) of(id string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for full, at := range a.at {
		if strings.HasPrefix(full, id) {
			return at, true
		}
	}
	return time.Time{}, false
}

// TestJoinThroughDHT: C and D know only B, a node that does not hold the
// group; `group join` with no --peer finds A, a member, through the DHT
// reached by way of B: inside C's serving node, and from a one-off command
// on D whose config names B as its bootstrap peer. E knows no one: a clear
// error.
func TestJoinThroughDHT(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	b := serve(t, dir, "--home", "b")
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	a := serve(t, dir, "--home", "a", "--bootstrap", b.addrs[0])
	post := must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "found through the DHT"))

	must(t, hearsay(t, dir, nil, "--home", "c", "init"))
	c := serve(t, dir, "--home", "c", "--bootstrap", b.addrs[0])
	if got := must(t, hearsay(t, dir, nil, "--home", "c", "group", "join", g)); got != g {
		t.Fatalf("join printed %q", got)
	}
	if log := must(t, hearsay(t, dir, nil, "--home", "c", "log", g)); !strings.Contains(log, post[:12]) {
		t.Fatalf("c's log after joining through the DHT:\n%s", log)
	}

	must(t, hearsay(t, dir, nil, "--home", "d", "init"))
	cfgPath := filepath.Join(dir, "d", "config.json")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["bootstrap"] = []string{b.addrs[0]}
	raw, _ = json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	must(t, hearsay(t, dir, nil, "--home", "d", "group", "join", g))
	if digestOf(t, dir, "d", g) != digestOf(t, dir, "a", g) {
		t.Fatal("d's copy differs from a's")
	}

	must(t, hearsay(t, dir, nil, "--home", "e", "init"))
	if r := hearsay(t, dir, nil, "--home", "e", "group", "join", g); r.code != 1 || !strings.Contains(r.stderr, "no --peer given") {
		t.Fatalf("a join with no way to find members: exit %d, %q", r.code, r.stderr)
	}
	for _, s := range []*serving{a, b, c} {
		s.stop(t)
	}
}

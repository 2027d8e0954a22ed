package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/store"
)

var crashKills = flag.Int("crash.kills", 10, "SIGKILLs TestCrashPoints deals a serving node (the acceptance run: 100)")

// TestCrashPoints: node a serves while two posters post to it, node b (a
// member of the same group, never killed) posts to its own store and
// gossips to a, imports of other groups' export files go through a, fresh
// homes join a large group from a, and large files are put through a,
// which sends their shards to b. crash.kills times, at a random moment
// 0.2–2 s after a starts (0.2–7.2 s in a put's round), a is SIGKILLed and
// started again on the same home, with the posters still posting (they
// reach a's store directly while a is down). Every restart must reopen the
// store; at the end every acknowledged write — a post whose command exited
// 0 and printed its id, an import or a file put that exited 0 — is on a
// (and the posts on b) exactly once: no id missing, no text twice; and
// every file a lists, acknowledged or not, reads back whole through both
// nodes.
func TestCrashPoints(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	aHome := filepath.Join(dir, "a")
	big := bigGroup(t, aHome, 3000, 200)
	demo := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	imports := exportFiles(t, filepath.Join(dir, "src"), (*crashKills+2)/4, 300)

	// a restarts on the port b knows it by, as a configured node would.
	listen := "/ip4/127.0.0.1/tcp/" + freePort(t)
	a := serve(t, dir, "--home", "a", "--listen", listen)
	must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	must(t, hearsay(t, dir, nil, "--home", "b", "group", "join", demo, "--peer", a.addrs[0]))
	b := serve(t, dir, "--home", "b", "--bootstrap", a.addrs[0])

	var (
		mu    sync.Mutex
		acked = map[string]map[string]string{"a": {}, "b": {}} // home → id → text
		tried atomic.Int64
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	poster := func(h, name string) {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			text := fmt.Sprintf("%s-%d", name, i)
			tried.Add(1)
			out, code := runCLI(dir, "--home", h, "post", "demo", text)
			if code == 0 {
				mu.Lock()
				acked[h][strings.TrimSpace(out)] = text
				mu.Unlock()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wg.Add(3)
	go poster("a", "a1")
	go poster("a", "a2")
	go poster("b", "b1")

	type put struct {
		path string
		sum  [32]byte
	}
	var ackedImports []exported
	var ackedPuts, puts []put
	killsMidImport, killsMidJoin, killsMidPut := 0, 0, 0
	for k := range *crashKills {
		var job sync.WaitGroup
		// A job's done flag is set when it ends before the kill: one the kill
		// cut short may end (with an error) before the kill is counted.
		var importDone, joinDone, joining, putDone, killing atomic.Bool
		finish := func(done *atomic.Bool) {
			if !killing.Load() {
				done.Store(true)
			}
		}
		putDone.Store(true)
		switch k % 4 {
		case 1: // an import through a
			f := imports[k/4]
			job.Go(func() {
				defer finish(&importDone)
				if _, code := runCLI(dir, "--home", "a", "import", f.path); code == 0 {
					mu.Lock()
					ackedImports = append(ackedImports, f)
					mu.Unlock()
				}
			})
		case 2: // a fresh home syncs the large group from a
			j := fmt.Sprintf("j%d", k)
			addr := a.addrs[0]
			job.Go(func() {
				defer finish(&joinDone)
				if _, code := runCLI(dir, "--home", j, "init"); code == 0 {
					joining.Store(true)
					runCLI(dir, "--home", j, "group", "join", big, "--peer", addr)
				}
			})
		case 3: // a large file put through a: coded, its shards sent to b
			f := put{path: fmt.Sprintf("files/f%d.bin", k)}
			local := filepath.Join(dir, fmt.Sprintf("f%d.bin", k))
			f.sum = writeRandom(t, local, 256<<10+rng.IntN(2<<20), uint64(k))
			puts = append(puts, f)
			putDone.Store(false)
			job.Go(func() {
				defer finish(&putDone)
				if _, code := runCLI(dir, "--home", "a", "file", "put", demo, f.path, local); code == 0 {
					mu.Lock()
					ackedPuts = append(ackedPuts, f)
					mu.Unlock()
				}
			})
			fallthrough
		default: // posts alone, or beside the put
			importDone.Store(true)
			joinDone.Store(true)
		}
		window := 1800 * time.Millisecond
		if k%4 == 3 {
			window = 7 * time.Second // a put started as a restarts took ~5 s here, against ~0.2 s between two settled nodes
		}
		time.Sleep(200*time.Millisecond + time.Duration(rng.Int64N(int64(window))))
		killing.Store(true)
		a.cmd.Process.Signal(syscall.SIGKILL)
		a.cmd.Wait()
		job.Wait()
		if !importDone.Load() {
			killsMidImport++
		}
		if joining.Load() && !joinDone.Load() {
			killsMidJoin++
		}
		if !putDone.Load() {
			killsMidPut++
		}
		a = serve(t, dir, "--home", "a", "--listen", listen) // the store must reopen
	}
	close(stop)
	wg.Wait()

	lost, duplicated := 0, 0
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		da, db := digestOf(t, dir, "a", demo), digestOf(t, dir, "b", demo)
		if da != "" && da == db {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a and b disagree on demo 60 s after the last kill: %s, %s\na: %s\nb: %s", da, db, a.stderr.String(), b.stderr.String())
		}
	}
	// Every file a lists, every acknowledged put among them, reads back
	// whole, byte for byte, through either node.
	listed := must(t, hearsay(t, dir, nil, "--home", "a", "file", "ls", demo))
	filesRead := 0
	for _, f := range puts {
		if !strings.Contains(listed, f.path+"\t") {
			if slices.Contains(ackedPuts, f) {
				lost++
				t.Errorf("the acknowledged file %s is not listed", f.path)
			}
			continue
		}
		for _, h := range []string{"a", "b"} {
			out := filepath.Join(dir, fmt.Sprintf("back-%s-%s", h, filepath.Base(f.path)))
			if r := hearsay(t, dir, nil, "--home", h, "file", "get", demo, f.path, "-o", out); r.code != 0 {
				lost++
				t.Errorf("%s: file get %s: %s", h, f.path, r.stderr)
			} else if sha256File(t, out) != f.sum {
				lost++
				t.Errorf("%s: %s reads back other bytes", h, f.path)
			}
		}
		filesRead++
	}
	a.stop(t)
	b.stop(t)

	for _, h := range []string{"a", "b"} {
		held := map[string]string{}
		texts := map[string]int{}
		for _, l := range strings.Split(must(t, hearsay(t, dir, nil, "--home", h, "log", demo, "--json")), "\n") {
			var e struct{ ID, Kind, Text string }
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("%s's log: %q: %v", h, l, err)
			}
			if e.Kind != "post" {
				continue
			}
			held[e.ID] = e.Text
			if texts[e.Text]++; texts[e.Text] == 2 {
				duplicated++
				t.Errorf("%s holds %q twice", h, e.Text)
			}
		}
		for _, from := range []string{"a", "b"} {
			for id, text := range acked[from] {
				if held[id] != text {
					lost++
					t.Errorf("%s lacks the acknowledged post %s %q (posted on %s)", h, id, text, from)
				}
			}
		}
	}
	entries := 0
	for _, f := range ackedImports {
		entries += f.entries
		if got := digestOf(t, dir, "a", f.group); got != f.digest {
			lost++
			t.Errorf("imported group %s on a: digest %q, want %q", f.group, got, f.digest)
		}
	}
	t.Logf("%d kills of a (%d during an import, %d during a join's sync, %d during a file put); %d of %d posts acknowledged (%d on a, %d on b), each checked on both nodes; %d imports acknowledged (%d entries); %d of %d file puts acknowledged, %d files read back through both nodes; lost %d, duplicated %d",
		*crashKills, killsMidImport, killsMidJoin, killsMidPut, len(acked["a"])+len(acked["b"]), tried.Load(), len(acked["a"]), len(acked["b"]), len(ackedImports), entries, len(ackedPuts), len(puts), filesRead, lost, duplicated)
}

// runCLI runs hearsay in dir, as hearsay does, from any goroutine: it returns
// the standard output and the exit code (-1 if the process did not run).
func runCLI(dir string, args ...string) (string, int) {
	exe, _ := os.Executable()
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), asCLI+"=1", "HEARSAY_HOME="+filepath.Join(dir, "default-home"))
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	} else if err != nil {
		return "", -1
	}
	return out.String(), 0
}

// exported is an export file of one group, and what importing it must give.
type exported struct {
	path, group, digest string
	entries             int
}

// exportFiles makes n groups of posts posts each in the home at dir, and
// an export file of each beside it.
func exportFiles(t *testing.T, dir string, n, posts int) []exported {
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
	var files []exported
	for i := range n {
		g, err := nd.CreateGroup(group.Genesis{Name: fmt.Sprintf("imported%d", i), Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.DefaultQuota})
		if err != nil {
			t.Fatal(err)
		}
		for j := range posts {
			if _, err := nd.Post(g, group.Post{Text: fmt.Sprintf("imported %d.%d", i, j)}, entry.ID{}); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("g%d.export", i))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		count, err := nd.Export(g, f)
		if err := errors.Join(err, f.Close()); err != nil {
			t.Fatal(err)
		}
		d, err := nd.Store.Digest(g)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, exported{path, g.String(), fmt.Sprintf("%x", d), count})
	}
	return files
}

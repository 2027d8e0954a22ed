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
// gossips to a, imports of other groups' export files go through a, and
// fresh homes join a large group from a. crash.kills times, at a random
// moment 0.2–2 s after a starts, a is SIGKILLed and started again on the
// same home, with the posters still posting (they reach a's store
// directly while a is down). Every restart must reopen the store; at the
// end every acknowledged write — a post whose command exited 0 and printed
// its id, an import that exited 0 — is on a (and the posts on b) exactly
// once: no id missing, no text twice.
func TestCrashPoints(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	aHome := filepath.Join(dir, "a")
	big := bigGroup(t, aHome, 3000, 200)
	demo := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	imports := exportFiles(t, filepath.Join(dir, "src"), (*crashKills+2)/3, 300)

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

	var ackedImports []exported
	killsMidImport, killsMidJoin := 0, 0
	for k := range *crashKills {
		var job sync.WaitGroup
		var importDone, joinDone, joining atomic.Bool
		switch k % 3 {
		case 1: // an import through a
			f := imports[k/3]
			job.Go(func() {
				defer importDone.Store(true)
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
				defer joinDone.Store(true)
				if _, code := runCLI(dir, "--home", j, "init"); code == 0 {
					joining.Store(true)
					runCLI(dir, "--home", j, "group", "join", big, "--peer", addr)
				}
			})
		default: // posts alone
			importDone.Store(true)
			joinDone.Store(true)
		}
		time.Sleep(200*time.Millisecond + time.Duration(rng.Int64N(int64(1800*time.Millisecond))))
		a.cmd.Process.Signal(syscall.SIGKILL)
		a.cmd.Wait()
		if !importDone.Load() {
			killsMidImport++
		}
		if joining.Load() && !joinDone.Load() {
			killsMidJoin++
		}
		job.Wait()
		a = serve(t, dir, "--home", "a", "--listen", listen) // the store must reopen
	}
	close(stop)
	wg.Wait()

	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		da, db := digestOf(t, dir, "a", demo), digestOf(t, dir, "b", demo)
		if da != "" && da == db {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a and b disagree on demo 60 s after the last kill: %s, %s\na: %s\nb: %s", da, db, a.stderr.String(), b.stderr.String())
		}
	}
	a.stop(t)
	b.stop(t)

	lost, duplicated := 0, 0
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
	t.Logf("%d kills of a (%d during an import, %d during a join's sync); %d of %d posts acknowledged (%d on a, %d on b), each checked on both nodes; %d imports acknowledged (%d entries); lost %d, duplicated %d",
		*crashKills, killsMidImport, killsMidJoin, len(acked["a"])+len(acked["b"]), tried.Load(), len(acked["a"]), len(acked["b"]), len(ackedImports), entries, lost, duplicated)
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

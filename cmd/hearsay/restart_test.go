package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hearsay/internal/store"
)

// TestRestartWinsTheStore: while commands on a home run one after another
// on its store, a starting node still gets the store (it waits for it, and
// new commands wait for the node), and every post acknowledged before or
// after is stored exactly once.
func TestRestartWinsTheStore(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	exe, _ := os.Executable()
	post := func(text string) (bool, string) {
		cmd := exec.Command(exe, "--home", "a", "post", g, text)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), asCLI+"=1")
		out, err := cmd.CombinedOutput()
		return err == nil, string(out)
	}
	var mu sync.Mutex
	var acked, failed []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				text := fmt.Sprintf("poster %d post %d", i, j)
				ok, out := post(text)
				mu.Lock()
				if ok {
					acked = append(acked, text)
				} else {
					failed = append(failed, out)
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // the posters hold the store, in turns
	s := serve(t, dir, "--home", "a")
	time.Sleep(time.Second) // and now go through the node
	close(stop)
	wg.Wait()
	stored := map[string]int{}
	for _, l := range strings.Split(must(t, hearsay(t, dir, nil, "--home", "a", "log", "demo", "--json")), "\n") {
		var e struct{ Text string }
		json.Unmarshal([]byte(l), &e)
		stored[e.Text]++
	}
	s.stop(t)
	for _, text := range acked {
		if stored[text] != 1 {
			t.Fatalf("%q acknowledged, stored %d times", text, stored[text])
		}
	}
	t.Logf("%d posts acknowledged, %d failed", len(acked), len(failed))
	for _, out := range failed { // a command that opened the store just before the node marked it
		if !strings.Contains(out, "in use by another hearsay process") {
			t.Fatalf("a post failed: %s", out)
		}
	}
}

// TestCommandsTakeTurns: a command that finds the store held by another
// short one waits its turn instead of failing.
func TestCommandsTakeTurns(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "h", "init"))
	held, err := store.Open(filepath.Join(dir, "h", "store"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	released := time.AfterFunc(300*time.Millisecond, func() { held.Close() })
	defer released.Stop()
	if r := hearsay(t, dir, nil, "--home", "h", "group", "list"); r.code != 0 {
		t.Fatalf("a command behind another: exit %d, %q", r.code, r.stderr)
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/store"
)

// TestKilledTenTimesMidSyncIsNeverBanned: B holds a history A lacks; ten
// times, B starts, A and B start syncing it both ways (A fetches, B
// pushes), and B is killed (SIGKILL) as soon as A has stored some of it.
// A sees its sessions with B reset or cut inside a frame, twenty times
// and more, which is what a crash looks like and no misbehaviour: A never
// bans B, charges it nothing, and B, restarted once more, converges.
func TestKilledTenTimesMidSyncIsNeverBanned(t *testing.T) {
	const posts = 12000
	dir := t.TempDir()
	g := bigGroup(t, filepath.Join(dir, "b"), posts, 1000)
	copyGenesis(t, filepath.Join(dir, "b"), filepath.Join(dir, "a"), g)
	a := serve(t, dir, "--home", "a")
	arrived := watchArrivals(t, filepath.Join(dir, "a"), g)
	count := func() int {
		arrived.mu.Lock()
		defer arrived.mu.Unlock()
		return len(arrived.at)
	}
	midSync := 0
	for range 10 {
		before := count()
		b := serve(t, dir, "--home", "b", "--bootstrap", a.addrs[0])
		deadline := time.Now().Add(30 * time.Second)
		for count() < before+20 {
			if time.Now().After(deadline) {
				t.Fatalf("a stored nothing of b's history:\na: %s\nb: %s", a.stderr.String(), b.stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		b.cmd.Process.Signal(syscall.SIGKILL)
		b.cmd.Wait()
		if count() < posts {
			midSync++
		}
	}
	t.Logf("%d of 10 kills while a still lacked entries; a stored %d of %d meanwhile", midSync, count(), posts)
	if midSync < 5 {
		t.Fatalf("only %d kills came mid-sync: the history is too small to test this", midSync)
	}
	b := serve(t, dir, "--home", "b", "--bootstrap", a.addrs[0])
	eventually(t, 60*time.Second, "b's history on a", func() bool { return digestOf(t, dir, "a", g) == digestOf(t, dir, "b", g) })
	var peer node.PeerInfo // one JSON line a peer: b is the only one
	if err := json.Unmarshal([]byte(must(t, hearsay(t, dir, nil, "--home", "a", "peers", "--json"))), &peer); err != nil {
		t.Fatal(err)
	}
	if peer.Violations != 0 {
		t.Fatalf("a's peer after ten kills: %+v", peer)
	}
	for _, h := range []string{"a", "b"} {
		if _, err := os.Stat(filepath.Join(dir, h, "bans.json")); err == nil {
			saved, _ := os.ReadFile(filepath.Join(dir, h, "bans.json"))
			t.Fatalf("%s banned someone: %s", h, saved)
		}
	}
	a.stop(t)
	b.stop(t)
}

// copyGenesis gives the home at to (made if needed) the genesis of group g
// from the home at from, and nothing else of it.
func copyGenesis(t *testing.T, from, to string, g string) {
	t.Helper()
	id, err := entry.ParseID(g)
	if err != nil {
		t.Fatal(err)
	}
	open := func(dir string) *node.Node {
		h, _, err := home.Init(dir)
		if err != nil {
			t.Fatal(err)
		}
		n, err := node.Open(h, store.Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	src := open(from)
	gen, err := src.Store.Get(id, id)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	dst := open(to)
	defer dst.Close()
	for _, o := range dst.Store.Ingest([][]byte{gen.Raw}, time.Now().UnixMilli()) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
	}
}

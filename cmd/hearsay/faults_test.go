package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/proto/plumtree"
	"hearsay/internal/store"
	"hearsay/internal/transport"
	"hearsay/internal/wire"

	"github.com/libp2p/go-libp2p/core/network"
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
	// The entries a holds, read from its store over the API: an event
	// stream would be cut off by a burst of thousands of entries (a slow
	// reader loses its subscription), and a `group show` process took a
	// second on a busy machine, while the sync finished.
	api, token := servedAPI(t, filepath.Join(dir, "a"))
	count := func() int { return int(groupInfoOver(t, api, token, g).Entries) }
	midSync := 0
	for range 10 {
		before := count()
		b := serve(t, dir, "--home", "b", "--bootstrap", a.addrs[0])
		deadline := time.Now().Add(30 * time.Second)
		for count() < min(before+20, posts) {
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

// TestAttackersAreBannedWhileHonestPostsFlow: a and b serve a group only
// members write to. Two attackers, libp2p hosts in the test process with
// fresh keys, push to a over the gossip protocol every 100 ms: one entries
// whose signatures do not verify, one validly signed posts it may not
// write (it is no member), each coming back on a new stream when its own
// is reset (graylisted) or its connection closed. Each is banned — saved in a's bans.json,
// disconnected, and refused when it dials again — within a measured time,
// while b's posts keep reaching a within 2 s, and a stores nothing of
// theirs.
func TestAttackersAreBannedWhileHonestPostsFlow(t *testing.T) {
	dir := t.TempDir()
	must(t, hearsay(t, dir, nil, "--home", "a", "init"))
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "members"))
	member := must(t, hearsay(t, dir, nil, "--home", "b", "init"))
	must(t, hearsay(t, dir, nil, "--home", "a", "group", "member", "add", g, member))
	a := serve(t, dir, "--home", "a")
	must(t, hearsay(t, dir, nil, "--home", "b", "group", "join", g, "--peer", a.addrs[0]))
	b := serve(t, dir, "--home", "b", "--bootstrap", a.addrs[0])
	arrived := watchArrivals(t, filepath.Join(dir, "a"), g)
	gid, err := entry.ParseID(g)
	if err != nil {
		t.Fatal(err)
	}
	before := digestOf(t, dir, "a", g)

	type attack struct {
		name   string
		forge  bool      // flip a signature byte; else sign validly as a non-member
		banned time.Time // when the ban was seen
		took   time.Duration
	}
	attacks := []*attack{{name: "forged signatures", forge: true}, {name: "inadmissible posts"}}
	var wg sync.WaitGroup
	for _, at := range attacks {
		wg.Go(func() { at.banned, at.took = runAttack(t, a.addrs[0], filepath.Join(dir, "a"), gid, at.forge) })
	}
	// Honest posts while the attacks run: each on a within 2 s.
	var worst time.Duration
	var posted []time.Time
	for i := range 10 {
		id := must(t, hearsay(t, dir, nil, "--home", "b", "post", g, fmt.Sprintf("honest %d", i)))
		posted = append(posted, time.Now())
		eventually(t, 2*time.Second, "an honest post reaching a", func() bool { _, ok := arrived.of(id); return ok })
		at, _ := arrived.of(id)
		worst = max(worst, at.Sub(posted[i]))
	}
	wg.Wait()
	during := 0
	for _, p := range posted {
		if slices.ContainsFunc(attacks, func(at *attack) bool { return p.Before(at.banned) }) {
			during++
		}
	}
	for _, at := range attacks {
		t.Logf("%s: banned %v after the first push", at.name, at.took)
	}
	t.Logf("honest posts: %d of 10 stored on b while an attacker was not banned yet; each on a within %v of `post` returning", during, worst)
	if during == 0 {
		t.Fatal("no honest post overlapped the attacks")
	}
	var info struct {
		Entries int `json:"entries"`
	}
	json.Unmarshal([]byte(must(t, hearsay(t, dir, nil, "--home", "a", "group", "show", g, "--json"))), &info)
	if info.Entries != 2+10 { // genesis, b's grant, b's posts
		t.Fatalf("a holds %d entries, want 12: something of the attackers' was stored (digest before %s)", info.Entries, before)
	}
	a.stop(t)
	b.stop(t)
}

// runAttack pushes bad entries to the node at addr, whose home is
// homeDir, every 100 ms until the node bans the attacker, and returns when
// it saw the ban and how long after the first push. It checks that the ban
// is saved, that the attacker was disconnected and that a new dial is
// refused.
func runAttack(t *testing.T, addr, homeDir string, g entry.ID, forge bool) (time.Time, time.Duration) {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	h, err := transport.NewHost(key, nil, nil, nil)
	if err != nil {
		t.Error(err)
		return time.Time{}, 0
	}
	defer h.Close()
	self, _ := transport.PeerID(pub)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := transport.Dial(ctx, h, addr)
	if err != nil {
		t.Error(err)
		return time.Time{}, 0
	}
	s, err := h.NewStream(ctx, p, wire.GossipProtocol)
	if err != nil {
		t.Error(err)
		return time.Time{}, 0
	}
	var author entry.Author
	copy(author[:], pub)
	body, _ := group.EncodePost(group.Post{Text: "spam"})
	banned := func() bool {
		bans, _ := os.ReadFile(filepath.Join(homeDir, "bans.json"))
		return strings.Contains(string(bans), self.String())
	}
	start := time.Now()
	for seq := uint64(1); !banned(); seq++ {
		if time.Since(start) > 20*time.Second {
			t.Errorf("forge %v: not banned within 20 s", forge)
			return time.Time{}, 0
		}
		e, err := entry.Sign(entry.Entry{Group: g, Author: author, Seq: seq, HLC: hlc.FromTime(time.Now()), Kind: group.KindPost, Body: body}, key)
		if err != nil {
			t.Error(err)
			return time.Time{}, 0
		}
		if forge {
			e.Raw[len(e.Raw)-1] ^= 1 // the signature's last byte
		}
		b, _ := wire.EncodeGossip(wire.Gossip{Group: g, Broadcast: plumtree.Gossip{ID: plumtree.MessageID(e.ID), Payload: e.Raw}})
		if wire.WriteFrame(s, b) != nil {
			// Reset (graylisted: ignored) or disconnected: a flooder comes
			// back on a new stream, over a new connection if need be.
			if _, err := transport.Dial(ctx, h, addr); err == nil {
				if ns, err := h.NewStream(ctx, p, wire.GossipProtocol); err == nil {
					s = ns
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	seen := time.Now()
	took := seen.Sub(start)
	deadline := time.Now().Add(5 * time.Second)
	for h.Network().Connectedness(p) == network.Connected {
		if time.Now().After(deadline) {
			t.Errorf("forge %v: still connected 5 s after the ban", forge)
			return seen, took
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("forge %v: banned (in bans.json) %v and disconnected %v after the first push", forge, took, time.Since(start))
	if _, err := transport.Dial(ctx, h, addr); err == nil {
		time.Sleep(200 * time.Millisecond) // the node refuses once our peer id is authenticated
		if h.Network().Connectedness(p) == network.Connected {
			t.Errorf("forge %v: a banned peer connected again", forge)
		}
	}
	return seen, took
}

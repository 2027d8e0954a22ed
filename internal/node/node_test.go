package node

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"hearsay/internal/archive"
	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/store"

	"github.com/cockroachdb/pebble/v2/vfs"
)

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return now }

// newNode makes a home on disk; its store lives in memory unless onDisk.
func newNode(t testing.TB, onDisk bool) *Node {
	t.Helper()
	h, _, err := home.Init(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	o := store.Options{}
	if !onDisk {
		o.FS = vfs.NewMem()
	}
	n, err := Open(h, o, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func newKey(seed byte) (ed25519.PrivateKey, entry.Author) {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	var a entry.Author
	copy(a[:], k.Public().(ed25519.PublicKey))
	return k, a
}

// signAll signs n entries on every core; build makes entry i and names its key.
func signAll(n int, build func(i int) (entry.Entry, ed25519.PrivateKey)) [][]byte {
	out := make([][]byte, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				e, key := build(i)
				s, err := entry.Sign(e, key)
				if err != nil {
					panic(err)
				}
				out[i] = s.Raw
			}
		})
	}
	wg.Wait()
	return out
}

func openGenesis() group.Genesis {
	return group.Genesis{Name: "demo", Write: group.WriteMembers, Read: group.ReadPublic, Quota: group.DefaultQuota}
}

// smallGroup makes a group with three posts, one a reply, and exports it.
func smallGroup(t testing.TB) (*Node, entry.ID, []byte) {
	t.Helper()
	n := newNode(t, false)
	g, err := n.CreateGroup(openGenesis())
	if err != nil {
		t.Fatal(err)
	}
	first, err := n.Post(g, group.Post{Subject: "hello", Text: "first post"}, entry.ID{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		text  string
		reply entry.ID
	}{{"a reply", first}, {"third", entry.ID{}}} {
		if _, err := n.Post(g, group.Post{Text: p.text}, p.reply); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if c, err := n.Export(g, &buf); err != nil || c != 4 {
		t.Fatalf("Export: %d entries, %v", c, err)
	}
	return n, g, buf.Bytes()
}

func TestPostAndLog(t *testing.T) {
	n, g, _ := smallGroup(t)
	log, err := n.Log(g, 0, false)
	if err != nil || len(log) != 4 {
		t.Fatalf("Log: %d entries, %v", len(log), err)
	}
	if log[0].Kind != entry.KindGenesis || log[1].Subject != "hello" || log[2].ReplyTo != log[1].ID || log[3].Text != "third" {
		t.Fatalf("log: %+v", log)
	}
	for i, l := range log {
		if l.Seq != uint64(i+1) || l.Author != n.Home.Author.String() {
			t.Fatalf("entry %d: seq %d author %s", i, l.Seq, l.Author)
		}
	}
	if tail, _ := n.Log(g, 2, false); len(tail) != 2 || tail[1].Text != "third" {
		t.Fatalf("Log limit 2: %+v", tail)
	}
	if _, err := n.Post(g, group.Post{Text: "x"}, entry.ID{7}); !errors.Is(err, ErrNoEntry) {
		t.Fatalf("reply to a missing entry: %v", err)
	}
	if _, err := n.Post(entry.ID{7}, group.Post{Text: "x"}, entry.ID{}); !errors.Is(err, group.ErrUnknownGroup) {
		t.Fatalf("post to a missing group: %v", err)
	}
	big := string(make([]byte, group.DefaultQuota.MaxBody))
	if _, err := n.Post(g, group.Post{Text: big}, entry.ID{}); !errors.Is(err, entry.ErrTooLarge) {
		t.Fatalf("oversized post: %v", err)
	}
}

func TestResolveGroup(t *testing.T) {
	n := newNode(t, false)
	a, _ := n.CreateGroup(openGenesis())
	n.CreateGroup(openGenesis()) // a second "demo"
	other := openGenesis()
	other.Name = "other"
	c, _ := n.CreateGroup(other)
	for arg, want := range map[string]entry.ID{a.String(): a, a.String()[:10]: a, "other": c, c.String()[:8]: c} {
		if g, err := n.ResolveGroup(arg); err != nil || g.ID != want {
			t.Errorf("ResolveGroup(%q) = %v", arg, err)
		}
	}
	if _, err := n.ResolveGroup("demo"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("two groups named demo: %v", err)
	}
	if _, err := n.ResolveGroup("nope"); !errors.Is(err, group.ErrUnknownGroup) {
		t.Errorf("unknown name: %v", err)
	}
}

func TestExportImportConverges(t *testing.T) {
	a, g, file := smallGroup(t)
	b := newNode(t, false)
	res, err := b.Import(bytes.NewReader(file))
	if err != nil || !res.OK() || res.Stored != 4 {
		t.Fatalf("Import: %+v, %v", res, err)
	}
	ia, _ := a.GroupInfo(mustGroup(t, a, g))
	ib, _ := b.GroupInfo(mustGroup(t, b, g))
	if ia.Digest != ib.Digest || ib.Entries != 4 {
		t.Fatalf("digests differ after import: %s vs %s", ia.Digest, ib.Digest)
	}
	again, err := b.Import(bytes.NewReader(file))
	if err != nil || !again.OK() || again.Duplicates != 4 || again.Stored != 0 {
		t.Fatalf("re-import: %+v, %v", again, err)
	}
}

func mustGroup(t testing.TB, n *Node, id entry.ID) *group.Group {
	t.Helper()
	g, err := n.Store.Group(id)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestEveryByteFlip corrupts each byte of a small export in turn, three ways,
// and checks that import reports a failure and stores nothing but intact
// entries other than the one the byte belonged to.
func TestEveryByteFlip(t *testing.T) {
	_, _, file := smallGroup(t)
	ar, err := archiveEntries(file)
	if err != nil {
		t.Fatal(err)
	}
	b := newNode(t, false)
	for pos := range file {
		owner := -1 // the header
		for i, e := range ar {
			if pos >= e.start && pos < e.end {
				owner = i
			}
		}
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(file)
			bad[pos] ^= mask
			b = freshStore(t, b)
			res, err := b.Import(bytes.NewReader(bad))
			if err == nil && res.OK() {
				t.Fatalf("byte %d ^ %#x: import succeeded", pos, mask)
			}
			stored := storedIDs(t, b)
			for id := range stored {
				i := indexOf(ar, id)
				if i < 0 || i == owner {
					t.Fatalf("byte %d ^ %#x: stored entry %s, which is not an intact entry of another position", pos, mask, id.Short())
				}
			}
		}
	}
}

type span struct {
	id         entry.ID
	start, end int
}

// archiveEntries splits an intact export into its entries' byte ranges.
func archiveEntries(file []byte) ([]span, error) {
	r, err := archive.NewReader(bytes.NewReader(file))
	if err != nil {
		return nil, err
	}
	var out []span
	for {
		raw, off, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		e, err := entry.Decode(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, span{e.ID, int(off), int(off) + len(raw)})
	}
}

func indexOf(spans []span, id entry.ID) int {
	for i, s := range spans {
		if s.id == id {
			return i
		}
	}
	return -1
}

// freshStore closes n and reopens its home on an empty in-memory store.
func freshStore(t testing.TB, n *Node) *Node {
	t.Helper()
	n.Close()
	m, err := Open(n.Home, store.Options{FS: vfs.NewMem()}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func storedIDs(t testing.TB, n *Node) map[entry.ID]bool {
	t.Helper()
	ids := map[entry.ID]bool{}
	gs, err := n.Store.Groups()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		n.Store.Log(g.ID, func(e *entry.Signed) bool { ids[e.ID] = true; return true })
	}
	return ids
}

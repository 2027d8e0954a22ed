package node

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/view"
)

// clockedNode is a node whose wall clock the test sets.
func clockedNode(t *testing.T, at *time.Time) *Node {
	t.Helper()
	n := newNode(t, false)
	n.now = func() time.Time { return *at }
	return n
}

// raw reads back the encoded entries with the given ids.
func rawOf(t *testing.T, n *Node, g entry.ID, ids ...entry.ID) [][]byte {
	t.Helper()
	var out [][]byte
	for _, id := range ids {
		e, err := n.Store.Get(g, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Raw)
	}
	return out
}

func ingestEach(t *testing.T, n *Node, raws [][]byte) {
	t.Helper()
	for _, r := range raws {
		if o := n.Store.Ingest([][]byte{r}, now.Add(time.Hour).UnixMilli())[0]; o.Err != nil {
			t.Fatal(o.Err)
		}
	}
	if err := n.unsealAll(); err != nil { // as Import does
		t.Fatal(err)
	}
}

func setList(t *testing.T, n *Node, g entry.ID, set string) []string {
	t.Helper()
	v, err := n.View(g)
	if err != nil {
		t.Fatal(err)
	}
	els, err := v.Set(set)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range els {
		out = append(out, e.Value)
	}
	return out
}

func digest(t *testing.T, n *Node, g entry.ID) string {
	t.Helper()
	info, err := n.GroupInfo(mustGroup(t, n, g))
	if err != nil {
		t.Fatal(err)
	}
	return info.Digest
}

func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

// TestAddRemoveAddInEveryOrder delivers add, remove, add of one element in
// all six orders: every replica lists the element.
func TestAddRemoveAddInEveryOrder(t *testing.T) {
	clock := now
	a := clockedNode(t, &clock)
	g, _ := a.CreateGroup(openGenesis())
	var ids []entry.ID
	for _, add := range []bool{true, false, true} {
		clock = clock.Add(time.Second)
		id, err := a.SetOp(g, "tags", "go", add)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	genesis, ops := rawOf(t, a, g, g), rawOf(t, a, g, ids...)
	want := digest(t, a, g)
	for _, order := range permutations(3) {
		b := newNode(t, false)
		ingestEach(t, b, genesis)
		for _, i := range order {
			ingestEach(t, b, ops[i:i+1])
		}
		if got := setList(t, b, g, "tags"); !slices.Equal(got, []string{"go"}) || digest(t, b, g) != want {
			t.Errorf("order %v: set %v", order, got)
		}
	}
}

// TestConcurrentAddRemoveConverges has two authors add and remove the same
// elements without seeing each other; replicas that receive everything in
// different orders show the same set and digest.
func TestConcurrentAddRemoveConverges(t *testing.T) {
	clockA, clockB := now, now
	alice, bob := clockedNode(t, &clockA), clockedNode(t, &clockB)
	gen := openGenesis()
	gen.Write = group.WriteOpen
	g, _ := alice.CreateGroup(gen)
	ingestEach(t, bob, rawOf(t, alice, g, g))
	var raws [][]byte
	for i, el := range []string{"x", "y", "z", "x", "y"} {
		clockA, clockB = clockA.Add(time.Duration(i+1)*time.Millisecond), clockB.Add(time.Duration(5-i)*time.Millisecond)
		ia, err := alice.SetOp(g, "s", el, i%2 == 0)
		if err != nil {
			t.Fatal(err)
		}
		ib, err := bob.SetOp(g, "s", el, i%2 == 1)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, rawOf(t, alice, g, ia)[0], rawOf(t, bob, g, ib)[0])
	}
	var wantSet []string
	var wantDigest string
	for trial, order := range [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, {1, 3, 5, 7, 9, 0, 2, 4, 6, 8}, {4, 0, 9, 2, 7, 1, 8, 3, 6, 5}} {
		r := newNode(t, false)
		ingestEach(t, r, rawOf(t, alice, g, g))
		for _, i := range order {
			ingestEach(t, r, raws[i:i+1])
		}
		got, d := setList(t, r, g, "s"), digest(t, r, g)
		if trial == 0 {
			wantSet, wantDigest = got, d
			continue
		}
		if !slices.Equal(got, wantSet) || d != wantDigest {
			t.Fatalf("order %v: set %v digest %s; first replica: %v %s", order, got, d[:12], wantSet, wantDigest[:12])
		}
	}
}

func TestReplyBeforeParent(t *testing.T) {
	clock := now
	a := clockedNode(t, &clock)
	g, _ := a.CreateGroup(openGenesis())
	clock = clock.Add(time.Second)
	parent, _ := a.Post(g, group.Post{Text: "parent"}, entry.ID{})
	clock = clock.Add(time.Second)
	reply, _ := a.Post(g, group.Post{Text: "reply"}, parent)
	clock = clock.Add(time.Second)
	nested, _ := a.Post(g, group.Post{Text: "nested"}, reply)

	b := newNode(t, false)
	ingestEach(t, b, rawOf(t, a, g, g, nested, reply))
	v, _ := b.View(g)
	if _, err := v.Thread(parent); !errors.Is(err, ErrNoEntry) && err == nil {
		t.Fatalf("a thread whose root has not arrived: %v", err)
	}
	ingestEach(t, b, rawOf(t, a, g, parent))
	v, _ = b.View(g)
	root, err := v.Thread(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(root.Children) != 1 || root.Children[0].Post.Text != "reply" ||
		len(root.Children[0].Children) != 1 || root.Children[0].Children[0].Post.Text != "nested" {
		t.Fatalf("the replies that came first are not under their parent: %+v", root)
	}
}

func TestDirectoryHistory(t *testing.T) {
	clock := now
	a := clockedNode(t, &clock)
	g, _ := a.CreateGroup(openGenesis())
	for _, val := range []string{"one", "two", "three"} {
		clock = clock.Add(time.Second)
		if _, err := a.DirPut(g, "docs/readme", []byte(val)); err != nil {
			t.Fatal(err)
		}
	}
	clock = clock.Add(time.Second)
	if _, err := a.DirRm(g, "docs/readme"); err != nil {
		t.Fatal(err)
	}
	v, _ := a.View(g)
	hist, err := v.History("docs/readme")
	if err != nil || len(hist) != 4 {
		t.Fatalf("History: %d versions, %v", len(hist), err)
	}
	if hist[0].Op != group.OpRm || hist[1].Op != group.OpPut || !hist[1].At.Less(hist[0].At) || hist[3].Author != a.Home.Author {
		t.Fatalf("history not newest first: %+v", hist)
	}
	if _, err := v.History("docs/never"); !errors.Is(err, view.ErrNoPath) {
		t.Fatalf("History of a path never written: %v", err)
	}
	if _, _, err := v.Get("docs/readme"); !errors.Is(err, view.ErrNoPath) {
		t.Fatalf("Get after rm: %v", err)
	}
	if _, err := a.DirRm(g, "docs/readme"); !errors.Is(err, view.ErrNoPath) {
		t.Fatalf("rm of a removed path: %v", err)
	}
	clock = clock.Add(time.Second)
	a.DirPut(g, "docs/readme", []byte("four"))
	v, _ = a.View(g)
	if _, val, err := v.Get("docs/readme"); err != nil || string(val) != "four" {
		t.Fatalf("Get after a put on a tombstone: %q %v", val, err)
	}
	if _, err := a.DirPut(g, "docs/../etc", []byte("x")); err == nil {
		t.Fatal("a path with .. was accepted")
	}
}

// TestFindReadsOnlyMatches fills a directory with dirPaths paths and checks
// that a prefix search returns exactly the matches.
func TestFindReadsOnlyMatches(t *testing.T) {
	const dirPaths = 100_000
	a := newNode(t, false)
	gen := openGenesis()
	gen.Quota = group.Quota{MaxBody: 1 << 10}
	g, _ := a.CreateGroup(gen)
	start := a.clock.Last()
	raws := signAll(dirPaths, func(i int) (entry.Entry, ed25519.PrivateKey) {
		body, _ := group.Encode(group.KindDir, &group.DirOp{Path: fmt.Sprintf("d%02d/f%06d", i%100, i), Op: group.OpPut, Value: []byte{1}})
		return entry.Entry{Group: g, Author: a.Home.Author, Seq: uint64(i + 2), HLC: start + hlc.Timestamp(1+i)<<16,
			Kind: group.KindDir, Body: body}, a.Home.Key
	})
	for i := 0; i < len(raws); i += 4096 {
		for _, o := range a.Store.Ingest(raws[i:min(i+4096, len(raws))], now.Add(48*time.Hour).UnixMilli()) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
		}
	}
	v, _ := a.View(g)
	found, err := v.Find("d07/")
	if err != nil || len(found) != dirPaths/100 {
		t.Fatalf("Find: %d paths, %v", len(found), err)
	}
	for _, f := range found {
		if !bytes.HasPrefix([]byte(f.Path), []byte("d07/")) {
			t.Fatalf("Find returned %q", f.Path)
		}
	}
	if found, _ := v.Find("d07/f000007"); len(found) != 1 || found[0].Path != "d07/f000007" {
		t.Fatalf("Find of one path: %+v", found)
	}
}

func TestSetNames(t *testing.T) {
	n := newNode(t, false)
	g, err := n.CreateGroup(openGenesis())
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []struct {
		set, el string
		add     bool
	}{{"tags", "a", true}, {"books", "x", true}, {"tags", "b", true}, {"empty", "y", true}, {"empty", "y", false}} {
		if _, err := n.SetOp(g, op.set, op.el, op.add); err != nil {
			t.Fatal(err)
		}
	}
	v, err := n.View(g)
	if err != nil {
		t.Fatal(err)
	}
	names, err := v.SetNames()
	if err != nil || strings.Join(names, ",") != "books,empty,tags" {
		t.Fatalf("SetNames %v, %v", names, err)
	}
}

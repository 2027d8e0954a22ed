package nntp

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/home"
	"hearsay/internal/node"
	"hearsay/internal/store"
)

// benchPosts is the size of the group OVER reads in the benchmarks
// (docs/benchmarks.md, "NNTP").
const benchPosts = 100_000

var bench struct {
	once sync.Once
	dir  string
	n    *node.Node
	g    entry.ID
	err  error
}

// TestMain removes the benchmarks' shared node when the run ends.
func TestMain(m *testing.M) {
	code := m.Run()
	if bench.n != nil {
		bench.n.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchGroup is a node on disk with one group of benchPosts posts, every
// fifth a reply, shared by the benchmarks of one run.
func benchGroup(b *testing.B) (*node.Node, entry.ID) {
	bench.once.Do(func() {
		dir, err := os.MkdirTemp("", "hearsay-nntp-bench-")
		if err != nil {
			bench.err = err
			return
		}
		bench.dir = dir
		h, _, err := home.Init(filepath.Join(dir, "home"))
		if err != nil {
			bench.err = err
			return
		}
		n, err := node.Open(h, store.Options{}, nil)
		if err != nil {
			bench.err = err
			return
		}
		bench.n = n
		g, err := n.CreateGroup(group.Genesis{Name: "bench", Write: group.WriteOpen, Read: group.ReadPublic, Quota: group.Quota{MaxBody: 64 << 10}})
		if err != nil {
			bench.err = err
			return
		}
		bench.g = g
		t0 := n.Store.MaxHLC().Millis() + 1
		var root entry.ID
		for i := 0; i < benchPosts; i += store.ChunkSize {
			var raws [][]byte
			for j := i; j < min(i+store.ChunkSize, benchPosts); j++ {
				var refs []entry.ID
				p := group.Post{Subject: fmt.Sprintf("thread %d", j), Text: strings.Repeat("a line of the post\n", 1+j%5)}
				if j%5 != 0 {
					refs, p.Subject = []entry.ID{root}, ""
				}
				body, _ := group.EncodePost(p)
				s, err := entry.Sign(entry.Entry{Group: g, Author: h.Author, Seq: uint64(j + 2), HLC: hlc.New(t0+int64(j), 0),
					Kind: group.KindPost, Refs: refs, Body: body}, h.Key)
				if err != nil {
					bench.err = err
					return
				}
				if j%5 == 0 {
					root = s.ID
				}
				raws = append(raws, s.Raw)
			}
			for _, o := range n.Store.Ingest(raws, t0+benchPosts) {
				if o.Err != nil {
					bench.err = o.Err
					return
				}
			}
		}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.n, bench.g
}

// BenchmarkOver100k is a newsreader's OVER of every article of a group of
// 100,000 posts, over a loopback connection; compare BenchmarkLogJSON100k.
func BenchmarkOver100k(b *testing.B) {
	n, _ := benchGroup(b)
	s := serveNode(b, n, DefaultLimits)
	g, _ := n.Store.Group(bench.g)
	cl := dial(b, s)
	cl.login()
	code(b, cl.cmd("GROUP %s", Name(g)), "211")
	for b.Loop() {
		cl.c.SetDeadline(deadline())
		code(b, cl.cmd("OVER 1-%d", benchPosts), "224")
		if got := cl.count(); got != benchPosts {
			b.Fatalf("OVER gave %d lines", got)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchPosts, "ns/article")
}

// BenchmarkLogJSON100k reads the same posts as `hearsay log --json` does:
// the node's Log, one JSON line per entry.
func BenchmarkLogJSON100k(b *testing.B) {
	n, g := benchGroup(b)
	for b.Loop() {
		log, err := n.Log(g, 0, false)
		if err != nil {
			b.Fatal(err)
		}
		enc := json.NewEncoder(io.Discard)
		posts := 0
		for _, l := range log {
			if l.Kind == group.KindPost {
				posts++
			}
			enc.Encode(l)
		}
		if posts != benchPosts {
			b.Fatalf("log gave %d posts", posts)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchPosts, "ns/article")
}

// count reads a multi-line block and counts its lines, parsing nothing, so
// that the benchmark measures the server.
func (cl *client) count() int {
	cl.t.Helper()
	for n := 0; ; n++ {
		l, err := cl.r.ReadSlice('\n')
		if err != nil {
			cl.t.Fatal(err)
		}
		if string(l) == ".\r\n" {
			return n
		}
	}
}

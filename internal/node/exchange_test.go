package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"hearsay/internal/archive"
	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
)

// FuzzImport feeds arbitrary files to the whole import path: framing,
// decoding, verification, admission and the store. Whatever the input, the
// node must not panic, the counts must add up, and only verified entries may
// be stored.
func FuzzImport(f *testing.F) {
	_, _, file := smallGroup(f)
	f.Add(file)
	f.Add(file[:len(file)/2])
	n := newNode(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := n.Import(bytes.NewReader(b))
		if err != nil {
			return
		}
		if res.Stored+res.Duplicates+len(res.Refused) != res.Read {
			t.Fatalf("counts do not add up: %+v", res)
		}
		gs, err := n.Store.Groups()
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			n.Store.Log(g.ID, func(e *entry.Signed) bool {
				if err := e.Verify(); err != nil {
					t.Fatalf("stored an unverified entry: %v", err)
				}
				return true
			})
		}
	})
}

// import100k is an export file of 100,000 posts by 100 authors in one
// unlimited group, built once per test binary.
var import100k = sync.OnceValue(func() []byte {
	const entries = 100_000
	owner, _ := newKey(0)
	gen, err := group.NewGenesis(group.Genesis{Name: "bench", Write: group.WriteOpen, Read: group.ReadPublic,
		Quota: group.Quota{MaxBody: 64 << 10}}, owner, hlc.FromTime(now.Add(-48*3600e9)))
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	w := archive.NewWriter(&buf)
	w.Write(gen.Raw)
	keys := make([]ed25519.PrivateKey, 100)
	authors := make([]entry.Author, 100)
	for a := range keys {
		keys[a], authors[a] = newKey(byte(a + 1))
	}
	raws := signAll(entries-1, func(i int) (entry.Entry, ed25519.PrivateKey) {
		body, _ := group.EncodePost(group.Post{Text: fmt.Sprintf("%0150d", i)})
		return entry.Entry{Group: gen.ID, Author: authors[i%100], Seq: uint64(i/100 + 1),
			HLC: gen.HLC + hlc.Timestamp(i+1)<<16, Kind: group.KindPost, Body: body}, keys[i%100]
	})
	for _, r := range raws {
		w.Write(r)
	}
	return buf.Bytes()
})

// BenchmarkImport100k imports a 100,000-entry export into an empty store on
// disk: the wall time of `hearsay import` less process start.
func BenchmarkImport100k(b *testing.B) {
	file := import100k()
	for b.Loop() {
		b.StopTimer()
		n := newNode(b, true)
		b.StartTimer()
		res, err := n.Import(bytes.NewReader(file))
		if err != nil || !res.OK() || res.Stored != 100_000 {
			b.Fatalf("import: %v, %d stored, %d refused", err, res.Stored, len(res.Refused))
		}
		b.StopTimer()
		n.Close()
		b.StartTimer()
	}
	b.ReportMetric(100_000*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/import")
}

// BenchmarkCatchUp compares, in one run, a fresh node joining a
// 100,000-entry group from a peer over libp2p (TCP on loopback) with a
// local import of the same entries. Both stores are on disk.
func BenchmarkCatchUp(b *testing.B) {
	file := import100k()
	source := newNode(b, true)
	if res, err := source.Import(bytes.NewReader(file)); err != nil || res.Stored != 100_000 {
		b.Fatalf("seeding the source: %v", err)
	}
	gs, _ := source.Store.Groups()
	g := gs[0].ID
	nw, err := source.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	if err != nil {
		b.Fatal(err)
	}
	defer nw.Close()
	importOnce := func(b *testing.B) time.Duration {
		b.StopTimer()
		n := newNode(b, true)
		b.StartTimer()
		t := time.Now()
		if res, err := n.Import(bytes.NewReader(file)); err != nil || res.Stored != 100_000 {
			b.Fatalf("import: %v", err)
		}
		d := time.Since(t)
		b.StopTimer()
		n.Close()
		b.StartTimer()
		return d
	}
	joinOnce := func(b *testing.B) time.Duration {
		b.StopTimer()
		n := newNode(b, true)
		joiner, err := n.StartNetwork(nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t := time.Now()
		res, err := joiner.SyncWith(context.Background(), nw.Addrs()[0], g)
		if err != nil || res.Received != 100_000 {
			b.Fatalf("join: %+v, %v", res, err)
		}
		d := time.Since(t)
		b.StopTimer()
		joiner.Close()
		n.Close()
		b.StartTimer()
		return d
	}
	b.Run("import", func(b *testing.B) {
		for b.Loop() {
			importOnce(b)
		}
		b.ReportMetric(100_000*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("join-over-libp2p", func(b *testing.B) {
		for b.Loop() {
			joinOnce(b)
		}
		b.ReportMetric(100_000*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	// ratio alternates the two, one of each per iteration: join's entries/s
	// over import's.
	b.Run("ratio", func(b *testing.B) {
		var imp, join time.Duration
		for b.Loop() {
			imp += importOnce(b)
			join += joinOnce(b)
		}
		b.ReportMetric(imp.Seconds()/join.Seconds(), "join/import")
	})
}

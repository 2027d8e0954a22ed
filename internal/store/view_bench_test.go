package store

import (
	"crypto/ed25519"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/view"

	"github.com/cockroachdb/pebble/v2"
)

// signParallel signs n entries on every core; build makes entry i and names its key.
func signParallel(n int, build func(i int) (entry.Entry, ed25519.PrivateKey)) [][]byte {
	out := make([][]byte, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				s, err := entry.Sign(build(i))
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

// viewEntry is entry i of a group whose views get a mix of everything:
// posts (every other one a reply), set ops and directory versions.
func viewEntry(g entry.ID, a entry.Author, start hlc.Timestamp, i int) entry.Entry {
	e := entry.Entry{Group: g, Author: a, Seq: uint64(i + 2), HLC: start + hlc.Timestamp(i+1)<<16}
	switch i % 3 {
	case 0:
		e.Kind = group.KindPost
		e.Body, _ = group.EncodePost(group.Post{Text: fmt.Sprintf("post %d", i)})
		if i%2 == 1 {
			// NB: a reply's parent is named by id; any earlier post will do.
			e.Refs = []entry.ID{{byte(i), byte(i >> 8)}}
		}
	case 1:
		e.Kind = group.KindSet
		e.Body, _ = group.Encode(group.KindSet, &group.SetOp{Set: fmt.Sprintf("s%d", i%50), Element: fmt.Sprintf("e%d", i%1000), Op: []string{group.OpAdd, group.OpRemove}[i%2]})
	default:
		e.Kind = group.KindDir
		e.Body, _ = group.Encode(group.KindDir, &group.DirOp{Path: fmt.Sprintf("d%d/f%d", i%100, i), Op: group.OpPut, Value: []byte("v")})
	}
	return e
}

// BenchmarkViews compares applying one more entry to the views of a
// 100,000-entry group with refolding the views of the whole group. Both
// write into a Pebble batch committed without fsync, so the figures are the
// views' own cost.
func BenchmarkViews(b *testing.B) {
	const entries = 100_000
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	owner := newAuthor(1)
	gen, _ := group.NewGenesis(group.Genesis{Name: "views", Write: group.WriteOwner, Read: group.ReadPublic,
		Quota: group.Quota{MaxBody: 1 << 10}}, owner.key, hlcAt(t0))
	g := gen.ID
	raws := signParallel(entries+1000, func(i int) (entry.Entry, ed25519.PrivateKey) {
		return viewEntry(g, owner.id, gen.HLC, i), owner.key
	})
	mustIngest := func(rs [][]byte) {
		for _, o := range s.Ingest(rs, t0+int64(len(raws))+1) {
			if o.Err != nil {
				b.Fatal(o.Err)
			}
		}
	}
	mustIngest([][]byte{gen.Raw})
	for i := 0; i < entries; i += ChunkSize {
		mustIngest(raws[i:min(i+ChunkSize, entries)])
	}
	extra := make([]*entry.Signed, 0, 1000)
	for _, r := range raws[entries:] {
		e, _ := entry.Decode(r)
		extra = append(extra, e)
	}

	b.Run("apply-one", func(b *testing.B) {
		i := 0
		for b.Loop() {
			batch := s.db.NewBatch()
			if err := view.Apply(g, extra[i%len(extra)], func(k, v []byte) { batch.Set(k, v, nil) }); err != nil {
				b.Fatal(err)
			}
			if err := batch.Commit(pebble.NoSync); err != nil {
				b.Fatal(err)
			}
			batch.Close()
			i++
		}
	})
	b.Run("refold-100k", func(b *testing.B) {
		for b.Loop() {
			batch := s.db.NewBatch()
			err := s.Log(g, func(e *entry.Signed) bool {
				return view.Apply(g, e, func(k, v []byte) { batch.Set(k, v, nil) }) == nil
			})
			if err == nil {
				err = batch.Commit(pebble.NoSync)
			}
			if err != nil {
				b.Fatal(err)
			}
			batch.Close()
		}
	})
}

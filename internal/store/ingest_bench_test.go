package store

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

const benchEntries = 20_000

// benchPool is one open, unlimited group and benchEntries posts of about
// 200 bytes by 100 authors, signed once per test binary.
var benchPool = sync.OnceValue(func() [][]byte {
	owner := newAuthor(0)
	gen, err := group.NewGenesis(group.Genesis{Name: "bench", Write: group.WriteOpen, Read: group.ReadPublic,
		Quota: group.Quota{MaxBody: 64 << 10}}, owner.key, hlcAt(t0))
	if err != nil {
		panic(err)
	}
	authors := make([]*author, 100)
	for i := range authors {
		authors[i] = newAuthor(byte(i + 1))
	}
	// In log order, as a catch-up receives them: entry i is by author i%100.
	posts := signParallel(benchEntries-1, func(i int) (entry.Entry, ed25519.PrivateKey) {
		a := authors[i%len(authors)]
		body, _ := group.EncodePost(group.Post{Subject: "benchmark", Text: fmt.Sprintf("%0180d", i)})
		return entry.Entry{Group: gen.ID, Author: a.id, Seq: uint64(i/len(authors) + 2), HLC: hlcAt(t0 + int64(i) + 1),
			Kind: group.KindPost, Body: body}, a.key
	})
	return append([][]byte{gen.Raw}, posts...)
})

// BenchmarkIngest compares the whole ingest path on disk (decode, verify,
// dedupe, admit, index, fsynced batches of 1024) with bare Ed25519
// verification of the same entries on all cores. Compare the entries/s.
func BenchmarkIngest(b *testing.B) {
	pool := benchPool()
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s, err := Open(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			rest := pool
			err = s.IngestAll(func() ([][]byte, error) {
				n := min(len(rest), ChunkSize)
				chunk := rest[:n]
				rest = rest[n:]
				if len(rest) == 0 {
					return chunk, io.EOF
				}
				return chunk, nil
			}, func() int64 { return t0 }, func(out []Outcome) {
				for _, o := range out {
					if !o.Stored() {
						b.Fatalf("refused: %v", o.Err)
					}
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(len(pool))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("ed25519-verify-parallel", func(b *testing.B) {
		type job struct{ pub, msg, sig []byte }
		jobs := make([]job, len(pool))
		for i, raw := range pool {
			e, err := entry.Decode(raw)
			if err != nil {
				b.Fatal(err)
			}
			jobs[i] = job{e.Author[:], append([]byte(entry.SignaturePrefix), e.ID[:]...), e.Sig[:]}
		}
		workers := runtime.GOMAXPROCS(0)
		for b.Loop() {
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := w; i < len(jobs); i += workers {
						if !ed25519.Verify(jobs[i].pub, jobs[i].msg, jobs[i].sig) {
							panic("bad signature in the pool")
						}
					}
				})
			}
			wg.Wait()
		}
		b.ReportMetric(float64(len(pool))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
}

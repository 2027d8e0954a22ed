package store

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"

	"github.com/hdevalence/ed25519consensus"
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
// verification of the same entries on all cores: crypto/ed25519.Verify one
// by one (the reference), entry.VerifyBatch in batches of VerifyBatch (the
// store's batch verification alone), and ed25519consensus's batch verifier
// in the same batches. Compare the entries/s; ratios interleaves the four,
// one pass each per iteration, and reports each path's throughput over the
// reference's.
func BenchmarkIngest(b *testing.B) {
	pool := benchPool()
	jobs := verifyJobs(b, pool)
	es := decodeAll(b, pool)
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			ingestPass(b, pool)
		}
		b.ReportMetric(float64(len(pool))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("library-batch-verify-parallel", func(b *testing.B) {
		for b.Loop() {
			batchVerifyPass(jobs)
		}
		b.ReportMetric(float64(len(pool))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("entry-batch-verify-parallel", func(b *testing.B) {
		for b.Loop() {
			entryBatchPass(es)
		}
		b.ReportMetric(float64(len(pool))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("ed25519-verify-parallel", func(b *testing.B) {
		for b.Loop() {
			rawVerifyPass(jobs)
		}
		b.ReportMetric(float64(len(pool))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("ratios", func(b *testing.B) {
		var store, ours, batch, raw time.Duration
		var storeCPU, oursCPU, rawCPU time.Duration
		for b.Loop() {
			c := cpuTime()
			store += ingestPass(b, pool)
			storeCPU += cpuTime() - c
			t, c := time.Now(), cpuTime()
			entryBatchPass(es)
			ours, oursCPU = ours+time.Since(t), oursCPU+cpuTime()-c
			t = time.Now()
			batchVerifyPass(jobs)
			batch += time.Since(t)
			t, c = time.Now(), cpuTime()
			rawVerifyPass(jobs)
			raw, rawCPU = raw+time.Since(t), rawCPU+cpuTime()-c
		}
		b.ReportMetric(raw.Seconds()/store.Seconds(), "ingest/raw")
		b.ReportMetric(raw.Seconds()/ours.Seconds(), "batch/raw")
		b.ReportMetric(raw.Seconds()/batch.Seconds(), "library-batch/raw")
		// The same in CPU time, which other work on the machine changes
		// less than the wall time: what each path costs, not how many
		// cores it got. The store's includes opening and closing it.
		b.ReportMetric(rawCPU.Seconds()/storeCPU.Seconds(), "ingest/raw-cpu")
		b.ReportMetric(rawCPU.Seconds()/oursCPU.Seconds(), "batch/raw-cpu")
	})
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		panic(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// ingestPass ingests pool into a new store on disk and returns how long the
// ingest took; the benchmark's timer leaves out opening and closing the store.
func ingestPass(b *testing.B, pool [][]byte) time.Duration {
	b.StopTimer()
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}()
	b.StartTimer()
	rest := pool
	t := time.Now()
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
	d := time.Since(t)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

type verifyJob struct{ pub, msg, sig []byte }

func verifyJobs(b *testing.B, pool [][]byte) []verifyJob {
	jobs := make([]verifyJob, len(pool))
	for i, raw := range pool {
		e, err := entry.Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		jobs[i] = verifyJob{e.Author[:], append([]byte(entry.SignaturePrefix), e.ID[:]...), e.Sig[:]}
	}
	return jobs
}

// rawVerifyPass is the reference: crypto/ed25519.Verify of every job, on
// GOMAXPROCS goroutines.
func rawVerifyPass(jobs []verifyJob) {
	workers := runtime.GOMAXPROCS(0)
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

func decodeAll(b *testing.B, pool [][]byte) []*entry.Signed {
	es := make([]*entry.Signed, len(pool))
	for i, raw := range pool {
		var err error
		if es[i], err = entry.Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
	return es
}

// entryBatchPass verifies every entry with entry.VerifyBatch in batches of
// VerifyBatch, a contiguous part per goroutine with its own key cache, as
// Prepare does.
func entryBatchPass(es []*entry.Signed) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			keys := entry.NewKeys()
			part := es[w*len(es)/workers : (w+1)*len(es)/workers]
			for len(part) > 0 {
				n := min(len(part), VerifyBatch)
				for _, err := range entry.VerifyBatch(part[:n], keys) {
					if err != nil {
						panic(err)
					}
				}
				part = part[n:]
			}
		})
	}
	wg.Wait()
}

// batchVerifyPass verifies every job in ZIP-215 batches of VerifyBatch, a
// contiguous part of the jobs per goroutine, with ed25519consensus's batch
// verifier.
func batchVerifyPass(jobs []verifyJob) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			part := jobs[w*len(jobs)/workers : (w+1)*len(jobs)/workers]
			for len(part) > 0 {
				n := min(len(part), VerifyBatch)
				v := ed25519consensus.NewPreallocatedBatchVerifier(n)
				for _, j := range part[:n] {
					v.Add(j.pub, j.msg, j.sig)
				}
				if !v.Verify() {
					panic("bad signature in the pool")
				}
				part = part[n:]
			}
		})
	}
	wg.Wait()
}

// BenchmarkServe reads a group's entries as a sync server answers a
// joiner, batches of 1024 ids in log order from a store on disk: one
// GetRaw per id against GetRawMany per batch.
func BenchmarkServe(b *testing.B) {
	pool := benchPool()
	dir := b.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(pool); i += ChunkSize {
		for _, o := range s.Ingest(pool[i:min(len(pool), i+ChunkSize)], t0) {
			if !o.Stored() {
				b.Fatal(o.Err)
			}
		}
	}
	s.Close()
	if s, err = Open(dir, Options{}); err != nil { // a cold cache, as after a restart
		b.Fatal(err)
	}
	defer s.Close()
	var g entry.ID
	var ids []entry.ID
	for _, raw := range pool {
		e, _ := entry.Decode(raw)
		g = e.GroupID()
		ids = append(ids, e.ID)
	}
	b.Run("get-each", func(b *testing.B) {
		for b.Loop() {
			for _, id := range ids {
				if _, err := s.GetRaw(g, id); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(ids)*b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("get-many", func(b *testing.B) {
		for b.Loop() {
			for i := 0; i < len(ids); i += 1024 {
				raws, err := s.GetRawMany(g, ids[i:min(len(ids), i+1024)])
				if err != nil || raws[0] == nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(ids)*b.N)/b.Elapsed().Seconds(), "entries/s")
	})
}

package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// TestStorageFaults: write and fsync errors, injected at random through
// Pebble's errorfs while batches of posts are ingested, come back from
// Ingest as errors (ErrWrite) — never a panic — and once a write failed,
// the store refuses writes until it is reopened. Reopened on the same files
// with nothing unsynced kept (as after a power cut), the store holds every
// acknowledged entry, and its count, digest and log agree.
//
// Each round stays inside Pebble's first memtable (256 KiB): a fault while
// Pebble switches WAL files (rotateWAL) or writes its MANIFEST is fatal in
// Pebble itself, a panic no caller can recover, so the process dies there
// as under kill -9 (which TestCrashPoints in cmd/hearsay covers).
func TestStorageFaults(t *testing.T) {
	const rounds = 40
	faults, acked := 0, 0
	var injectedAll int64
	for round := range rounds {
		rng := rand.New(rand.NewPCG(uint64(round), 15))
		mem := vfs.NewCrashableMem()
		var on atomic.Bool
		var rngMu sync.Mutex // Pebble writes from more than one goroutine
		var injected atomic.Int64
		inj := errorfs.InjectorFunc(func(op errorfs.Op) error {
			switch op.Kind {
			case errorfs.OpFileWrite, errorfs.OpFileWriteAt, errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo, errorfs.OpFileFlush:
				rngMu.Lock()
				hit := rng.IntN(15) == 0
				rngMu.Unlock()
				if on.Load() && hit {
					injected.Add(1)
					return errorfs.ErrInjected
				}
			}
			return nil
		})
		s, err := Open("db", Options{FS: errorfs.Wrap(mem, inj)})
		if err != nil {
			t.Fatal(err)
		}
		a := newAuthor(byte(round))
		gen := a.genesis(t, group.WriteOwner, group.DefaultQuota)
		mustStore(t, s, gen)
		held := []*entry.Signed{gen}
		on.Store(true)
		failed := false
		for i := 0; i < 30 && !failed; i++ {
			batch := make([]*entry.Signed, 1+rng.IntN(20))
			for j := range batch {
				batch[j] = a.post(t, gen.ID, t0+int64(i*20+j)+1, fmt.Sprintf("%d.%d", i, j))
			}
			for j, o := range ingestNoPanic(t, s, raws(batch...)) {
				switch {
				case o.Stored():
					held = append(held, batch[j])
				case o.Err == nil:
					t.Fatalf("round %d: a fresh post not stored, with no error: %+v", round, o)
				default:
					failed = true
					if !isWriteErr(o.Err) {
						t.Fatalf("round %d: a write fault came back as %v", round, o.Err)
					}
				}
			}
		}
		on.Store(false)
		if failed {
			// Once a write failed, a write is refused until the store reopens.
			p := a.post(t, gen.ID, t0+1e6, "after the fault")
			if o := ingestNoPanic(t, s, raws(p))[0]; o.Err == nil {
				t.Fatalf("round %d: a write after a fault was acknowledged", round)
			}
			faults++
		}
		s.Close()
		acked += len(held)

		s = openFS(t, mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0}))
		var logged []entry.ID
		if err := s.Log(gen.ID, func(e *entry.Signed) bool { logged = append(logged, e.ID); return true }); err != nil {
			t.Fatal(err)
		}
		have := map[entry.ID]bool{}
		for _, id := range logged {
			have[id] = true
		}
		for _, e := range held {
			if !have[e.ID] {
				t.Fatalf("round %d: the acknowledged post %s was lost", round, e.ID)
			}
		}
		n, _ := s.Count(gen.ID)
		d, _ := s.Digest(gen.ID)
		if int(n) != len(logged) || d != digestOf(logged...) {
			t.Fatalf("round %d: count %d, log of %d, digest agrees %v", round, n, len(logged), d == digestOf(logged...))
		}
		s.Close()
		injectedAll += injected.Load()
	}
	t.Logf("%d rounds, %d faults injected, %d rounds ended by one (an error from Ingest, then refusals); %d entries acknowledged, lost 0", rounds, injectedAll, faults, acked)
	if faults < rounds/2 {
		t.Fatalf("only %d of %d rounds met a fault", faults, rounds)
	}
}

// ingestNoPanic is Ingest, failing the test on a panic rather than dying.
func ingestNoPanic(t *testing.T, s *Store, raws [][]byte) (out []Outcome) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Ingest panicked on a storage fault: %v", r)
		}
	}()
	return s.Ingest(raws, t0)
}

func isWriteErr(err error) bool { return errors.Is(err, ErrWrite) }

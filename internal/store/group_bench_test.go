package store

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkGroupDuringCommits times Store.Group (the gossip layer's Serves,
// asked for every message of a group it has no state for yet) while
// another goroutine commits fsynced batches of 64 entries one after the
// other, on a store on disk.
func BenchmarkGroupDuringCommits(b *testing.B) {
	pool := benchPool()
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	o := s.Ingest(pool[:1], t0)[0] // the genesis
	if !o.Stored() {
		b.Fatal(o.Err)
	}
	g := o.ID
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for rest := pool[1:]; len(rest) > 0 && !stop.Load(); rest = rest[min(len(rest), 64):] {
			s.Ingest(rest[:min(len(rest), 64)], t0)
		}
	}()
	var lat []time.Duration
	for b.Loop() {
		for range 500 {
			t := time.Now()
			if _, err := s.Group(g); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
			time.Sleep(500 * time.Microsecond)
		}
	}
	stop.Store(true)
	<-done
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}

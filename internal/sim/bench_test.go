package sim

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkSim reports what a simulated node costs: bytes of live heap per
// node at the end of a run (its state still held) and events handled per
// second, so that a change that makes the simulator heavier or slower
// shows. It asserts nothing about time. Run with
// `nice go test ./internal/sim -run '^$' -bench Sim -benchtime 3x`.
func BenchmarkSim(b *testing.B) {
	const nodes = 5000
	var heap, events, wall float64
	runs := 0
	for b.Loop() {
		s := New(DefaultConfig(nodes, 20))
		start := time.Now()
		r := s.Run()
		wall += time.Since(start).Seconds()
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap += float64(ms.HeapAlloc)
		events += float64(r.Events)
		runs++
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(heap/float64(runs)/nodes, "heap-B/node")
	b.ReportMetric(events/wall, "events/s")
}

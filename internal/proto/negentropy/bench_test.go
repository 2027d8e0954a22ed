package negentropy

import (
	"fmt"
	"math/rand/v2"
	"testing"

	nostrneg "github.com/nbd-wtf/go-nostr/nip77/negentropy"
	"github.com/nbd-wtf/go-nostr/nip77/negentropy/storage/vector"
)

// benchSets is n items on each side, d of them differing (half only on the
// client, half only on the server). NB: timestamps stay below 2^56, which
// go-nostr's varint encoder cannot exceed; hearsay's hlc values do.
func benchSets(n, d int) (client, server []Item) {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(d)))
	item := func(i int) Item {
		it := Item{Timestamp: 1_767_225_600_000 + uint64(i)}
		for j := range it.ID {
			it.ID[j] = byte(rng.Uint32())
		}
		return it
	}
	for i := range n - d/2 {
		it := item(i)
		client, server = append(client, it), append(server, it)
	}
	for i := range d / 2 {
		client = append(client, item(n+i))
	}
	for i := range d - d/2 {
		server = append(server, item(n+d+i))
	}
	return client, server
}

// scatteredSets is benchSets with the differences at random places: every
// item's timestamp is drawn at random over the set's span, so the d
// differing items fall anywhere in it rather than together at its end.
func scatteredSets(n, d int) (client, server []Item) {
	rng := rand.New(rand.NewPCG(uint64(n)+1, uint64(d)))
	item := func() Item {
		it := Item{Timestamp: 1_767_225_600_000 + uint64(rng.IntN(n))}
		for j := range it.ID {
			it.ID[j] = byte(rng.Uint32())
		}
		return it
	}
	for range n - d/2 {
		it := item()
		client, server = append(client, it), append(server, it)
	}
	for range d / 2 {
		client = append(client, item())
	}
	for range d - d/2 {
		server = append(server, item())
	}
	return client, server
}

// goNostrReconcile runs go-nostr's client against its server, draining the
// id channels as its API requires, and returns bytes and round trips.
func goNostrReconcile(b *testing.B, client, server *vector.Vector) (bytes, rounds int) {
	c, s := nostrneg.New(client, 0), nostrneg.New(server, 0)
	done := make(chan int)
	for _, ch := range []chan string{c.Haves, c.HaveNots} {
		go func() {
			n := 0
			for range ch {
				n++
			}
			done <- n
		}()
	}
	msg := c.Start()
	for msg != "" {
		rounds++
		reply, err := s.Reconcile(msg)
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(msg)/2 + len(reply)/2
		if msg, err = c.Reconcile(reply); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	<-done
	return bytes, rounds
}

// fullIDLists is the naive protocol: the client sends every id, the server
// answers with the ids the client lacks and those it lacks itself.
func fullIDLists(client, server []Item) (bytes int) {
	msg := make([]byte, 0, 32*len(client))
	for _, it := range client {
		msg = append(msg, it.ID[:]...)
	}
	theirs := make(map[ID]bool, len(msg)/32)
	for i := 0; i < len(msg); i += 32 {
		theirs[ID(msg[i:i+32])] = true
	}
	var reply []byte
	for _, it := range server {
		if !theirs[it.ID] {
			reply = append(reply, it.ID[:]...)
		}
		delete(theirs, it.ID)
	}
	for id := range theirs {
		reply = append(reply, id[:]...)
	}
	return len(msg) + len(reply)
}

// BenchmarkReconcile compares, in one run, our sessions (over a vector and
// over the insert-maintained tree), go-nostr's (vector storage) and a naive
// exchange of full id lists on 10^6 items per side with
// d differences, at the end of the set (the newest entries, as after a
// partition) or scattered at random through it. Metrics: bytes in both directions, round trips, and time
// per whole reconciliation; both sides run here, so time is CPU time.
// Storage is built once per d, outside the timing.
func BenchmarkReconcile(b *testing.B) {
	const n = 1_000_000
	for _, c := range []struct {
		d  int
		at string
	}{{1, "end"}, {100, "end"}, {10_000, "end"}, {1, "scattered"}, {100, "scattered"}, {10_000, "scattered"}} {
		d := c.d
		ci, si := benchSets(n, d)
		if c.at == "scattered" {
			ci, si = scatteredSets(n, d)
		}
		ourC, ourS := NewVector(append([]Item{}, ci...)), NewVector(append([]Item{}, si...))
		theirC, theirS := theirVector(ci), theirVector(si)
		var treeC, treeS Tree
		for _, it := range ci {
			treeC.Insert(it)
		}
		for _, it := range si {
			treeS.Insert(it)
		}
		b.Run(fmt.Sprintf("d=%d/at=%s/impl=ours", d, c.at), func(b *testing.B) {
			var bytes, rounds int
			for b.Loop() {
				_, _, rounds, bytes = reconcile(b, ourC, ourS, 0)
			}
			b.ReportMetric(float64(bytes), "bytes")
			b.ReportMetric(float64(rounds), "rounds")
		})
		b.Run(fmt.Sprintf("d=%d/at=%s/impl=ours-4KiB-frames", d, c.at), func(b *testing.B) {
			var bytes, rounds int
			for b.Loop() {
				_, _, rounds, bytes = reconcile(b, ourC, ourS, MinFrame)
			}
			b.ReportMetric(float64(bytes), "bytes")
			b.ReportMetric(float64(rounds), "rounds")
		})
		b.Run(fmt.Sprintf("d=%d/at=%s/impl=ours-tree", d, c.at), func(b *testing.B) {
			var bytes, rounds int
			for b.Loop() {
				_, _, rounds, bytes = reconcile(b, &treeC, &treeS, 0)
			}
			b.ReportMetric(float64(bytes), "bytes")
			b.ReportMetric(float64(rounds), "rounds")
		})
		b.Run(fmt.Sprintf("d=%d/at=%s/impl=go-nostr", d, c.at), func(b *testing.B) {
			var bytes, rounds int
			for b.Loop() {
				bytes, rounds = goNostrReconcile(b, theirC, theirS)
			}
			b.ReportMetric(float64(bytes), "bytes")
			b.ReportMetric(float64(rounds), "rounds")
		})
		b.Run(fmt.Sprintf("d=%d/at=%s/impl=full-id-lists", d, c.at), func(b *testing.B) {
			var bytes int
			for b.Loop() {
				bytes = fullIDLists(ci, si)
			}
			b.ReportMetric(float64(bytes), "bytes")
			b.ReportMetric(1, "rounds")
		})
	}
}

package node

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"hearsay/internal/blob"
	"hearsay/internal/entry"
	"hearsay/internal/shards"
	"hearsay/internal/transport"
)

// benchFile codes size random bytes with k data shards and no parity, and
// stores shard j of every stripe (and the table) in holders[j % len].
func benchFile(b *testing.B, g entry.ID, size, k int, seed uint64, holders []*Network) *File {
	b.Helper()
	p := blob.Params{SegmentSize: blob.SegmentSize, K: k, M: 0}
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	c, err := blob.NewCoder(p, int64(size), nil)
	if err != nil {
		b.Fatal(err)
	}
	var table blob.Table
	for i := range p.Stripes(int64(size)) {
		shs, err := c.Encode(i, data[i*p.SegmentSize:i*p.SegmentSize+p.SegmentLen(int64(size), i)])
		if err != nil {
			b.Fatal(err)
		}
		for j, sh := range shs {
			id := blob.IDOf(sh)
			table = append(table, id)
			if err := holders[j%len(holders)].blobs.objects.Put(shards.Meta{ID: id, Group: g}, sh); err != nil {
				b.Fatal(err)
			}
		}
	}
	tb := table.Encode()
	tid := blob.IDOf(tb)
	holders[0].blobs.objects.Put(shards.Meta{ID: tid, Group: g}, tb)
	content := blob.NewContentHasher()
	return &File{Group: g, Path: fmt.Sprintf("bench-%d", seed), Table: table,
		M: blob.Manifest{Size: uint64(size), Segment: blob.SegmentSize, K: uint16(k), Content: content.Sum().Bytes(), Table: tid[:]}}
}

// BenchmarkGetManySources compares a get of a file whose k shards per
// stripe sit on k different peers with a get of one whose shards all sit
// on one peer, every holder's upload capped at the same rate: the ratio of
// their times is the multi-source speedup (target ≥ 0.8·k). Real libp2p
// hosts on loopback, real object stores on disk.
func BenchmarkGetManySources(b *testing.B) {
	const k, capRate, size = 4, 16 << 20, 16 << 20
	getter := newNode(b, false)
	ng, err := getter.StartNetwork(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ng.Close()
	var holders []*Network
	for range k {
		nh, err := newNode(b, false).StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
		if err != nil {
			b.Fatal(err)
		}
		defer nh.Close()
		nh.blobs.setLimits(StorageLimits{Config: nh.blobs.limits.Config, UploadRate: capRate})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := transport.Dial(ctx, ng.Host, nh.Addrs()[0]); err != nil {
			b.Fatal(err)
		}
		cancel()
		holders = append(holders, nh)
	}
	g := entry.ID{1}
	files := map[string]*File{
		"sources=1":                  benchFile(b, g, size, k, 1, holders[:1]),
		fmt.Sprintf("sources=%d", k): benchFile(b, g, size, k, 2, holders),
	}
	for _, name := range []string{"sources=1", fmt.Sprintf("sources=%d", k)} {
		f := files[name]
		src := ng.Source(g)
		read := func() {
			r, err := OpenFile(context.Background(), f, src)
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, r); err != nil || n != size {
				b.Fatalf("read %d of %d bytes: %v", n, size, err)
			}
			r.Close()
		}
		read() // locates the holders once, and reaches (or gives up on) the DHT
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				read()
			}
		})
	}
}

package node

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"hearsay/internal/blob"
	"hearsay/internal/shards"
)

// TestExpiredLeasesAreCollected: an object held for a peer whose lease has
// ended is dropped and unbooked; this node's own objects and live leases stay.
func TestExpiredLeasesAreCollected(t *testing.T) {
	nw, err := newNode(t, false).StartNetwork(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	b := nw.blobs
	self := nw.Host.ID().String()
	put := func(owner string, expires int64, fill byte) blob.ID {
		data := bytes.Repeat([]byte{fill}, 1000)
		id := blob.IDOf(data)
		if err := b.objects.Put(shards.Meta{ID: id, Owner: owner, Writer: [32]byte{7}, Expires: expires}, data); err != nil {
			t.Fatal(err)
		}
		if owner != self {
			if err := b.ledger.Accept(owner, "0700000000000000000000000000000000000000000000000000000000000000", 1000); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	now := time.Unix(1_000_000, 0)
	gone, kept, own := put("peer", now.Unix()-1, 1), put("peer", now.Unix()+1, 2), put(self, now.Unix()-1, 3)
	b.collect(now)
	if b.objects.Has(gone) || !b.objects.Has(kept) || !b.objects.Has(own) {
		t.Fatalf("after collecting: expired %v, live %v, own %v", b.objects.Has(gone), b.objects.Has(kept), b.objects.Has(own))
	}
	if a := b.ledger.Get("peer"); a.HeldFor != 1000 || b.ledger.Total != 1000 {
		t.Fatalf("the ledger after collecting: %+v, total %d", a, b.ledger.Total)
	}
}

// TestFailedPutLeavesNothing: a put whose content is cut short, or that
// the group refuses, leaves no object behind; one that succeeds, all.
func TestFailedPutLeavesNothing(t *testing.T) {
	n := newNode(t, false)
	gen := openGenesis()
	g, err := n.CreateGroup(gen)
	if err != nil {
		t.Fatal(err)
	}
	objects, _ := n.Objects()
	data := bytes.Repeat([]byte("0123456789"), 300_000)
	if _, _, err := n.FilePut(g, "cut.bin", bytes.NewReader(data[:2_000_000]), int64(len(data)), PutOptions{K: 2, M: 1}); err == nil {
		t.Fatal("a put cut short succeeded")
	}
	if len(objects.List()) != 0 {
		t.Fatalf("a failed put left %d objects", len(objects.List()))
	}
	if _, _, err := n.FilePut(g, "a/../b", bytes.NewReader(data), int64(len(data)), PutOptions{K: 2, M: 1}); err == nil || len(objects.List()) != 0 {
		t.Fatalf("a refused path: %v, %d objects", err, len(objects.List()))
	}
	f, _, err := n.FilePut(g, "whole.bin", bytes.NewReader(data), int64(len(data)), PutOptions{K: 2, M: 1})
	if err != nil || len(objects.List()) != len(f.Table)+1 {
		t.Fatalf("a whole put: %v, %d objects for %d shards and the table", err, len(objects.List()), len(f.Table))
	}
}

// TestFileReaderSeeks: reads from any offset, in any order, give the
// content's bytes; a stripe that cannot be had is an error each time it is
// read, never a hang.
func TestFileReaderSeeks(t *testing.T) {
	n := newNode(t, false)
	g, _ := n.CreateGroup(openGenesis())
	data := make([]byte, 20<<20+123)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	f, _, err := n.FilePut(g, "big.bin", bytes.NewReader(data), int64(len(data)), PutOptions{K: 2, M: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenFile(context.Background(), f, n.LocalSource())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, off := range []int64{0, 15 << 20, 3, 20 << 20, 1<<20 - 1, int64(len(data)) - 5, 9 << 20} {
		buf := make([]byte, 5000)
		r.Seek(off, io.SeekStart)
		got, err := io.ReadFull(r, buf)
		if want := min(len(buf), len(data)-int(off)); got != want || !bytes.Equal(buf[:got], data[off:off+int64(got)]) {
			t.Fatalf("at %d: %d bytes, %v", off, got, err)
		}
	}
	objects, _ := n.Objects()
	p := f.Params()
	for j := range p.N() {
		objects.Delete(f.Table.Shard(p, 12, j)) // stripe 12 is gone
	}
	r2, err := OpenFile(context.Background(), f, n.LocalSource()) // the first has stripe 12 fetched already
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	for range 2 {
		r2.Seek(12<<20+10, io.SeekStart)
		if _, err := r2.Read(make([]byte, 10)); err == nil {
			t.Fatal("read a stripe whose shards are gone")
		}
	}
}

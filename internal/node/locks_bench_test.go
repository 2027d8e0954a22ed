package node

import (
	"bytes"
	"context"
	"fmt"
	"runtime/trace"
	"slices"
	"testing"
	"time"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/hlc"
	"hearsay/internal/proto/negentropy"
	"hearsay/internal/transport"
	"hearsay/internal/wire"
)

// BenchmarkPrivateGroups compares, in one run, ingesting entries of a
// public group from a peer into a node that holds 20 private groups (each
// with its key entries and a sealed post) and into one that holds none.
// Both stores are on disk; the ingests alternate, one entry each, as
// gossip admits a push.
func BenchmarkPrivateGroups(b *testing.B) {
	const private, rounds = 20, 300
	bare, loaded := newNode(b, true), newNode(b, true)
	for i := range private {
		gen := openGenesis()
		gen.Name = fmt.Sprintf("private-%d", i)
		gen.Read = group.ReadMembers
		g, err := loaded.CreateGroup(gen)
		if err != nil {
			b.Fatal(err)
		}
		_, other := newKey(byte(200 + i))
		if _, err := loaded.SetMember(g, other, true, false); err != nil {
			b.Fatal(err)
		}
		if _, err := loaded.Post(g, group.Post{Text: "sealed"}, entry.ID{}); err != nil {
			b.Fatal(err)
		}
	}
	owner, _ := newKey(1)
	gen, err := group.NewGenesis(group.Genesis{Name: "public", Write: group.WriteOpen, Read: group.ReadPublic,
		Quota: group.Quota{MaxBody: 64 << 10}}, owner, hlc.FromTime(now.Add(-time.Hour)))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []*Node{bare, loaded} {
		if outs, _ := n.ingest([][]byte{gen.Raw}); !outs[0].Stored() {
			b.Fatal(outs[0].Err)
		}
	}
	key, author := newKey(2)
	seq := uint64(0)
	var none, twenty time.Duration
	for b.Loop() {
		b.StopTimer()
		posts := make([][]byte, rounds)
		for i := range posts {
			seq++
			body, _ := group.EncodePost(group.Post{Text: fmt.Sprint(seq)})
			e, err := entry.Sign(entry.Entry{Group: gen.ID, Author: author, Seq: seq, HLC: gen.HLC + hlc.Timestamp(seq)<<16,
				Kind: group.KindPost, Body: body}, key)
			if err != nil {
				b.Fatal(err)
			}
			posts[i] = e.Raw
		}
		b.StartTimer()
		for _, raw := range posts {
			for k, n := range []*Node{bare, loaded} {
				t := time.Now()
				outs, err := n.ingest([][]byte{raw})
				d := time.Since(t)
				if err != nil || !outs[0].Stored() {
					b.Fatalf("ingest: %v, %+v", err, outs[0])
				}
				if k == 0 {
					none += d
				} else {
					twenty += d
				}
			}
		}
	}
	per := float64(b.N * rounds)
	b.ReportMetric(float64(none.Microseconds())/per, "µs/ingest-none")
	b.ReportMetric(float64(twenty.Microseconds())/per, "µs/ingest-20-private")
	b.ReportMetric(twenty.Seconds()/none.Seconds(), "ratio")
}

// BenchmarkPostDuringFirstSync measures the latency of local posts (signed,
// committed with fsync, indexed) on a node holding a 100,000-entry group:
// idle; while a peer that only reads (another process: readerProcess)
// fetches the whole group over libp2p in the first sync since the node
// opened (so the group's reconciliation index loads, and every entry is
// read), and in a later one (the index loaded); and while a fresh node
// joins the group, verifying and storing it in this same process, so that
// its work shares the two cores with the posts. Last, the posts of a
// joining node itself, to a group of its own, while it joins. Posts come
// every 2 ms.
func BenchmarkPostDuringFirstSync(b *testing.B) {
	source := newNode(b, true)
	if res, err := source.Import(bytes.NewReader(import100k())); err != nil || res.Stored != 100_000 {
		b.Fatalf("seeding the source: %v", err)
	}
	gs, _ := source.Store.Groups()
	big := gs[0].ID
	own, err := source.CreateGroup(openGenesis())
	if err != nil {
		b.Fatal(err)
	}
	nw, err := source.StartNetwork([]string{"/ip4/127.0.0.1/tcp/0"})
	if err != nil {
		b.Fatal(err)
	}
	defer nw.Close()
	// post writes to group g of node n, in a trace region named for its
	// phase, for an execution trace (-test.trace) to tell where the slow
	// ones wait.
	post := func(n *Node, g entry.ID, phase string) time.Duration {
		t := time.Now()
		trace.WithRegion(context.Background(), phase, func() {
			if _, err := n.Post(g, group.Post{Text: "while"}, entry.ID{}); err != nil {
				b.Fatal(err)
			}
		})
		return time.Since(t)
	}
	// postWhile posts to g of n every 2 ms while run runs.
	postWhile := func(n *Node, g entry.ID, phase string, lat *[]time.Duration, run func() error) {
		done := make(chan error, 1)
		go func() { done <- run() }()
		for {
			select {
			case err := <-done:
				if err != nil {
					b.Fatal(err)
				}
				return
			default:
				*lat = append(*lat, post(n, g, phase))
				time.Sleep(2 * time.Millisecond)
			}
		}
	}
	read := readerProcess(b, nw.Addrs()[0], big, 100_000)
	var idle, first, later, joining, ownJoin []time.Duration
	// join has a fresh node fetch the big group while the source posts,
	// or, with ownPosts, while the joining node posts to a group of its own.
	join := func(ownPosts bool) {
		n := newNode(b, true)
		mine, err := n.CreateGroup(openGenesis())
		if err != nil {
			b.Fatal(err)
		}
		joiner, err := n.StartNetwork(nil)
		if err != nil {
			b.Fatal(err)
		}
		defer n.Close()
		defer joiner.Close()
		fetch := func() error {
			res, err := joiner.SyncWith(context.Background(), nw.Addrs()[0], big)
			if err == nil && res.Received != 100_000 {
				err = fmt.Errorf("received %d", res.Received)
			}
			return err
		}
		if ownPosts {
			postWhile(n, mine, "own-join", &ownJoin, fetch)
		} else {
			postWhile(source, own, "join", &joining, fetch)
		}
	}
	for b.Loop() {
		b.StopTimer()
		for range 200 {
			idle = append(idle, post(source, own, "idle"))
			time.Sleep(2 * time.Millisecond)
		}
		source.idx.mu.Lock()
		delete(source.idx.trees, big) // as after a restart: the next sync loads the index
		source.idx.mu.Unlock()
		b.StartTimer()
		postWhile(source, own, "first", &first, read)
		postWhile(source, own, "later", &later, read)
		b.StopTimer()
		source.idx.mu.Lock()
		delete(source.idx.trees, big)
		source.idx.mu.Unlock()
		b.StartTimer()
		join(false)
		join(true)
	}
	q := func(ds []time.Duration, p float64) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return float64(s[int(p*float64(len(s)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(idle, 0.5), "idle-p50-ms")
	b.ReportMetric(q(idle, 0.99), "idle-p99-ms")
	b.ReportMetric(q(first, 0.5), "first-p50-ms")
	b.ReportMetric(q(first, 0.99), "first-p99-ms")
	b.ReportMetric(q(first, 1), "first-max-ms")
	b.ReportMetric(q(later, 0.99), "later-p99-ms")
	b.ReportMetric(q(joining, 0.99), "join-p99-ms")
	b.ReportMetric(q(joining, 1), "join-max-ms")
	b.ReportMetric(q(ownJoin, 0.99), "own-join-p99-ms")
	b.ReportMetric(q(ownJoin, 1), "own-join-max-ms")
	b.ReportMetric(q(first, 0.99)/q(idle, 0.99), "first/idle-p99")
}

// readGroup fetches all of group g from the node at addr as a joiner
// does (Negentropy from nothing, then Gets of wire.MaxGet ids in the
// peer's order), and drops what it reads.
func readGroup(nw *Network, addr string, g entry.ID, want int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := transport.Dial(ctx, nw.Host, addr)
	if err != nil {
		return err
	}
	s, err := transport.Open(ctx, nw.Host, p, wire.SyncProtocol)
	if err != nil {
		return err
	}
	defer s.Close()
	c := newConn(s)
	if reply, err := c.ask(wire.Open{Version: wire.Version, Group: g}); err != nil {
		return err
	} else if _, ok := reply.(wire.Ack); !ok {
		return fmt.Errorf("%T in answer to open", reply)
	}
	var empty negentropy.Tree
	sess, _ := negentropy.New(&empty, reconFrame)
	var need []negentropy.ID
	for msg := sess.Initiate(); msg != nil; {
		reply, err := c.ask(wire.Recon{Msg: msg})
		if err != nil {
			return err
		}
		r, ok := reply.(wire.Recon)
		if !ok {
			return fmt.Errorf("%T in answer to recon", reply)
		}
		if msg, _, need, err = sess.Reconcile(r.Msg, nil, need); err != nil {
			return err
		}
	}
	ids := entryIDs(need)
	got := 0
	for len(ids) > 0 {
		ask := ids[:min(len(ids), wire.MaxGet)]
		ids = ids[len(ask):]
		reply, err := c.ask(wire.Get{IDs: ask})
		if err != nil {
			return err
		}
		es, ok := reply.(wire.Entries)
		if !ok {
			return fmt.Errorf("%T in answer to get", reply)
		}
		got += len(es.Raws)
	}
	if got != want {
		return fmt.Errorf("read %d entries of %d", got, want)
	}
	return nil
}

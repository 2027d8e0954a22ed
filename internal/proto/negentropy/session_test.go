package negentropy

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// sets draws a client and a server set: shared items, and items only one
// side has, with timestamps that often collide (so id prefixes matter).
func sets(rng *rand.Rand, n int, diff float64) (client, server []Item, onlyClient, onlyServer []ID) {
	for range n {
		it := Item{Timestamp: 1_000_000 + uint64(rng.IntN(n/4+1))}
		for j := range it.ID {
			it.ID[j] = byte(rng.Uint32())
		}
		if rng.Float64() >= diff {
			client, server = append(client, it), append(server, it)
			continue
		}
		if rng.IntN(2) == 0 {
			client, onlyClient = append(client, it), append(onlyClient, it.ID)
		} else {
			server, onlyServer = append(server, it), append(onlyServer, it.ID)
		}
	}
	sortIDs(onlyClient)
	sortIDs(onlyServer)
	return
}

// reconcile runs a whole reconciliation between two of our sessions and
// returns what the client learned, and the rounds and bytes it took.
func reconcile(t testing.TB, client, server Storage, limit int) (have, need []ID, rounds, bytesSent int) {
	t.Helper()
	c, err := New(client, limit)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := New(server, limit)
	msg := c.Initiate()
	for msg != nil {
		rounds++
		bytesSent += len(msg)
		if limit != 0 && len(msg) > limit {
			t.Fatalf("client message of %d bytes exceeds the frame limit %d", len(msg), limit)
		}
		reply, _, _, err := s.Reconcile(msg, nil, nil)
		if err != nil {
			t.Fatalf("server: %v", err)
		}
		if limit != 0 && len(reply) > limit {
			t.Fatalf("server message of %d bytes exceeds the frame limit %d", len(reply), limit)
		}
		bytesSent += len(reply)
		if msg, have, need, err = c.Reconcile(reply, have, need); err != nil {
			t.Fatalf("client: %v", err)
		}
	}
	sortIDs(have)
	sortIDs(need)
	if len(slices.Compact(slices.Clone(have))) != len(have) || len(slices.Compact(slices.Clone(need))) != len(need) {
		t.Fatal("have or need lists an id twice")
	}
	return have, need, rounds, bytesSent
}

func TestAgainstNaiveDifference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{0, 1, 2, 31, 32, 33, 100, 1000, 20_000} {
		for _, diff := range []float64{0, 0.001, 0.1, 0.5, 1} {
			for _, limit := range []int{0, MinFrame} {
				c, s, onlyC, onlyS := sets(rng, n, diff)
				have, need, rounds, _ := reconcile(t, NewVector(c), NewVector(s), limit)
				if !slices.Equal(have, onlyC) || !slices.Equal(need, onlyS) {
					t.Fatalf("n=%d diff=%v limit=%d: have %d want %d, need %d want %d", n, diff, limit, len(have), len(onlyC), len(need), len(onlyS))
				}
				if rounds == 0 {
					t.Fatalf("n=%d: no round", n)
				}
			}
		}
	}
}

// TestLargeTimestamps reconciles sets whose timestamps use all 64 bits but
// the last value, as hearsay's hlc values (about 2^57 today) need.
func TestLargeTimestamps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c, s, onlyC, onlyS := sets(rng, 500, 0.2)
	for i := range c {
		c[i].Timestamp = Infinity - 1 - uint64(len(c)) + c[i].Timestamp%1000
	}
	for i := range s {
		s[i].Timestamp = Infinity - 1 - uint64(len(c)) + s[i].Timestamp%1000
	}
	have, need, _, _ := reconcile(t, NewVector(c), NewVector(s), 0)
	if !slices.Equal(have, onlyC) || !slices.Equal(need, onlyS) {
		t.Fatalf("have %d want %d, need %d want %d", len(have), len(onlyC), len(need), len(onlyS))
	}
}

// TestFrameLimitedJoinIsFast: an empty client learns a large set in about
// as many rounds as frames it takes to carry the ids.
func TestFrameLimitedJoinIsFast(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	_, s, _, onlyS := sets(rng, 50_000, 1)
	have, need, rounds, _ := reconcile(t, NewVector(nil), NewVector(s), 64<<10)
	sortIDs(need)
	if len(have) != 0 || !slices.Equal(need, onlyS) {
		t.Fatalf("have %d, need %d of %d", len(have), len(need), len(onlyS))
	}
	if limit := 2 + 32*len(s)/(64<<10-frameSlack); rounds > limit {
		t.Fatalf("%d rounds to learn %d ids in 64 KiB frames, want at most %d", rounds, len(s), limit)
	}
}

func TestAccumulator(t *testing.T) {
	var a, b Accumulator
	max := ID{}
	for i := range max {
		max[i] = 0xff
	}
	a.Add(max)
	a.Add(ID{1}) // 2^256 - 1 + 1 wraps to 0
	if a != (Accumulator{}) {
		t.Fatalf("no wrap: %x", a)
	}
	b.Add(ID{5})
	c := b
	c.Add(ID{7})
	if d := c.Sub(b); d != (Accumulator{7}) {
		t.Fatalf("range sum %v", d)
	}
	if got := (Accumulator{}).Sub(Accumulator{1}); got != (Accumulator{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}) {
		t.Fatalf("borrow across limbs: %x", got)
	}
}

func TestVarint(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1 << 35, ^uint64(0)} {
		r := &reader{b: appendVarint(nil, v)}
		if got := r.varint(); r.err != nil || got != v || len(r.b) != 0 {
			t.Fatalf("%d: got %d, %v", v, got, r.err)
		}
	}
	for _, bad := range [][]byte{{0x80, 0x01}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, {0x81}} {
		r := &reader{b: bad}
		if r.varint(); r.err == nil {
			t.Fatalf("%x decoded", bad)
		}
	}
}

func TestServerRefusesGarbage(t *testing.T) {
	s, _ := New(NewVector(nil), 0)
	for _, msg := range [][]byte{
		{},
		{Version, 0x01},                   // a bound with no mode
		{Version, 0x00, 0x00, 0x07},       // mode 7
		{Version, 0x00, 0x21},             // a 33-byte id prefix
		{Version, 0x00, 0x00, 0x02, 0x05}, // 5 ids announced, none sent
		{Version, 0x00, 0x00, 0x01, 0x00}, // a truncated fingerprint
	} {
		if _, _, _, err := s.Reconcile(msg, nil, nil); err == nil {
			t.Errorf("%x was accepted", msg)
		}
	}
	if out, _, _, err := s.Reconcile([]byte{0x62}, nil, nil); err != nil || !bytes.Equal(out, []byte{Version}) {
		t.Fatalf("a newer version: %x %v, want our version alone", out, err)
	}
}

// FuzzServer feeds arbitrary messages to a server: it must answer or refuse,
// never panic, and stay within its frame limit.
func FuzzServer(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	c, s, _, _ := sets(rng, 200, 0.2)
	client := NewVector(c)
	cs, _ := New(client, 0)
	f.Add(cs.Initiate())
	f.Add([]byte{Version, 0x00, 0x00, 0x02, 0x01})
	server := NewVector(s)
	f.Fuzz(func(t *testing.T, msg []byte) {
		sv, _ := New(server, MinFrame)
		out, _, _, err := sv.Reconcile(msg, nil, nil)
		if err == nil && len(out) > MinFrame {
			t.Fatalf("answer of %d bytes", len(out))
		}
		cl, _ := New(client, 0)
		cl.Initiate()
		cl.Reconcile(msg, nil, nil)
	})
}

func ExampleSession() {
	a := NewVector([]Item{{Timestamp: 1, ID: ID{1}}, {Timestamp: 2, ID: ID{2}}})
	b := NewVector([]Item{{Timestamp: 2, ID: ID{2}}, {Timestamp: 3, ID: ID{3}}})
	client, _ := New(a, 0)
	server, _ := New(b, 0)
	var have, need []ID
	for msg := client.Initiate(); msg != nil; {
		reply, _, _, _ := server.Reconcile(msg, nil, nil)
		msg, have, need, _ = client.Reconcile(reply, have, need)
	}
	fmt.Printf("have %02x, need %02x\n", have[0][0], need[0][0])
	// Output: have 01, need 03
}

func sortIDs(ids []ID) { slices.SortFunc(ids, func(a, b ID) int { return bytes.Compare(a[:], b[:]) }) }

// TestNeedInServerOrder: a client fetching what it needs in the order
// reconciliation returned it receives entries in the server's log order.
func TestNeedInServerOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	_, s, _, _ := sets(rng, 5000, 1)
	server := NewVector(s)
	c, _ := New(NewVector(nil), 0)
	sv, _ := New(server, 0)
	var need []ID
	for msg := c.Initiate(); msg != nil; {
		reply, _, _, _ := sv.Reconcile(msg, nil, nil)
		msg, _, need, _ = c.Reconcile(reply, nil, need)
	}
	if len(need) != server.Size() {
		t.Fatalf("need %d of %d", len(need), server.Size())
	}
	for i, id := range need {
		if server.Item(i).ID != id {
			t.Fatalf("need[%d] is not the server's item %d", i, i)
		}
	}
}

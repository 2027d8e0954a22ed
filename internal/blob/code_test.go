package blob

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"lukechampine.com/blake3"
)

// encodeAll codes a whole file and returns every stripe's shards and the table.
func encodeAll(t testing.TB, p Params, data, key []byte) ([][][]byte, Table) {
	c, err := NewCoder(p, int64(len(data)), key)
	if err != nil {
		t.Fatal(err)
	}
	var stripes [][][]byte
	var table Table
	for i := range p.Stripes(int64(len(data))) {
		off := i * p.SegmentSize
		shards, err := c.Encode(i, data[off:off+p.SegmentLen(int64(len(data)), i)])
		if err != nil {
			t.Fatal(err)
		}
		cp := make([][]byte, len(shards))
		for j, s := range shards {
			cp[j] = bytes.Clone(s)
			table = append(table, IDOf(s))
		}
		stripes = append(stripes, cp)
	}
	return stripes, table
}

func TestRoundTripWithLostShards(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	key := bytes.Repeat([]byte{7}, KeySize)
	for _, tc := range []struct {
		size   int
		k, m   int
		sealed bool
	}{
		{0, 3, 7, false}, {1, 1, 0, false}, {MinSegmentSize, 4, 4, false}, {3*MinSegmentSize + 5, 4, 4, true},
		{10*MinSegmentSize - 1, 3, 7, true}, {5 * MinSegmentSize, 10, 20, false}, {123457, 29, 51, true},
	} {
		p := Params{SegmentSize: MinSegmentSize, K: tc.k, M: tc.m, Sealed: tc.sealed}
		data := make([]byte, tc.size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		var k []byte
		if tc.sealed {
			k = key
		}
		stripes, table := encodeAll(t, p, data, k)
		if len(table) != p.Stripes(int64(tc.size))*p.N() {
			t.Fatalf("%+v: table of %d", tc, len(table))
		}
		c, _ := NewCoder(p, int64(tc.size), k)
		var got []byte
		for i, shards := range stripes {
			for _, j := range rng.Perm(p.N())[:tc.m] { // lose any m of them
				shards[j] = nil
			}
			seg, err := c.Decode(i, shards)
			if err != nil {
				t.Fatalf("%+v stripe %d: %v", tc, i, err)
			}
			got = append(got, seg...)
			if tc.m > 0 {
				if err := c.Rebuild(i, shards); err != nil {
					t.Fatal(err)
				}
				for j, s := range shards {
					if IDOf(s) != table.Shard(p, i, j) {
						t.Fatalf("%+v: rebuilt shard %d of stripe %d differs", tc, j, i)
					}
				}
			}
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%+v: decoded content differs", tc)
		}
	}
}

func TestTooFewShardsAndWrongKey(t *testing.T) {
	p := Params{SegmentSize: MinSegmentSize, K: 2, M: 2, Sealed: true}
	key := bytes.Repeat([]byte{1}, KeySize)
	data := bytes.Repeat([]byte("x"), 5000)
	stripes, _ := encodeAll(t, p, data, key)
	c, _ := NewCoder(p, int64(len(data)), key)
	if _, err := c.Decode(0, [][]byte{stripes[0][0], nil, nil, nil}); err == nil {
		t.Fatal("decoded from one of the two shards it needs")
	}
	other, _ := NewCoder(p, int64(len(data)), bytes.Repeat([]byte{2}, KeySize))
	if _, err := other.Decode(0, stripes[0]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("another key: %v, want ErrCorrupt", err)
	}
	ct := bytes.Join(stripes[0][:2], nil)
	if bytes.Contains(ct, []byte("xxxxxxxx")) {
		t.Fatal("a sealed shard carries plaintext")
	}
}

func TestObjectChecks(t *testing.T) {
	data := bytes.Repeat([]byte{9}, 3*BlockSize+10)
	id, hs := IDOf(data), BlockHashes(data)
	if err := CheckHashes(id, len(data), hs); err != nil {
		t.Fatal(err)
	}
	if err := CheckHashes(id, len(data)-1, hs); err == nil {
		t.Fatal("accepted hashes for another size")
	}
	if err := CheckBlock(hs, len(data), 3, data[3*BlockSize:]); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(data[:BlockSize])
	bad[5] ^= 1
	if err := CheckBlock(hs, len(data), 0, bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a flipped bit: %v", err)
	}
}

func TestManifestChecks(t *testing.T) {
	h := make([]byte, 32)
	ok := Manifest{Size: 10, Segment: SegmentSize, K: 3, M: 7, Content: h, Table: h}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []Manifest{
		{Size: 10, Segment: SegmentSize, K: 0, M: 7, Content: h, Table: h},
		{Size: 10, Segment: 100, K: 3, M: 7, Content: h, Table: h},
		{Size: 10, Segment: SegmentSize, K: 200, M: 100, Content: h, Table: h},
		{Size: 10, Segment: SegmentSize, K: 3, M: 7, Content: h[:5], Table: h},
		{Size: 1 << 62, Segment: MinSegmentSize, K: 3, M: 7, Content: h, Table: h},
		{Size: 10, Segment: SegmentSize, K: 3, M: 7, Content: h, Table: h, Key: h[:3]},
	} {
		if m.Check() == nil {
			t.Errorf("accepted %+v", m)
		}
	}
}

func TestDefaultParams(t *testing.T) {
	for peers, want := range map[int][2]int{0: {3, 7}, 1: {3, 7}, 2: {1, 1}, 4: {2, 2}, 8: {3, 5}, 12: {3, 7}, 1000: {10, 20}} {
		p := DefaultParams(peers)
		if p.K != want[0] || p.M != want[1] || p.Check() != nil {
			t.Errorf("%d peers: k=%d m=%d, want %v", peers, p.K, p.M, want)
		}
	}
}

func TestHashBlockIsBLAKE3(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, BlockSize)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sizes := []int{1, 63, 64, 65, 1023, 1024, 1025, 2048, 8191, 8192, 8193, BlockSize - 1, BlockSize}
	for range 50 {
		sizes = append(sizes, 1+rng.IntN(BlockSize))
	}
	for _, n := range sizes {
		if hashBlock(data[:n]) != ID(blake3.Sum256(data[:n])) {
			t.Fatalf("a block of %d bytes hashes differently", n)
		}
	}
}

// FuzzDecodeTable: no input panics the table decoder, and a table it
// accepts is one whose id the manifest names and that encodes back.
func FuzzDecodeTable(f *testing.F) {
	good := Table{{1}, {2}, {3}, {4}}.Encode()
	f.Add(uint64(2*MinSegmentSize), uint16(1), uint16(1), good)
	f.Add(uint64(1), uint16(3), uint16(7), good[:40])
	f.Fuzz(func(t *testing.T, size uint64, k, m uint16, b []byte) {
		id := IDOf(b)
		man := &Manifest{Size: size % (1 << 30), Segment: MinSegmentSize, K: k, M: m, Content: make([]byte, 32), Table: id[:]}
		if man.Check() != nil {
			return
		}
		tb, err := DecodeTable(man, b)
		if err != nil {
			return
		}
		if !bytes.Equal(tb.Encode(), b) || len(tb) != man.Stripes()*man.Params().N() {
			t.Fatalf("a table of %d ids for %d stripes of %d does not round-trip", len(tb), man.Stripes(), man.Params().N())
		}
	})
}

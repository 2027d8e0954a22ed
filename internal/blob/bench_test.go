package blob

import (
	"math/rand/v2"
	"testing"

	"github.com/klauspost/reedsolomon"
	"lukechampine.com/blake3"
)

// BenchmarkPutPath compares the put path's coding and hashing of one
// segment (Encode, every shard's ObjectID, the content hash) with the raw
// work it is made of: klauspost's Encode of the same segment and BLAKE3 of
// the same bytes (the segment and every shard), side by side. The ratio
// raw/hearsay of ns/op is the target (≥ 0.7).
func BenchmarkPutPath(b *testing.B) {
	for _, km := range [][2]int{{4, 4}, {3, 7}, {10, 20}} {
		p := Params{SegmentSize: SegmentSize, K: km[0], M: km[1]}
		seg := make([]byte, p.SegmentSize)
		rng := rand.New(rand.NewPCG(1, 1))
		for i := range seg {
			seg[i] = byte(rng.Uint32())
		}
		name := func(s string) string { return s + "/k=" + itoa(p.K) + ",m=" + itoa(p.M) }
		b.Run(name("hearsay"), func(b *testing.B) {
			c, err := NewCoder(p, int64(len(seg)), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(seg)))
			for b.Loop() {
				content := NewContentHasher()
				content.Add(seg)
				shards, err := c.Encode(0, seg)
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range shards {
					IDOf(s)
				}
				content.Sum()
			}
		})
		b.Run(name("raw"), func(b *testing.B) {
			rs, err := reedsolomon.New(p.K, p.M)
			if err != nil {
				b.Fatal(err)
			}
			sl := (len(seg) + p.K - 1) / p.K
			buf := make([]byte, p.N()*sl)
			shards := make([][]byte, p.N())
			for j := range shards {
				shards[j] = buf[j*sl : (j+1)*sl]
			}
			b.SetBytes(int64(len(seg)))
			for b.Loop() {
				blake3.Sum256(seg)
				copy(buf, seg)
				if err := rs.Encode(shards); err != nil {
					b.Fatal(err)
				}
				for _, s := range shards {
					blake3.Sum256(s)
				}
			}
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

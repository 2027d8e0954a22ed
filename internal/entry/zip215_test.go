package entry

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"hearsay/internal/hlc"

	"filippo.io/edwards25519"
	"lukechampine.com/blake3"
)

type zip215Case struct{ vk, sig []byte }

// zip215Cases reads testdata/zip215.json: the ZIP-215 edge cases, each a
// signature valid under the rule on the message the file names.
func zip215Cases(t *testing.T) ([]byte, []zip215Case) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "zip215.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Message string
		Cases   []struct{ VK, Sig string }
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	var cs []zip215Case
	for _, c := range f.Cases {
		vk, err1 := hex.DecodeString(c.VK)
		sig, err2 := hex.DecodeString(c.Sig)
		if err := errors.Join(err1, err2); err != nil || len(vk) != 32 || len(sig) != 64 {
			t.Fatalf("case %d: %v", len(cs), err)
		}
		cs = append(cs, zip215Case{vk, sig})
	}
	if len(cs) != 196 {
		t.Fatalf("%d cases, want 196", len(cs))
	}
	return []byte(f.Message), cs
}

// TestZIP215VectorsAreTheEdgeCases derives the list as the ZIP-215
// reference does: every pair (A, R) of the encodings of small-order points,
// canonical and not, with s = 0.
func TestZIP215VectorsAreTheEdgeCases(t *testing.T) {
	_, cs := zip215Cases(t)
	var encs []string
	for _, c := range cs {
		if !slices.Contains(encs, string(c.vk)) {
			encs = append(encs, string(c.vk))
		}
	}
	if len(encs) != 14 {
		t.Fatalf("%d distinct encodings of A, want 14 (8 canonical, 6 not)", len(encs))
	}
	canonical := 0
	for _, e := range encs {
		p, err := new(edwards25519.Point).SetBytes([]byte(e))
		if err != nil {
			t.Fatalf("%x does not decode: %v", e, err)
		}
		if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) != 1 {
			t.Fatalf("%x is not of small order", e)
		}
		if string(p.Bytes()) == e {
			canonical++
		}
	}
	if canonical != 8 {
		t.Fatalf("%d canonical encodings, want the 8 small-order points", canonical)
	}
	var want []string
	for _, a := range encs {
		for _, r := range encs {
			want = append(want, a+r+string(make([]byte, 32)))
		}
	}
	var got []string
	for _, c := range cs {
		got = append(got, string(c.vk)+string(c.sig))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatal("the cases are not all pairs of the 14 encodings with s = 0")
	}
}

// TestZIP215Vectors: every edge case is valid alone and in a batch, so the
// two agree; crypto/ed25519 refuses some of them, which is why it is not
// the rule.
func TestZIP215Vectors(t *testing.T) {
	msg, cs := zip215Cases(t)
	stdRefuses := 0
	for i, c := range cs {
		if !ValidSignature(c.vk, msg, c.sig) {
			t.Errorf("case %d: refused alone", i)
		}
		if !ed25519.Verify(c.vk, msg, c.sig) {
			stdRefuses++
		}
	}
	t.Logf("crypto/ed25519.Verify refuses %d of the %d cases", stdRefuses, len(cs))
	if stdRefuses == 0 {
		t.Error("crypto/ed25519 accepts every case: the vectors test nothing")
	}

	// As entries: a small-order A and R with s = 0 sign any message, so each
	// case is a valid signature of an entry by that author.
	es := make([]*Signed, len(cs))
	for i, c := range cs {
		es[i] = edgeEntry(t, c, uint64(i+1))
		if err := es[i].Verify(); err != nil {
			t.Errorf("case %d as an entry: %v", i, err)
		}
	}
	for i, err := range VerifyBatch(es, nil) {
		if err != nil {
			t.Errorf("case %d in the batch of all: %v", i, err)
		}
	}
	// Each one in a batch of honest signatures, so no case rides on another.
	honest := honestEntries(t, 15)
	for i := range es {
		batch := append(slices.Clone(honest), es[i])
		for j, err := range VerifyBatch(batch, NewKeys()) {
			if err != nil {
				t.Errorf("case %d in an honest batch, entry %d: %v", i, j, err)
			}
		}
	}
}

// TestBatchAgreesWithSingleOnInvalid: what the rule refuses alone it
// refuses in a batch, and a failed batch names exactly its bad entries.
func TestBatchAgreesWithSingleOnInvalid(t *testing.T) {
	msg, cs := zip215Cases(t)
	ell, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	var bad []zip215Case
	for _, c := range cs[:20] {
		// s = ℓ: non-canonical s is refused under ZIP-215.
		b := zip215Case{c.vk, slices.Concat(c.sig[:32], ell)}
		bad = append(bad, b)
		// s with a high bit set.
		b = zip215Case{c.vk, slices.Clone(c.sig)}
		b.sig[63] |= 0x80
		bad = append(bad, b)
	}
	// A that is not on the curve (y = 2 has no x).
	notOnCurve := make([]byte, 32)
	notOnCurve[0] = 2
	if _, err := new(edwards25519.Point).SetBytes(notOnCurve); err == nil {
		t.Fatal("y = 2 decodes")
	}
	bad = append(bad, zip215Case{notOnCurve, cs[0].sig}, zip215Case{cs[0].vk, slices.Concat(notOnCurve, cs[0].sig[32:])})
	for i, b := range bad {
		if ValidSignature(b.vk, msg, b.sig) {
			t.Errorf("bad case %d accepted alone", i)
		}
	}

	honest := honestEntries(t, 63)
	tampered := *honest[10]
	tampered.Sig[5] ^= 1
	for i, b := range bad {
		e := edgeEntry(t, b, 1000+uint64(i))
		batch := append(slices.Clone(honest), e, &tampered)
		errs := VerifyBatch(batch, NewKeys())
		for j, err := range errs {
			wantBad := j >= len(honest)
			if (err != nil) != wantBad || wantBad && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("bad case %d: entry %d of the batch: %v", i, j, err)
			}
		}
	}
	for i, err := range VerifyBatch(honest, nil) {
		if err != nil {
			t.Fatalf("honest entry %d: %v", i, err)
		}
	}
}

// edgeEntry is an entry by c.vk carrying c.sig, whatever it signs.
func edgeEntry(t *testing.T, c zip215Case, seq uint64) *Signed {
	t.Helper()
	e := Entry{Group: ID{1}, Author: Author(c.vk), Seq: seq, HLC: hlc.New(1_767_225_600_000, 0), Kind: "post"}
	content := encodeContent(e)
	s := &Signed{Entry: e, ID: blake3.Sum256(content)}
	copy(s.Sig[:], c.sig)
	s.Raw = encodeSigned(content, s.Sig[:])
	d, err := Decode(s.Raw)
	if err != nil || d.ID != s.ID {
		t.Fatalf("edge entry does not decode: %v", err)
	}
	return d
}

func honestEntries(t *testing.T, n int) []*Signed {
	t.Helper()
	var out []*Signed
	for i := range n {
		key, a := testKey(byte(i%5 + 1))
		out = append(out, mustSign(t, Entry{Group: ID{1}, Author: a, Seq: uint64(i + 1), HLC: hlc.New(1_767_225_600_000, 0), Kind: "post"}, key))
	}
	return out
}

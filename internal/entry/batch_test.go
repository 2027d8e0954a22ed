package entry

import (
	"encoding/hex"
	"slices"
	"testing"

	"github.com/hdevalence/ed25519consensus"
)

// libraryBatch is ed25519consensus's batch verification of es: the
// equation batchValid must agree with.
func libraryBatch(es []*Signed) bool {
	v := ed25519consensus.NewBatchVerifier()
	for _, e := range es {
		v.Add(e.Author[:], signedMessage(e.ID), e.Sig[:])
	}
	return v.Verify()
}

// TestBatchEquationAgreesWithTheLibrary: the batch equation alone, without
// the fallback to single verification, accepts and refuses what
// ed25519consensus's does: each ZIP-215 edge case, and each bad case, in a
// batch of honest entries whose authors repeat (so their terms are summed),
// with one key cache across all the batches.
func TestBatchEquationAgreesWithTheLibrary(t *testing.T) {
	_, cs := zip215Cases(t)
	honest := honestEntries(t, 40)
	keys := NewKeys()
	check := func(name string, batch []*Signed, want bool) {
		t.Helper()
		if lib := libraryBatch(batch); lib != want {
			t.Fatalf("%s: ed25519consensus says %v, want %v", name, lib, want)
		}
		for range 2 { // the second time from the cache
			if got := batchValid(batch, keys); got != want {
				t.Fatalf("%s: batch equation says %v, want %v", name, got, want)
			}
		}
	}
	check("honest", honest, true)
	for i, c := range cs {
		check("edge case", append(slices.Clone(honest), edgeEntry(t, c, uint64(i+1))), true)
	}
	var all []*Signed
	for i, c := range cs {
		all = append(all, edgeEntry(t, c, uint64(i+1)))
	}
	check("all edge cases", all, true)

	ell, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	notOnCurve := make([]byte, 32)
	notOnCurve[0] = 2
	bad := []zip215Case{
		{cs[0].vk, slices.Concat(cs[0].sig[:32], ell)},        // s = ℓ
		{notOnCurve, cs[0].sig},                               // A not on the curve
		{cs[0].vk, slices.Concat(notOnCurve, cs[0].sig[32:])}, // R not on the curve
	}
	for i, b := range bad {
		check("bad case", append(slices.Clone(honest), edgeEntry(t, b, 100+uint64(i))), false)
	}
	tampered := *honest[7]
	tampered.Sig[40] ^= 1
	check("tampered s", append(slices.Clone(honest), &tampered), false)
	// A signature moved to another entry by the same author: the summed
	// author term must not hide it.
	moved := *honest[5]
	moved.Sig = honest[0].Sig
	check("moved signature", append(slices.Clone(honest), &moved), false)
}

func TestKeysAreBounded(t *testing.T) {
	keys := NewKeys()
	for i := range maxKeys + 10 {
		var a Author
		a[0], a[1] = byte(i), byte(i>>8)
		keys.point(a)
		if len(keys.points) > maxKeys {
			t.Fatalf("%d keys cached, bound %d", len(keys.points), maxKeys)
		}
	}
}

package store

import (
	"bytes"
	"errors"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/group"
)

// TestBatchFindsTheBadSignatures: a batch whose equation fails is verified
// one by one, so exactly its bad entries are refused, wherever they are.
func TestBatchFindsTheBadSignatures(t *testing.T) {
	s := memStore(t)
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOpen, group.DefaultQuota)
	es := []*entry.Signed{gen}
	for i := range 3*VerifyBatch + 7 {
		es = append(es, newAuthor(byte(2+i%7)).post(t, gen.ID, t0+int64(i), "p"))
	}
	rs := raws(es...)
	bad := map[int]bool{1: true, VerifyBatch: true, VerifyBatch + 1: true, len(rs) - 1: true}
	for i := range bad {
		rs[i] = bytes.Clone(rs[i])
		rs[i][len(rs[i])-3] ^= 0x10 // in s
	}
	for i, o := range s.Ingest(rs, t0) {
		switch {
		case bad[i] && !errors.Is(o.Err, entry.ErrBadSignature):
			t.Errorf("bad entry %d: %+v", i, o)
		case !bad[i] && !o.Stored():
			t.Errorf("good entry %d: %+v", i, o)
		}
	}
}

// TestHeldEntriesAreNotVerified: an entry the store holds, byte for byte, is
// set aside before verification; other bytes under the same id are not.
func TestHeldEntriesAreNotVerified(t *testing.T) {
	s := memStore(t)
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOwner, group.DefaultQuota)
	p, q := a.post(t, gen.ID, t0+1, "x"), a.post(t, gen.ID, t0+2, "y")
	mustStore(t, s, gen, p)
	tampered := bytes.Clone(p.Raw)
	tampered[len(tampered)-1] ^= 1
	pr := s.Prepare([][]byte{gen.Raw, p.Raw, q.Raw, tampered})
	if want := []bool{true, true, false, false}; !equalBools(pr.unverified, want) {
		t.Fatalf("unverified = %v, want %v", pr.unverified, want)
	}
	// Purged between Prepare and Commit: the set-aside entries are verified
	// and stored again.
	if err := s.Purge(gen.ID); err != nil {
		t.Fatal(err)
	}
	out := s.Commit(pr, t0)
	if !out[0].Stored() || !out[1].Stored() || !out[2].Stored() || !errors.Is(out[3].Err, entry.ErrBadSignature) {
		t.Fatalf("after purge: %+v", out)
	}
	pr = s.Prepare([][]byte{p.Raw})
	pr.entries[0].Sig[0] ^= 1 // as if it had not verified: still held, it is a duplicate
	if o := s.Commit(pr, t0)[0]; !o.Duplicate || o.Err != nil {
		t.Fatalf("held: %+v", o)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestGetRawMany answers in the order asked, nil for what is not held.
func TestGetRawMany(t *testing.T) {
	s := memStore(t)
	a := newAuthor(1)
	gen := a.genesis(t, group.WriteOwner, group.DefaultQuota)
	p1, p2 := a.post(t, gen.ID, t0+1, "x"), a.post(t, gen.ID, t0+2, "y")
	other := newAuthor(2).genesis(t, group.WriteOwner, group.DefaultQuota)
	mustStore(t, s, gen, p1, p2, other)
	raws, err := s.GetRawMany(gen.ID, []entry.ID{p2.ID, {9}, gen.ID, other.ID, p1.ID})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{p2.Raw, nil, gen.Raw, nil, p1.Raw}
	for i := range want {
		if !bytes.Equal(raws[i], want[i]) {
			t.Fatalf("raw %d: %x, want %x", i, raws[i], want[i])
		}
	}

	// In log order, as a joiner asks, with gaps, an id not held and one
	// asked again: each is read from the walk or looked up, never mistaken.
	p3, p4, p5 := a.post(t, gen.ID, t0+3, "z"), a.post(t, gen.ID, t0+4, "w"), a.post(t, gen.ID, t0+5, "v")
	mustStore(t, s, p3, p4, p5)
	raws, err = s.GetRawMany(gen.ID, []entry.ID{gen.ID, p1.ID, p2.ID, p4.ID, {9}, p5.ID, p3.ID, other.ID, p4.ID, p5.ID})
	if err != nil {
		t.Fatal(err)
	}
	want = [][]byte{gen.Raw, p1.Raw, p2.Raw, p4.Raw, nil, p5.Raw, p3.Raw, nil, p4.Raw, p5.Raw}
	for i := range want {
		if !bytes.Equal(raws[i], want[i]) {
			t.Fatalf("in log order, raw %d: %x, want %x", i, raws[i], want[i])
		}
	}
}
